// What a WireGuard user receives: the client configuration file in the wg-quick format that the
// WireGuard apps (Windows, macOS, iOS, Android, Linux wg-quick) import, its file name (the apps
// turn it into the tunnel name) and a QR code of it for the mobile apps' "scan from QR code".
//
// Every value is validated before it is written, so nothing a user or an admin typed can add a
// line or a key to the file. The parser exists so tests and the bench can check what was sent.
//
// References: wg(8) "CONFIGURATION FILE FORMAT", wg-quick(8) "CONFIGURATION"; tunnel name rule
// [a-zA-Z0-9_=+.-]{1,15} from wg-quick(8) and wireguard-android's Tunnel.NAME_PATTERN; MTU range
// 576-65535 from wireguard-windows' and wireguard-apple's config parsers.

import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

import QRCode from 'qrcode';

import { WardenError } from '../domain/errors.js';
import { isWireguardKey } from '../router/wireguardKeys.js';

export interface WireguardClientConfig {
  /** The client's private key (base64 of 32 bytes). */
  privateKey: string;
  /** The client's tunnel address, e.g. `10.66.0.5/32` (prefix optional, as wg-quick allows). */
  address: string;
  /** DNS servers (IPs) and/or search domains (host names). Empty or absent: no DNS line. */
  dns?: string[];
  presharedKey?: string;
  serverPublicKey: string;
  /** `host:port`; an IPv6 host in brackets: `[2001:db8::1]:51820`. */
  endpoint: string;
  /** CIDRs routed into the tunnel, e.g. `0.0.0.0/0`, `::/0`. */
  allowedIps: string[];
  /** Seconds, 0-65535; 0 means off. */
  persistentKeepalive?: number;
  mtu?: number;
}

/** The configuration field a validation error is about (`WardenError.details.field`). */
export type WireguardConfigField = keyof WireguardClientConfig | 'text';

const MIN_MTU = 576;
const MAX_U16 = 65535;

/** Android and wg-quick on Linux limit tunnel/interface names to 15 characters of this set. */
const TUNNEL_NAME_MAX = 15;
const TUNNEL_NAME_PREFIX = 'warden';

function invalid(field: WireguardConfigField, problem: string, line?: number): WardenError {
  const where = line === undefined ? '' : ` (line ${line})`;
  return new WardenError('invalid-input', `WireGuard config: ${field}${where} ${problem}`, line === undefined ? { field } : { field, line });
}

// ---------------------------------------------------------------------------------------------
// Value checks (shared with the parser, and with pppInstructions for server names)

/** Characters that must never reach the file: controls (newline, CR, NUL...), line separators and `#` (a comment in wg). */
const UNSAFE_CHARS = /[\p{Cc}\p{Zl}\p{Zp}#]/u;

/** A DNS name in ASCII (IDNs must be given as punycode): labels of letters, digits and inner hyphens. */
function isHostName(text: string): boolean {
  if (typeof text !== 'string' || text.length === 0 || text.length > 253) return false;
  const labels = text.split('.');
  if (!labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label))) return false;
  // An all-numeric last label is never a real TLD; it means a mistyped IPv4 address like 10.0.0.256.
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/** An IPv4 or IPv6 address without a zone id (`%eth0` is meaningless on another machine). */
function isPlainIp(text: string): 4 | 6 | 0 {
  if (isIPv4(text)) return 4;
  if (!text.includes('%') && isIPv6(text)) return 6;
  return 0;
}

/** A host name or an IP address (IPv6 without brackets). */
export function isHostOrIp(text: string): boolean {
  return typeof text === 'string' && (isPlainIp(text) !== 0 || isHostName(text));
}

