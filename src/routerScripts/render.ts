// Fills the RouterOS script templates in router-scripts/routeros/ with one router's values.
// These scripts are pasted into real routers with full rights, so every value is checked against a
// strict pattern before substitution: nothing a caller passes can end a string, start a command or
// reference a variable in RouterOS script.
import { existsSync, readFileSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WardenError } from '../domain/errors.js';

export interface RouterScriptParams {
  /** Warden's name for the router, as in the hook URL. */
  routerName: string;
  /** Base URL of Warden's HTTP server as the router reaches it, e.g. https://warden.example.com */
  wardenUrl: string;
  /** The router's hook bearer token. */
  hookToken: string;
  sandboxList: string;
  permitList: string;
  banList: string;
  chatList?: string;
  /** The PPP clients' address pool as a CIDR, e.g. 10.8.0.0/24. */
  vpnPool?: string;
  pppProfile?: string;
  apiUser?: string;
  apiGroup?: string;
  /** The address Warden connects to the router's API from. Defaults to wardenUrl's host when that is an IP. */
  wardenAddress?: string;
  /**
   * Also render the WireGuard handshake watch, the router-side alternative to Warden's API poll
   * (RouterOS 7.12+): the WireGuard interface to watch, how often the router's scheduler runs the
   * script, and Warden's idle limit (WIREGUARD_IDLE_SECONDS).
   */
  wireguard?: RouterScriptWireguardParams;
}

export interface RouterScriptWireguardParams {
  interface: string;
  /** Seconds between runs, 5-3600 (default 10). */
  intervalSeconds?: number;
  /** Seconds without a handshake after which a peer counts as gone, 60-3600 (default 180). */
  idleSeconds?: number;
}

export interface RenderedRouterScripts {
  setup: string;
  onUp: string;
  onDown: string;
  /** wireguard-watch.rsc filled in: what the scheduler runs (only with the `wireguard` option). */
  wireguardWatch?: string;
  /** wireguard-watch-setup.rsc: installs wireguardWatch and its scheduler entry (same condition). */
  wireguardWatchSetup?: string;
}

export const ROUTER_SCRIPT_DEFAULTS = {
  chatList: 'warden-chat',
  vpnPool: '10.8.0.0/24',
  pppProfile: 'default-encryption',
  apiUser: 'warden',
  apiGroup: 'warden-api',
  wireguardIntervalSeconds: 10,
  wireguardIdleSeconds: 180,
} as const;

export type RouterScriptParamName = keyof RouterScriptParams;

export interface RouterScriptPlaceholder {
  /** Written as {NAME} in the templates. */
  name: string;
  /** The parameter it comes from, or null when the renderer derives it. */
  param: RouterScriptParamName | null;
  templates: readonly string[];
  description: string;
}

const SETUP = 'setup.rsc';
const ON_UP = 'ppp-on-up.rsc';
const ON_DOWN = 'ppp-on-down.rsc';
const WG_WATCH = 'wireguard-watch.rsc';
const WG_WATCH_SETUP = 'wireguard-watch-setup.rsc';

