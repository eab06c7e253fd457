// Warden's router operations, built on the four generic commands so they can run against a
// fake in unit tests: address lists, PPP sessions, secrets and profiles, WireGuard peers. Each
// one is idempotent: the service may repeat it after a timeout or a dropped link without
// knowing whether the first attempt reached the router.

import { isIPv6 } from 'node:net';

import type { RouterCommands, RouterRow } from './commands.js';
import { checkItemId } from './commands.js';
import { formatRouterDuration, parseRouterDuration } from './duration.js';
import { isTrap, RouterError } from './errors.js';
import { isWireguardKey } from './wireguardKeys.js';

const ADDRESS_LIST = '/ip/firewall/address-list';
const PPP_ACTIVE = '/ppp/active';
const PPP_SECRET = '/ppp/secret';
const PPP_PROFILE = '/ppp/profile';
const WIREGUARD = '/interface/wireguard';
const WIREGUARD_PEERS = '/interface/wireguard/peers';

/** PPP services a secret may be limited to. */
export const PPP_SERVICES = ['any', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp'] as const;
export type PppService = (typeof PPP_SERVICES)[number];

/** Longest `persistent-keepalive` WireGuard allows. */
export const MAX_PERSISTENT_KEEPALIVE_SECONDS = 65_535;

/** The longest timeout RouterOS accepts on an address-list entry (35w3d13h13m56s, 2^31-1 centiseconds). */
export const MAX_ADDRESS_LIST_TIMEOUT_SECONDS = 21_474_836;

export interface AddressListEntry {
  id: string;
  list: string;
  address: string;
  comment?: string;
  disabled: boolean;
  /** Entries with a timeout are dynamic: they live in RAM and the router removes them when it runs out. */
  dynamic: boolean;
  /** Seconds left, for dynamic entries. */
  timeoutSeconds?: number;
}

export interface AddToAddressListOptions {
  /**
   * Whole seconds; the entry becomes dynamic and disappears when it runs out. Longer than
   * RouterOS allows (about 248 days) is cut to its maximum, so a long ban still lands.
   */
  timeout?: number;
  comment?: string;
}

export interface PppActiveSession {
  id: string;
  name: string;
  service: string;
  /** Client public IP for pptp/l2tp/sstp/ovpn, MAC for pppoe. */
  callerId: string;
  /** Address assigned to the client inside the tunnel. */
  address: string;
  uptimeSeconds?: number;
  encoding: string;
  sessionId: string;
}

export interface PppActiveFilter {
  name?: string;
  address?: string;
  callerId?: string;
}

export interface WireguardPeer {
  id: string;
  /** Interface name. */
  interface: string;
  publicKey: string;
  allowedAddress: string[];
  comment?: string;
  /** RouterOS 7.15+ only. */
  name?: string;
  disabled: boolean;
  /** Where the peer's last authenticated packet came from. */
  currentEndpointAddress?: string;
  currentEndpointPort?: number;
  /** Seconds since the last handshake; undefined when there has been none. */
  lastHandshakeSeconds?: number;
  /** Bytes received from / sent to the peer. */
  rx?: number;
  tx?: number;
}

export interface AddWireguardPeerInput {
  interface: string;
  publicKey: string;
  presharedKey?: string;
  /** IPv4/IPv6 addresses or prefixes routed to the peer; at least one. A bare address means a single host. */
  allowedAddress: string[];
  /** Whole seconds, 0 (off) to 65535. */
  persistentKeepalive?: number;
  comment?: string;
  /** Needs RouterOS 7.15+; older routers refuse the parameter (a `trap`). */
  name?: string;
}

export interface WireguardPeerRef {
  interface: string;
  publicKey: string;
}

export interface WireguardInterfaceInfo {
  id: string;
  name: string;
  listenPort: number;
  publicKey: string;
}

export interface AddPppSecretInput {
  name: string;
  password: string;
  /** Must name an existing `/ppp/profile`; the router refuses others (a `trap`). Router default: `default`. */
  profile?: string;
  service?: PppService;
  /** A single IPv4 address for the client's end of the tunnel. */
  remoteAddress?: string;
  comment?: string;
}

/** A PPP secret without its password: Warden never reads passwords back from a router. */
export interface PppSecretInfo {
  id: string;
  name: string;
  profile: string;
  service: string;
  disabled: boolean;
  remoteAddress?: string;
  comment?: string;
}

function invalid(message: string): RouterError {
  return new RouterError('invalid-argument', message);
}

/**
 * An IPv4 address or CIDR block in the form the router stores it (`1.2.3.4/32` -> `1.2.3.4`,
 * `10.0.0.7/24` -> `10.0.0.0/24`), so a later print by address finds what add created.
 */
export function normalizeIpv4(input: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(input);
  const octets = match?.slice(1, 5).map(Number);
  const prefix = match?.[5] === undefined ? 32 : Number(match[5]);
  if (!match || !octets || octets.some((o) => o > 255) || prefix > 32) {
    throw invalid(`not an IPv4 address or block: ${JSON.stringify(input)}`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (prefix === 32) return octets.join('.');
  const size = 2 ** (32 - prefix);
  const network = Math.floor(value / size) * size;
  return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.')}/${prefix}`;
}

/**
 * A WireGuard `allowed-address` item as the router stores it: always with a prefix length and
 * host bits cleared (`10.0.0.7` -> `10.0.0.7/32`, `10.0.0.7/24` -> `10.0.0.0/24`); IPv6 in
 * compressed lower case (`2001:DB8::1` -> `2001:db8::1/128`).
 */
export function normalizeAllowedAddress(input: string): string {
  if (typeof input === 'string' && !input.includes(':')) {
    const normalized = normalizeIpv4(input);
    return normalized.includes('/') ? normalized : `${normalized}/32`;
  }
  const match = typeof input === 'string' ? /^([0-9A-Fa-f:.]+)(?:\/(\d{1,3}))?$/.exec(input) : null;
  const prefix = match?.[2] === undefined ? 128 : Number(match[2]);
  if (!match || !isIPv6(match[1]!) || prefix > 128) throw invalid(`not an IP address or prefix: ${JSON.stringify(input)}`);
  // The WHATWG URL parser prints any IPv6 literal in canonical compressed form.
  const canonical = (text: string) => new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const expanded = canonical(match[1]!);
  const [head = '', tail] = expanded.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  let value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
  value &= prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
  const masked = Array.from({ length: 8 }, (_, i) => ((value >> BigInt((7 - i) * 16)) & 0xffffn).toString(16)).join(':');
  return `${canonical(masked)}/${prefix}`;
}

function checkName(what: string, name: string): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid(`${what} is empty`);
  return name;
}

function checkKey(what: string, key: string): string {
  if (!isWireguardKey(key)) throw invalid(`${what} is not a WireGuard key (base64 of 32 bytes, 44 characters)`);
  return key;
}

function isYes(value: string | undefined): boolean {
  return value === 'true' || value === 'yes';
}

/** A non-negative integer property, or undefined when absent, empty or not a number. */
function countOf(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** RouterOS 6 has no WireGuard: turn its `no such command` into an error that says so. */
function noWireguard(err: unknown): never {
  if (isTrap(err, 'no such command')) {
    throw new RouterError('trap', `${err.router ? `${err.router}: ` : ''}this router has no WireGuard (RouterOS 7 or later needed)`, {
      ...(err.router ? { router: err.router } : {}),
      ...(err.routerMessage ? { routerMessage: err.routerMessage } : {}),
      cause: err,
    });
  }
  throw err;
}

function checkListName(list: string): string {
  if (list.trim() === '') throw invalid('address list name is empty');
  return list;
}

function toAddressListEntry(row: RouterRow): AddressListEntry {
  const timeout = row.timeout === undefined ? undefined : parseRouterDuration(row.timeout);
  return {
    id: row['.id'] ?? '',
    list: row.list ?? '',
    address: row.address ?? '',
    ...(row.comment !== undefined ? { comment: row.comment } : {}),
    disabled: row.disabled === 'true' || row.disabled === 'yes',
    dynamic: row.dynamic === 'true' || row.dynamic === 'yes' || timeout !== undefined,
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
  };
}

function toPppActiveSession(row: RouterRow): PppActiveSession {
  const uptime = row.uptime === undefined ? undefined : parseRouterDuration(row.uptime);
  return {
    id: row['.id'] ?? '',
    name: row.name ?? '',
    service: row.service ?? '',
    callerId: row['caller-id'] ?? '',
    address: row.address ?? '',
    ...(uptime !== undefined ? { uptimeSeconds: uptime } : {}),
    encoding: row.encoding ?? '',
    sessionId: row['session-id'] ?? '',
  };
}

const WIREGUARD_PEER_PROPERTIES = [
  '.id',
  'interface',
  'public-key',
  'allowed-address',
  'comment',
  'name',
  'disabled',
  'current-endpoint-address',
  'current-endpoint-port',
  'last-handshake',
  'rx',
  'tx',
] as const;

function toWireguardPeer(row: RouterRow): WireguardPeer {
  const lastHandshake = row['last-handshake'] === undefined ? undefined : parseRouterDuration(row['last-handshake']);
  const endpointPort = countOf(row['current-endpoint-port']);
  const rx = countOf(row.rx);
  const tx = countOf(row.tx);
  return {
    id: row['.id'] ?? '',
    interface: row.interface ?? '',
    publicKey: row['public-key'] ?? '',
    allowedAddress: (row['allowed-address'] ?? '').split(',').filter((a) => a !== ''),
    ...(row.comment !== undefined ? { comment: row.comment } : {}),
    ...(row.name !== undefined && row.name !== '' ? { name: row.name } : {}),
    disabled: isYes(row.disabled),
    ...(row['current-endpoint-address'] ? { currentEndpointAddress: row['current-endpoint-address'] } : {}),
    ...(endpointPort ? { currentEndpointPort: endpointPort } : {}),
    ...(lastHandshake !== undefined ? { lastHandshakeSeconds: lastHandshake } : {}),
    ...(rx !== undefined ? { rx } : {}),
    ...(tx !== undefined ? { tx } : {}),
  };
}

const PPP_SECRET_PROPERTIES = ['.id', 'name', 'profile', 'service', 'disabled', 'remote-address', 'comment'] as const;

function toPppSecret(row: RouterRow): PppSecretInfo {
  return {
    id: row['.id'] ?? '',
    name: row.name ?? '',
    profile: row.profile ?? '',
    service: row.service ?? '',
    disabled: isYes(row.disabled),
    ...(row['remote-address'] ? { remoteAddress: row['remote-address'] } : {}),
    ...(row.comment !== undefined ? { comment: row.comment } : {}),
  };
}

export class RouterOps {
  constructor(private readonly router: RouterCommands) {}

  async findAddressListEntries(list: string, address?: string): Promise<AddressListEntry[]> {
    const where: Record<string, string> = { list: checkListName(list) };
    if (address !== undefined) where.address = normalizeIpv4(address);
    const rows = await this.router.print(ADDRESS_LIST, where);
    return rows.map(toAddressListEntry);
  }

  /**
   * Makes sure `address` is an active member of `list`. An existing entry counts as success
   * (`created: false`); if a timeout is asked for and the existing entry is dynamic its timeout
   * is reset to it, and a disabled entry is enabled. A static entry keeps having no timeout:
   * it already outlives any the caller asked for, and shortening an admin's permanent entry
   * would be a surprise.
   */
  async addToAddressList(list: string, address: string, options: AddToAddressListOptions = {}): Promise<{ id: string; created: boolean }> {
    checkListName(list);
    const normalized = normalizeIpv4(address);
    const { timeout, comment } = options;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
      throw invalid(`timeout must be a whole number of seconds, at least 1; got ${timeout}`);
    }
    const attributes: Record<string, string> = { list, address: normalized };
    if (timeout !== undefined) attributes.timeout = formatRouterDuration(Math.min(timeout, MAX_ADDRESS_LIST_TIMEOUT_SECONDS));
    if (comment !== undefined) attributes.comment = comment;

    // Two rounds: a dynamic entry can expire between our add (duplicate) and our print or set.
    for (let round = 0; round < 2; round++) {
      try {
        return { id: await this.router.add(ADDRESS_LIST, attributes), created: true };
      } catch (err) {
        if (!isTrap(err, 'already have such entry')) throw err;
      }
      const [existing] = await this.findAddressListEntries(list, normalized);
      if (!existing) continue;
      const changes: Record<string, string> = {};
      if (attributes.timeout !== undefined && existing.dynamic) changes.timeout = attributes.timeout;
      if (existing.disabled) changes.disabled = 'no';
      try {
        await this.router.set(ADDRESS_LIST, existing.id, changes);
      } catch (err) {
        if (isTrap(err, 'no such item')) continue;
        throw err;
      }
      return { id: existing.id, created: false };
    }
    throw new RouterError('trap', `address ${normalized} in list ${list} kept appearing and vanishing; giving up for now`, { retryable: true });
  }

  /** Removes every entry for `address` in `list`; resolves to how many this call removed (0 when already gone). */
  async removeFromAddressList(list: string, address: string): Promise<number> {
    const entries = await this.findAddressListEntries(list, address);
    let removed = 0;
    for (const entry of entries) {
      try {
        await this.router.remove(ADDRESS_LIST, entry.id);
        removed++;
      } catch (err) {
        // Gone already (expired, or removed by someone else): that is what we wanted.
        if (!isTrap(err, 'no such item')) throw err;
      }
    }
    return removed;
  }

  /** Active PPP sessions matching every given field; all sessions when the filter is empty. */
  async findPppActive(filter: PppActiveFilter = {}): Promise<PppActiveSession[]> {
    const where: Record<string, string> = {};
    if (filter.name !== undefined) where.name = filter.name;
    if (filter.address !== undefined) where.address = normalizeIpv4(filter.address);
    if (filter.callerId !== undefined) where['caller-id'] = filter.callerId;
    const rows = await this.router.print(PPP_ACTIVE, where);
    return rows.map(toPppActiveSession);
  }

  /** Disconnects a session (the router runs the profile's on-down script). false when it was already gone. */
  async disconnectPpp(id: string): Promise<boolean> {
    checkItemId(id);
    try {
      await this.router.remove(PPP_ACTIVE, id);
      return true;
    } catch (err) {
      if (isTrap(err, 'no such item')) return false;
      throw err;
    }
  }

  // ----- WireGuard (RouterOS 7) -----

  /** Peers, of one interface or of all; preshared keys are never fetched. */
  async listWireguardPeers(interfaceName?: string): Promise<WireguardPeer[]> {
    const where: Record<string, string> = {};
    if (interfaceName !== undefined) where.interface = checkName('interface name', interfaceName);
    const rows = await this.router.print(WIREGUARD_PEERS, where, WIREGUARD_PEER_PROPERTIES).catch(noWireguard);
    return rows.map(toWireguardPeer);
  }

  /**
   * Makes sure `interface` has a peer with this public key and these settings. An existing peer
   * is updated with the given fields and returned with `created: false`; its `disabled` state is
   * left alone, so a retried add never re-opens a peer someone disabled on purpose. A router
   * holds one peer per public key across all interfaces: a key already used on another
   * interface is refused (`trap`, not retryable) rather than moved.
   */
  async addWireguardPeer(input: AddWireguardPeerInput): Promise<{ id: string; created: boolean }> {
    const iface = checkName('interface name', input.interface);
    const publicKey = checkKey('public key', input.publicKey);
    if (!Array.isArray(input.allowedAddress) || input.allowedAddress.length === 0) throw invalid('a peer needs at least one allowed address');
    const allowed = [...new Set(input.allowedAddress.map(normalizeAllowedAddress))];
    const { persistentKeepalive } = input;
    if (persistentKeepalive !== undefined && (!Number.isInteger(persistentKeepalive) || persistentKeepalive < 0 || persistentKeepalive > MAX_PERSISTENT_KEEPALIVE_SECONDS)) {
      throw invalid(`persistent keepalive must be whole seconds from 0 to ${MAX_PERSISTENT_KEEPALIVE_SECONDS}; got ${persistentKeepalive}`);
    }
    const settings: Record<string, string> = { 'allowed-address': allowed.join(',') };
    if (input.presharedKey !== undefined) settings['preshared-key'] = checkKey('preshared key', input.presharedKey);
    if (persistentKeepalive !== undefined) settings['persistent-keepalive'] = formatRouterDuration(persistentKeepalive);
    if (input.comment !== undefined) settings.comment = input.comment;
    if (input.name !== undefined) settings.name = checkName('peer name', input.name);

    // Two rounds: the peer can be removed by someone else between our duplicate trap and our set.
    for (let round = 0; round < 2; round++) {
      let duplicate: RouterError;
      try {
        const id = await this.router.add(WIREGUARD_PEERS, { interface: iface, 'public-key': publicKey, ...settings });
        return { id, created: true };
      } catch (err) {
        // RouterOS says `failure: entry already exists`; match loosely in case a version words it differently.
        if (!isTrap(err, 'already exists')) noWireguard(err);
        duplicate = err;
      }
      const [existing] = await this.router.print(WIREGUARD_PEERS, { 'public-key': publicKey }, ['.id', 'interface']);
      if (!existing?.['.id']) continue;
      if (existing.interface !== iface) {
        throw new RouterError('trap', `public key ${publicKey} already belongs to a peer on interface ${existing.interface ?? '?'}, not ${iface}`, {
          ...(duplicate.router ? { router: duplicate.router } : {}),
          ...(duplicate.routerMessage ? { routerMessage: duplicate.routerMessage } : {}),
          cause: duplicate,
        });
      }
      try {
        await this.router.set(WIREGUARD_PEERS, existing['.id'], settings);
      } catch (err) {
        if (isTrap(err, 'no such item')) continue;
        throw err;
      }
      return { id: existing['.id'], created: false };
    }
    throw new RouterError('trap', `WireGuard peer ${publicKey} on ${iface} kept appearing and vanishing; giving up for now`, { retryable: true });
  }

  /** Removes the peer with this public key from `interface`; false when there was none. */
  async removeWireguardPeer(peer: WireguardPeerRef): Promise<boolean> {
    const where = { interface: checkName('interface name', peer.interface), 'public-key': checkKey('public key', peer.publicKey) };
    const rows = await this.router.print(WIREGUARD_PEERS, where, ['.id']).catch(noWireguard);
    let removed = false;
    for (const row of rows) {
      if (!row['.id']) continue;
      try {
        await this.router.remove(WIREGUARD_PEERS, row['.id']);
        removed = true;
      } catch (err) {
        if (!isTrap(err, 'no such item')) throw err;
      }
    }
    return removed;
  }

  /** The WireGuard interface called `name` (its private key is never fetched), or null. */
  async wireguardInterface(name: string): Promise<WireguardInterfaceInfo | null> {
    const rows = await this.router
      .print(WIREGUARD, { name: checkName('interface name', name) }, ['.id', 'name', 'listen-port', 'public-key'])
      .catch(noWireguard);
    const row = rows[0];
    if (!row) return null;
    return { id: row['.id'] ?? '', name: row.name ?? name, listenPort: countOf(row['listen-port']) ?? 0, publicKey: row['public-key'] ?? '' };
  }

  // ----- PPP secrets and profiles -----

  /**
   * Makes sure a PPP secret called `name` exists with these settings. An existing one is
   * updated with the given fields (`created: false`); its `disabled` state is left alone.
   */
  async addPppSecret(input: AddPppSecretInput): Promise<{ id: string; created: boolean }> {
    const name = checkName('PPP secret name', input.name);
    if (typeof input.password !== 'string' || input.password === '') throw invalid('PPP secret password is empty');
    const settings: Record<string, string> = { password: input.password };
    if (input.profile !== undefined) settings.profile = checkName('PPP profile', input.profile);
    if (input.service !== undefined) {
      if (!(PPP_SERVICES as readonly string[]).includes(input.service)) throw invalid(`unknown PPP service ${JSON.stringify(input.service)} (one of ${PPP_SERVICES.join(', ')})`);
      settings.service = input.service;
    }
    if (input.remoteAddress !== undefined) {
      const address = normalizeIpv4(input.remoteAddress);
      if (address.includes('/')) throw invalid(`remote address must be a single IPv4 address, got ${JSON.stringify(input.remoteAddress)}`);
      settings['remote-address'] = address;
    }
    if (input.comment !== undefined) settings.comment = input.comment;

    for (let round = 0; round < 2; round++) {
      try {
        return { id: await this.router.add(PPP_SECRET, { name, ...settings }), created: true };
      } catch (err) {
        if (!isTrap(err, 'already exists')) throw err;
      }
      const existing = await this.findPppSecret(name);
      if (!existing) continue;
      try {
        await this.router.set(PPP_SECRET, existing.id, settings);
      } catch (err) {
        if (isTrap(err, 'no such item')) continue;
        throw err;
      }
      return { id: existing.id, created: false };
    }
    throw new RouterError('trap', `PPP secret ${name} kept appearing and vanishing; giving up for now`, { retryable: true });
  }

  /** Removes the PPP secret `name` (an active session stays up until it ends). false when there was none. */
  async removePppSecret(name: string): Promise<boolean> {
    const existing = await this.findPppSecret(name);
    if (!existing) return false;
    try {
      await this.router.remove(PPP_SECRET, existing.id);
      return true;
    } catch (err) {
      if (isTrap(err, 'no such item')) return false;
      throw err;
    }
  }

  /** Disables or enables the PPP secret `name`; false when there is no such secret. */
  async setPppSecretDisabled(name: string, disabled: boolean): Promise<boolean> {
    const existing = await this.findPppSecret(name);
    if (!existing) return false;
    if (existing.disabled === disabled) return true;
    try {
      await this.router.set(PPP_SECRET, existing.id, { disabled: disabled ? 'yes' : 'no' });
      return true;
    } catch (err) {
      if (isTrap(err, 'no such item')) return false;
      throw err;
    }
  }

  /** The PPP secret `name` without its password (it is not even fetched), or null. */
  async findPppSecret(name: string): Promise<PppSecretInfo | null> {
    const rows = await this.router.print(PPP_SECRET, { name: checkName('PPP secret name', name) }, PPP_SECRET_PROPERTIES);
    const row = rows[0];
    return row ? toPppSecret(row) : null;
  }

  /** Names of the router's PPP profiles. */
  async pppProfiles(): Promise<string[]> {
    const rows = await this.router.print(PPP_PROFILE, {}, ['name']);
    return rows.map((row) => row.name ?? '').filter((name) => name !== '');
  }

  /** The router's `/system/identity` name; a cheap health probe. */
  async identity(): Promise<string> {
    const [row] = await this.router.print('/system/identity');
    return row?.name ?? '';
  }
}