function isCidr(text: string, prefixRequired: boolean): boolean {
  if (typeof text !== 'string') return false;
  const slash = text.indexOf('/');
  const ip = slash === -1 ? text : text.slice(0, slash);
  const version = isPlainIp(ip);
  if (version === 0) return false;
  if (slash === -1) return !prefixRequired;
  const prefix = text.slice(slash + 1);
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function checkKey(field: 'privateKey' | 'serverPublicKey' | 'presharedKey', value: unknown, line?: number): void {
  if (typeof value !== 'string' || !isWireguardKey(value)) {
    throw invalid(field, 'must be a WireGuard key: 44 characters of base64 encoding 32 bytes', line);
  }
}

function checkEndpoint(value: unknown, line?: number): void {
  if (typeof value !== 'string') throw invalid('endpoint', 'must be host:port', line);
  let host: string;
  let port: string;
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2]!;
    if (isPlainIp(host) !== 6) throw invalid('endpoint', 'must have an IPv6 address inside the brackets', line);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon === -1) throw invalid('endpoint', 'must be host:port (the port is missing)', line);
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (host.includes(':')) throw invalid('endpoint', 'must put an IPv6 host in brackets: [2001:db8::1]:51820', line);
    if (!isHostOrIp(host)) throw invalid('endpoint', 'must have a DNS name or an IP address as host', line);
  }
  if (!/^[1-9]\d{0,4}$/.test(port) || Number(port) > MAX_U16) {
    throw invalid('endpoint', 'must have a port from 1 to 65535', line);
  }
}

function checkList(field: 'dns' | 'allowedIps', value: unknown, allowEmpty: boolean, each: (item: string) => boolean, what: string, line?: number): void {
  if (!Array.isArray(value)) throw invalid(field, 'must be a list', line);
  if (value.length === 0 && !allowEmpty) throw invalid(field, 'must not be empty', line);
  for (const item of value) {
    if (typeof item !== 'string' || !each(item)) {
      throw invalid(field, `must contain only ${what}; got ${JSON.stringify(item).slice(0, 80)}`, line);
    }
  }
}

/** Throws a WardenError('invalid-input', details.field) for the first field that cannot be written. */
export function validateWireguardClientConfig(c: WireguardClientConfig): void {
  checkConfig(c, () => undefined);
}