/** Every placeholder the templates use, for docs and for the CLI's help. */
export const ROUTER_SCRIPT_PLACEHOLDERS: readonly RouterScriptPlaceholder[] = [
  { name: 'ROUTER_NAME', param: 'routerName', templates: [SETUP, ON_UP, ON_DOWN, WG_WATCH, WG_WATCH_SETUP], description: "Warden's name for the router; part of the hook URLs." },
  { name: 'WARDEN_URL', param: 'wardenUrl', templates: [ON_UP, ON_DOWN, WG_WATCH], description: 'Base URL of Warden as the router reaches it (no trailing slash).' },
  { name: 'HOOK_TOKEN', param: 'hookToken', templates: [ON_UP, ON_DOWN, WG_WATCH], description: "The router's hook bearer token." },
  { name: 'SANDBOX_LIST', param: 'sandboxList', templates: [SETUP, ON_UP, ON_DOWN], description: 'Address list of sessions waiting for a decision.' },
  { name: 'PERMIT_LIST', param: 'permitList', templates: [SETUP, ON_UP, ON_DOWN], description: 'Address list of approved sessions (filled by Warden over the API).' },
  { name: 'BAN_LIST', param: 'banList', templates: [SETUP], description: 'Address list of banned caller IPs (entries with a timeout).' },
  { name: 'CHAT_LIST', param: 'chatList', templates: [SETUP], description: 'Address list of chat platforms a sandboxed client may reach.' },
  { name: 'VPN_POOL', param: 'vpnPool', templates: [SETUP], description: "The VPN clients' address pool (CIDR)." },
  { name: 'PPP_PROFILE', param: 'pppProfile', templates: [SETUP], description: 'PPP profile whose on-up/on-down run the hooks.' },
  { name: 'API_USER', param: 'apiUser', templates: [SETUP], description: "Warden's RouterOS API user." },
  { name: 'API_GROUP', param: 'apiGroup', templates: [SETUP], description: "The API user's group (policy read,write,api)." },
  { name: 'WARDEN_ADDRESS', param: 'wardenAddress', templates: [SETUP], description: 'Address allowed to log in to the API services as the API user.' },
  { name: 'FETCH_CHECK_CERTIFICATE', param: null, templates: [ON_UP, ON_DOWN, WG_WATCH], description: '"check-certificate=yes" for an https Warden URL, empty for http.' },
  { name: 'VPN_POOL_NOTE', param: null, templates: [SETUP], description: 'A comment, or a warning when the VPN pool is the default.' },
  { name: 'ON_UP_SOURCE', param: null, templates: [SETUP], description: 'ppp-on-up.rsc, filled in and quoted as a RouterOS string.' },
  { name: 'ON_DOWN_SOURCE', param: null, templates: [SETUP], description: 'ppp-on-down.rsc, filled in and quoted as a RouterOS string.' },
  { name: 'WG_INTERFACE', param: 'wireguard', templates: [WG_WATCH, WG_WATCH_SETUP], description: 'The WireGuard interface whose peers the watch reports.' },
  { name: 'WG_WATCH_INTERVAL', param: 'wireguard', templates: [WG_WATCH, WG_WATCH_SETUP], description: 'Seconds between runs of the WireGuard watch.' },
  { name: 'WG_IDLE_SECONDS', param: 'wireguard', templates: [WG_WATCH], description: "Warden's WireGuard idle limit in seconds (WIREGUARD_IDLE_SECONDS)." },
  { name: 'WG_WATCH_SOURCE', param: null, templates: [WG_WATCH_SETUP], description: 'wireguard-watch.rsc, filled in and quoted as a RouterOS string.' },
];

/** A parameter that cannot go into a router script; `field` names it. */
export class RouterScriptParamError extends WardenError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super('invalid-input', `router scripts: ${field} ${reason}`, { field });
    this.name = 'RouterScriptParamError';
  }
}