/** `lineOf` lets the parser point errors at the line a value came from. */
function checkConfig(c: WireguardClientConfig, lineOf: (field: keyof WireguardClientConfig) => number | undefined): void {
  if (typeof c !== 'object' || c === null) throw invalid('text', 'config must be an object');
  checkKey('privateKey', c.privateKey, lineOf('privateKey'));
  if (!isCidr(c.address, false)) {
    throw invalid('address', 'must be an IP address with an optional /prefix, e.g. 10.66.0.5/32', lineOf('address'));
  }
  if (c.dns !== undefined) {
    checkList('dns', c.dns, true, (d) => isPlainIp(d) !== 0 || isHostName(d), 'IP addresses or DNS search domains', lineOf('dns'));
  }
  if (c.mtu !== undefined && !isIntegerIn(c.mtu, MIN_MTU, MAX_U16)) {
    throw invalid('mtu', `must be an integer from ${MIN_MTU} to ${MAX_U16}`, lineOf('mtu'));
  }
  checkKey('serverPublicKey', c.serverPublicKey, lineOf('serverPublicKey'));
  if (c.presharedKey !== undefined) checkKey('presharedKey', c.presharedKey, lineOf('presharedKey'));
  checkList('allowedIps', c.allowedIps, false, (a) => isCidr(a, true), 'CIDRs like 0.0.0.0/0 or ::/0', lineOf('allowedIps'));
  checkEndpoint(c.endpoint, lineOf('endpoint'));
  if (c.persistentKeepalive !== undefined && !isIntegerIn(c.persistentKeepalive, 0, MAX_U16)) {
    throw invalid('persistentKeepalive', `must be an integer from 0 to ${MAX_U16} seconds`, lineOf('persistentKeepalive'));
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering and parsing

/**
 * The client config in wg-quick format, LF line endings, trailing newline:
 *
 *     [Interface]
 *     PrivateKey = ...
 *     Address = 10.66.0.5/32
 *     DNS = 10.66.0.1, 1.1.1.1
 *
 *     [Peer]
 *     PublicKey = ...
 *     AllowedIPs = 0.0.0.0/0, ::/0
 *     Endpoint = vpn.example.net:51820
 *     PersistentKeepalive = 25
 */
export function renderWireguardConf(c: WireguardClientConfig): string {
  validateWireguardClientConfig(c);
  const lines: string[] = [];
  const put = (key: string, value: string | number): void => {
    const text = String(value);
    // Validation already guarantees this; kept so a future field cannot slip a line break through.
    if (UNSAFE_CHARS.test(text)) throw invalid('text', `value for ${key} contains a forbidden character`);
    lines.push(`${key} = ${text}`);
  };
  lines.push('[Interface]');
  put('PrivateKey', c.privateKey);
  put('Address', c.address);
  if (c.dns !== undefined && c.dns.length > 0) put('DNS', c.dns.join(', '));
  if (c.mtu !== undefined) put('MTU', c.mtu);
  lines.push('', '[Peer]');
  put('PublicKey', c.serverPublicKey);
  if (c.presharedKey !== undefined) put('PresharedKey', c.presharedKey);
  put('AllowedIPs', c.allowedIps.join(', '));
  put('Endpoint', c.endpoint);
  if (c.persistentKeepalive !== undefined) put('PersistentKeepalive', c.persistentKeepalive);
  return lines.join('\n') + '\n';
}

type Section = 'interface' | 'peer';

/** Keys as wg/wg-quick spell them (matched case-insensitively, as wg does) -> our field. */
const KEYS: Record<Section, ReadonlyMap<string, keyof WireguardClientConfig>> = {
  interface: new Map([
    ['privatekey', 'privateKey'],
    ['address', 'address'],
    ['dns', 'dns'],
    ['mtu', 'mtu'],
  ]),
  peer: new Map([
    ['publickey', 'serverPublicKey'],
    ['presharedkey', 'presharedKey'],
    ['allowedips', 'allowedIps'],
    ['endpoint', 'endpoint'],
    ['persistentkeepalive', 'persistentKeepalive'],
  ]),
};
/** Keys wg-quick allows to repeat; their lists are concatenated. */
const REPEATABLE = new Set<keyof WireguardClientConfig>(['dns', 'allowedIps']);

function splitList(field: 'dns' | 'allowedIps' | 'address', value: string, line: number): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw invalid(field, 'has an empty list item', line);
  return items;
}

function parseInteger(field: 'mtu' | 'persistentKeepalive', value: string, line: number): number {
  if (field === 'persistentKeepalive' && value.toLowerCase() === 'off') return 0;
  if (!/^(?:0|[1-9]\d*)$/.test(value)) throw invalid(field, 'must be a whole number', line);
  return Number(value);
}

/**
 * Parses a single-peer client config as written by renderWireguardConf (and by hand or by other
 * tools within the same keys): `#` comments, blank lines, CRLF and any key case are accepted;
 * unknown sections or keys, a second [Peer], a repeated single-valued key or any invalid value
 * throw a WardenError naming the field. The result passes validateWireguardClientConfig.
 */
export function parseWireguardConf(text: string): WireguardClientConfig {
  if (typeof text !== 'string') throw invalid('text', 'must be a string');
  const found: Partial<Record<keyof WireguardClientConfig, { value: string | string[] | number; line: number }>> = {};
  const sectionsSeen = new Set<Section>();
  let section: Section | undefined;

  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, '').replace(/#.*$/, '').trim();
    if (content === '') return;
    const header = /^\[\s*([A-Za-z]+)\s*\]$/.exec(content);
    if (header) {
      const name = header[1]!.toLowerCase();
      if (name !== 'interface' && name !== 'peer') throw invalid('text', `has an unknown section [${header[1]}]`, line);
      if (sectionsSeen.has(name)) throw invalid('text', `has a second [${header[1]}] section; a client config has exactly one of each`, line);
      sectionsSeen.add(name);
      section = name;
      return;
    }
    if (section === undefined) throw invalid('text', 'has a line outside any section', line);
    const eq = content.indexOf('=');
    if (eq === -1) throw invalid('text', 'has a line that is not "Key = value"', line);
    const key = content.slice(0, eq).trim();
    const value = content.slice(eq + 1).trim();
    const field = KEYS[section].get(key.toLowerCase());
    if (field === undefined) throw invalid('text', `has an unsupported key ${JSON.stringify(key)} in [${section === 'peer' ? 'Peer' : 'Interface'}]`, line);
    if (value === '') throw invalid(field, 'is empty', line);

    const previous = found[field];
    if (previous !== undefined && !REPEATABLE.has(field)) throw invalid(field, `is given twice (first on line ${previous.line})`, line);
    switch (field) {
      case 'dns':
      case 'allowedIps': {
        const items = splitList(field, value, line);
        const before = Array.isArray(previous?.value) ? previous.value : [];
        found[field] = { value: [...before, ...items], line: previous?.line ?? line };
        break;
      }
      case 'address':
        if (splitList(field, value, line).length !== 1) throw invalid(field, 'must be a single address', line);
        found[field] = { value, line };
        break;
      case 'mtu':
      case 'persistentKeepalive':
        found[field] = { value: parseInteger(field, value, line), line };
        break;
      default:
        found[field] = { value, line };
    }
  });

  for (const required of ['interface', 'peer'] as const) {
    if (!sectionsSeen.has(required)) throw invalid('text', `has no [${required === 'peer' ? 'Peer' : 'Interface'}] section`);
  }
  const str = (field: 'privateKey' | 'address' | 'serverPublicKey' | 'endpoint' | 'presharedKey'): string | undefined => {
    const entry = found[field];
    return entry === undefined ? undefined : String(entry.value);
  };
  const required = (field: 'privateKey' | 'address' | 'serverPublicKey' | 'endpoint'): string => {
    const value = str(field);
    if (value === undefined) throw invalid(field, 'is missing');
    return value;
  };
  const config: WireguardClientConfig = {
    privateKey: required('privateKey'),
    address: required('address'),
    serverPublicKey: required('serverPublicKey'),
    endpoint: required('endpoint'),
    allowedIps: [],
  };
  if (found.allowedIps === undefined) throw invalid('allowedIps', 'is missing');
  config.allowedIps = found.allowedIps.value as string[];
  if (found.dns !== undefined) config.dns = found.dns.value as string[];
  if (found.mtu !== undefined) config.mtu = found.mtu.value as number;
  const psk = str('presharedKey');
  if (psk !== undefined) config.presharedKey = psk;
  if (found.persistentKeepalive !== undefined) config.persistentKeepalive = found.persistentKeepalive.value as number;

  // The same checks as rendering, with the line of each value so errors point into the text.
  checkConfig(config, (field) => found[field]?.line);
  return config;
}

// ---------------------------------------------------------------------------------------------
// File name

/**
 * `warden-<label>.conf`, where the part before `.conf` is a valid tunnel name on every WireGuard
 * app: at most 15 characters of [a-zA-Z0-9_=+.-] (the apps take the tunnel name from the file
 * name). Labels are lower-cased, accents dropped, anything else becomes `-`. A label with nothing
 * usable left (e.g. all Cyrillic) gets a short stable hash instead, so two devices still differ.
 */
export function wireguardConfFileName(deviceLabel: string): string {
  const label = typeof deviceLabel === 'string' ? deviceLabel : '';
  const room = TUNNEL_NAME_MAX - TUNNEL_NAME_PREFIX.length - 1;
  const cleaned = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_=+.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+/, '');
  const trimEnd = (s: string): string => s.replace(/[-.]+$/, '');
  let part = trimEnd(trimEnd(cleaned).slice(0, room));
  if (part === '' && label.trim() !== '') {
    part = createHash('sha256').update(label.trim(), 'utf8').digest('hex').slice(0, 6);
  }
  return (part === '' ? TUNNEL_NAME_PREFIX : `${TUNNEL_NAME_PREFIX}-${part}`) + '.conf';
}

// ---------------------------------------------------------------------------------------------
// QR code

const QR_MARGIN = 2;
const QR_TARGET_WIDTH = 512;

function isTooBigForQr(err: unknown): boolean {
  return err instanceof Error && /too big/i.test(err.message);
}

/**
 * A PNG QR code of `text` (about 512 px wide, whole pixels per module so phone cameras read it
 * after chat apps rescale it). Error correction M, or L when M cannot hold the text; a text too
 * long for either throws WardenError('invalid-input') with details.field 'text'.
 */
export async function renderQrPng(text: string): Promise<Buffer> {
  if (typeof text !== 'string' || text.length === 0) throw invalid('text', 'for the QR code is empty');
  for (const errorCorrectionLevel of ['M', 'L'] as const) {
    let size: number;
    try {
      size = QRCode.create(text, { errorCorrectionLevel }).modules.size;
    } catch (err) {
      if (isTooBigForQr(err)) continue;
      throw err;
    }
    const scale = Math.max(1, Math.round(QR_TARGET_WIDTH / (size + 2 * QR_MARGIN)));
    return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel, margin: QR_MARGIN, scale });
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  throw new WardenError('invalid-input', `QR code: the text (${bytes} bytes) does not fit in a QR code (at most 2953 bytes at error correction L)`, {
    field: 'text',
    bytes,
  });
}