// Same rules as the hook API (domain/hookClaims.ts ROUTER_NAME and LIST_NAME); kept here rather
// than imported so that loosening the API's rules can never loosen what goes into a script.
const ROUTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ROUTEROS_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HOOK_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;
export const ROUTER_SCRIPT_PATTERNS = { routerName: ROUTER_NAME, routerOsName: ROUTEROS_NAME, hookToken: HOOK_TOKEN } as const;
// scheme://host[:port][/path]; host is a DNS name, an IPv4 address or a bracketed IPv6 address.
const WARDEN_URL = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[A-Za-z0-9._~/-]*)?$/;
// Names a reader can recognise in an error message; anything else is described, not echoed.
const FORBIDDEN_IN_URL: ReadonlyArray<[RegExp, string]> = [
  [/["'`]/, 'quotes'],
  [/\s/, 'whitespace'],
  [/\$/, '"$"'],
  [/;/, '";"'],
  [/\\/, 'a backslash'],
  [/[?#]/, 'a query or fragment'],
];
const PLACEHOLDER = /\{[A-Z][A-Z0-9_]*\}/g;

function describe(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new RouterScriptParamError(field, `must be a string, got ${describe(value)}`);
  return value;
}

function checkRouterOsName(field: string, value: unknown): string {
  const v = requireString(field, value);
  if (!ROUTEROS_NAME.test(v)) {
    throw new RouterScriptParamError(field, `must be 1-64 characters of A-Z a-z 0-9 . _ - (got ${describe(v)})`);
  }
  return v;
}

function checkRouterName(value: unknown): string {
  const v = requireString('routerName', value);
  if (!ROUTER_NAME.test(v)) {
    throw new RouterScriptParamError('routerName', `must be 1-63 characters of a-z 0-9 -, starting with a letter or digit (got ${describe(v)})`);
  }
  return v;
}

function checkHookToken(value: unknown): string {
  const v = requireString('hookToken', value);
  // The token is a secret: say what is wrong with it, never echo it.
  if (!HOOK_TOKEN.test(v)) throw new RouterScriptParamError('hookToken', 'must be 20-128 characters of A-Z a-z 0-9 _ -');
  return v;
}

interface CheckedUrl {
  url: string;
  https: boolean;
  /** The host when it is an IP literal (brackets removed), else null. */
  ipHost: string | null;
}

function checkWardenUrl(value: unknown): CheckedUrl {
  const raw = requireString('wardenUrl', value);
  for (const [pattern, what] of FORBIDDEN_IN_URL) {
    if (pattern.test(raw)) throw new RouterScriptParamError('wardenUrl', `must not contain ${what} (got ${describe(raw)})`);
  }
  const m = WARDEN_URL.exec(raw);
  if (!m) {
    throw new RouterScriptParamError('wardenUrl', `must be http(s)://host[:port][/path] with no user info, query or fragment (got ${describe(raw)})`);
  }
  const [, scheme, host = '', port, path = ''] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new RouterScriptParamError('wardenUrl', `has an invalid port ${port}`);
  }
  const bracketed = host.startsWith('[');
  const bare = bracketed ? host.slice(1, -1) : host;
  if (bracketed && isIP(bare) !== 6) throw new RouterScriptParamError('wardenUrl', `has an invalid IPv6 host ${describe(host)}`);
  if (!bracketed && (host.startsWith('.') || host.endsWith('.') || host.includes('..') || host.startsWith('-'))) {
    throw new RouterScriptParamError('wardenUrl', `has an invalid host ${describe(host)}`);
  }
  try {
    new URL(raw);
  } catch {
    throw new RouterScriptParamError('wardenUrl', `is not a valid URL (got ${describe(raw)})`);
  }
  const url = `${scheme}://${host}${port !== undefined ? `:${port}` : ''}${path.replace(/\/+$/, '')}`;
  return { url, https: scheme === 'https', ipHost: isIP(bare) !== 0 ? bare : null };
}

function checkCidr(field: string, value: unknown): string {
  const v = requireString(field, value);
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(v);
  const address = m?.[1] ?? '';
  const prefix = Number(m?.[2]);
  if (!m || !isIPv4(address) || prefix > 32) {
    throw new RouterScriptParamError(field, `must be an IPv4 CIDR such as 10.8.0.0/24 (got ${describe(v)})`);
  }
  const bits = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const hostBits = prefix === 32 ? 0 : bits % 2 ** (32 - prefix);
  if (hostBits !== 0) {
    const network = bits - hostBits;
    const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
    throw new RouterScriptParamError(field, `has host bits set; did you mean ${dotted}/${prefix}? (got ${describe(v)})`);
  }
  return v;
}

function checkWholeNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RouterScriptParamError(field, `must be a whole number from ${min} to ${max} (got ${typeof value === 'number' ? String(value) : describe(value)})`);
  }
  return value;
}

function checkIpAddress(field: string, value: unknown): string {
  const v = requireString(field, value);
  if (isIP(v) === 0) throw new RouterScriptParamError(field, `must be an IPv4 or IPv6 address (got ${describe(v)})`);
  // An unspecified address could read as "anywhere" in an allow list.
  if (/^0+(\.0+){3}$/.test(v) || /^[0:]+$/.test(v)) throw new RouterScriptParamError(field, `must be a host's address, not ${describe(v)}`);
  return v;
}

/** Quotes text as the body of a RouterOS double-quoted string (without the quotes). */
export function quoteRouterOsString(text: string): string {
  let out = '';
  for (const ch of text) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      case '$': out += '\\$'; break;
      case '?': out += '\\?'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default: {
        const code = ch.codePointAt(0) ?? 0;
        if (code < 0x20 || code > 0x7e) throw new Error(`router scripts: cannot quote character U+${code.toString(16).padStart(4, '0')}`);
        out += ch;
      }
    }
  }
  return out;
}

/** A script as stored in a profile field: whole-line comments and blank lines left out. */
function withoutComments(script: string): string {
  return script
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .join('\n');
}

/** The package root (the folder with package.json and router-scripts/), from src/ or dist/src/. */
export function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'router-scripts', 'routeros'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`router scripts: no package root with router-scripts/routeros above ${start}`);
    dir = parent;
  }
}

export function routerScriptTemplateDir(): string {
  return join(findPackageRoot(), 'router-scripts', 'routeros');
}

function fill(templateName: string, template: string, values: Readonly<Record<string, string>>): string {
  // One pass: a value is never scanned for placeholders again.
  const out = template.replace(PLACEHOLDER, (match) => values[match.slice(1, -1)] ?? match);
  const left = [...new Set(out.match(PLACEHOLDER) ?? [])];
  if (left.length > 0) throw new Error(`router scripts: ${templateName} still has ${left.join(', ')} after rendering`);
  return out;
}

export function renderRouterScripts(params: RouterScriptParams): RenderedRouterScripts {
  if (typeof params !== 'object' || params === null) throw new RouterScriptParamError('params', 'must be an object');

  const routerName = checkRouterName(params.routerName);
  const warden = checkWardenUrl(params.wardenUrl);
  const hookToken = checkHookToken(params.hookToken);
  const sandboxList = checkRouterOsName('sandboxList', params.sandboxList);
  const permitList = checkRouterOsName('permitList', params.permitList);
  const banList = checkRouterOsName('banList', params.banList);
  const chatList = checkRouterOsName('chatList', params.chatList ?? ROUTER_SCRIPT_DEFAULTS.chatList);
  const vpnPoolIsDefault = params.vpnPool === undefined;
  const vpnPool = checkCidr('vpnPool', params.vpnPool ?? ROUTER_SCRIPT_DEFAULTS.vpnPool);
  const pppProfile = checkRouterOsName('pppProfile', params.pppProfile ?? ROUTER_SCRIPT_DEFAULTS.pppProfile);
  const apiUser = checkRouterOsName('apiUser', params.apiUser ?? ROUTER_SCRIPT_DEFAULTS.apiUser);
  const apiGroup = checkRouterOsName('apiGroup', params.apiGroup ?? ROUTER_SCRIPT_DEFAULTS.apiGroup);
  let wardenAddress: string;
  if (params.wardenAddress !== undefined) {
    wardenAddress = checkIpAddress('wardenAddress', params.wardenAddress);
  } else if (warden.ipHost !== null) {
    wardenAddress = warden.ipHost;
  } else {
    throw new RouterScriptParamError(
      'wardenAddress',
      "is required when wardenUrl's host is a name: give the address Warden connects to the router's API from",
    );
  }

  // One list in two roles would open the sandbox (e.g. chat list = permit list).
  const lists: Array<[string, string]> = [
    ['sandboxList', sandboxList],
    ['permitList', permitList],
    ['banList', banList],
    ['chatList', chatList],
  ];
  for (let i = 0; i < lists.length; i++) {
    for (let j = i + 1; j < lists.length; j++) {
      if (lists[i]![1] === lists[j]![1]) {
        throw new RouterScriptParamError(lists[j]![0], `must differ from ${lists[i]![0]} (both are ${describe(lists[i]![1])})`);
      }
    }
  }

  const dir = routerScriptTemplateDir();
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');

  const hookValues: Record<string, string> = {
    ROUTER_NAME: routerName,
    WARDEN_URL: warden.url,
    HOOK_TOKEN: hookToken,
    SANDBOX_LIST: sandboxList,
    PERMIT_LIST: permitList,
    // Certificate checks only exist for https; fetch refuses nothing over plain http.
    FETCH_CHECK_CERTIFICATE: warden.https ? 'check-certificate=yes' : '',
  };
  const onUp = fill(ON_UP, read(ON_UP), hookValues);
  const onDown = fill(ON_DOWN, read(ON_DOWN), hookValues);

  const setup = fill(SETUP, read(SETUP), {
    ROUTER_NAME: routerName,
    SANDBOX_LIST: sandboxList,
    PERMIT_LIST: permitList,
    BAN_LIST: banList,
    CHAT_LIST: chatList,
    VPN_POOL: vpnPool,
    PPP_PROFILE: pppProfile,
    API_USER: apiUser,
    API_GROUP: apiGroup,
    WARDEN_ADDRESS: wardenAddress,
    VPN_POOL_NOTE: vpnPoolIsDefault
      ? `  :put "warden: WARNING the VPN pool ${vpnPool} is Warden's default placeholder, not your router's pool. If your PPP clients get addresses elsewhere, render again with the real pool."`
      : `  # VPN client pool: ${vpnPool}`,
    ON_UP_SOURCE: quoteRouterOsString(withoutComments(onUp)),
    ON_DOWN_SOURCE: quoteRouterOsString(withoutComments(onDown)),
  });

  if (params.wireguard === undefined) return { setup, onUp, onDown };
  const wg: unknown = params.wireguard;
  if (typeof wg !== 'object' || wg === null) throw new RouterScriptParamError('wireguard', `must be an object, got ${describe(wg)}`);
  const { interface: wgInterface, intervalSeconds, idleSeconds } = wg as Record<string, unknown>;
  const watchValues: Record<string, string> = {
    ...hookValues,
    WG_INTERFACE: checkRouterOsName('wireguard.interface', wgInterface),
    WG_WATCH_INTERVAL: String(checkWholeNumber('wireguard.intervalSeconds', intervalSeconds ?? ROUTER_SCRIPT_DEFAULTS.wireguardIntervalSeconds, 5, 3600)),
    WG_IDLE_SECONDS: String(checkWholeNumber('wireguard.idleSeconds', idleSeconds ?? ROUTER_SCRIPT_DEFAULTS.wireguardIdleSeconds, 60, 3600)),
  };
  const wireguardWatch = fill(WG_WATCH, read(WG_WATCH), watchValues);
  const wireguardWatchSetup = fill(WG_WATCH_SETUP, read(WG_WATCH_SETUP), {
    ROUTER_NAME: routerName,
    WG_INTERFACE: watchValues.WG_INTERFACE!,
    WG_WATCH_INTERVAL: watchValues.WG_WATCH_INTERVAL!,
    WG_WATCH_SOURCE: quoteRouterOsString(withoutComments(wireguardWatch)),
  });
  return { setup, onUp, onDown, wireguardWatch, wireguardWatchSetup };
}
