// The simulated router's configuration and the API menus that read and change it:
// /ip/firewall/address-list, /ppp/active, /ppp/secret, /ppp/profile, /system/resource,
// /system/identity and, on RouterOS 7 only, /interface/wireguard and /interface/wireguard/peers.
// Messages and row layouts follow what RouterOS sends; menus throw TrapError for a `!trap`.

import { isIP } from 'node:net';

import { formatRouterDuration, parseRouterDuration } from './duration.js';
import { compileQuery, QueryError, type Row } from './query.js';
import { isWireguardKeyText, newWireguardPrivateKey, normalizeAllowedAddress, wireguardPublicKey } from './wireguard.js';

export class TrapError extends Error {
  override readonly name = 'TrapError';
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
  }
}

export type Policy = 'read' | 'write' | 'api' | 'sensitive' | 'policy' | 'test';

export type UserGroup = 'full' | 'read' | 'warden';

/** Policies of the built-in `full` and `read` groups, and of the least-privilege group a Warden install creates. */
export const GROUP_POLICIES: Record<UserGroup, ReadonlySet<Policy>> = {
  full: new Set<Policy>(['read', 'write', 'api', 'sensitive', 'policy', 'test']),
  read: new Set<Policy>(['read', 'api', 'test']),
  warden: new Set<Policy>(['read', 'write', 'api', 'test']),
};

export interface SimUser {
  name: string;
  password: string;
  group: UserGroup;
}

export interface RouterVersion {
  text: string;
  parts: readonly number[];
}

export function parseVersion(text: string): RouterVersion {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  if (!match) throw new Error(`not a RouterOS version: ${text}`);
  return { text: text.trim(), parts: [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)] };
}

export function versionAtLeast(version: RouterVersion, ...wanted: number[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    const have = version.parts[i] ?? 0;
    if (have !== wanted[i]) return have > wanted[i]!;
  }
  return true;
}

export interface CommandRequest {
  /** Last path segment: `print`, `add`, ... */
  command: string;
  /** `=name=value` words, API attributes such as `.id` and `.proplist` included. */
  attributes: ReadonlyMap<string, string>;
  queries: readonly string[];
  user: SimUser;
}

export interface CommandReply {
  rows?: Row[];
  /** Value of `=ret=` on `!done` (the new `.id` for `add`). */
  ret?: string;
}

interface CommandSpec {
  needs: Policy;
  run(request: CommandRequest): CommandReply;
}

export interface Menu {
  readonly path: string;
  readonly commands: Readonly<Record<string, CommandSpec>>;
}

export interface AddressListEntry {
  id: string;
  list: string;
  address: string;
  comment?: string;
  disabled: boolean;
  createdAt: number;
  /** Set for entries added with a timeout: they are dynamic and vanish at this instant (sim clock). */
  expiresAt?: number;
}

export interface PppActiveSession {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
  encoding: string;
  sessionId: string;
  connectedAt: number;
}

export interface PppSecret {
  id: string;
  name: string;
  password: string;
  profile: string;
  service: string;
  callerId: string;
  localAddress?: string;
  remoteAddress?: string;
  disabled: boolean;
  comment?: string;
}

export interface PppProfile {
  id: string;
  name: string;
  localAddress?: string;
  remoteAddress?: string;
  onUp: string;
  onDown: string;
}

export interface WireguardInterface {
  id: string;
  name: string;
  listenPort: number;
  mtu: number;
  privateKey: string;
  publicKey: string;
  disabled: boolean;
  comment?: string;
}

export interface WireguardPeer {
  id: string;
  /** `.id` of the interface: a peer follows its interface through a rename, as on a router. */
  interfaceId: string;
  publicKey: string;
  presharedKey?: string;
  allowedAddress: string[];
  endpointAddress?: string;
  endpointPort?: number;
  persistentKeepaliveMs?: number;
  disabled: boolean;
  comment?: string;
  /** RouterOS 7.15+. */
  name?: string;
  currentEndpointAddress?: string;
  currentEndpointPort?: number;
  /** Sim-clock instant of the last handshake; unset until the first one. */
  lastHandshakeAt?: number;
  rx: number;
  tx: number;
}

/** Seed values for a peer, as the test API takes them; checked like an API `add`. */
export interface WireguardPeerInput {
  interface: string;
  publicKey: string;
  presharedKey?: string;
  allowedAddress?: string[];
  endpointAddress?: string;
  endpointPort?: number;
  persistentKeepaliveMs?: number;
  disabled?: boolean;
  comment?: string;
  name?: string;
}

export interface RouterStateOptions {
  now: () => number;
  version: RouterVersion;
  identity: string;
  pppProfiles: readonly string[];
  onPppRemoved: (session: PppActiveSession) => void;
}

/** Ids RouterOS gives its two built-in PPP profiles; profiles an admin adds count up from *1. */
const BUILT_IN_PROFILE_IDS: Readonly<Record<string, string>> = { default: '*0', 'default-encryption': '*FFFFFFFE' };

/** Bytes of a WireGuard handshake initiation and response, what a handshake adds to rx/tx on the responder. */
const HANDSHAKE_INITIATION_BYTES = 148;
const HANDSHAKE_RESPONSE_BYTES = 92;

const PPP_SERVICES = ['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp'] as const;

class IdAllocator {
  private next: number;
  constructor(first: number) {
    this.next = first;
  }
  allocate(): string {
    return `*${(this.next++).toString(16).toUpperCase()}`;
  }
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** RouterOS stores `10.0.0.1/32` as `10.0.0.1` and `10.0.0.7/24` as `10.0.0.0/24`; also accepts ranges and DNS names. */
export function normalizeListAddress(input: string): string | undefined {
  const cidr = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(input);
  if (cidr) {
    const ip = parseIpv4(cidr[1]!);
    const prefix = cidr[2] === undefined ? 32 : Number(cidr[2]);
    if (ip === undefined || prefix > 32) return undefined;
    if (prefix === 32) return formatIpv4(ip);
    const size = 2 ** (32 - prefix);
    return `${formatIpv4(Math.floor(ip / size) * size)}/${prefix}`;
  }
  const range = /^([\d.]+)-([\d.]+)$/.exec(input);
  if (range) {
    const from = parseIpv4(range[1]!);
    const to = parseIpv4(range[2]!);
    if (from === undefined || to === undefined || from > to) return undefined;
    return `${formatIpv4(from)}-${formatIpv4(to)}`;
  }
  if (/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(input)) return input;
  return undefined;
}

function parsePort(name: string, value: string, min: number): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < min || Number(value) > 65535) throw new TrapError(`invalid value for argument ${name}`);
  return Number(value);
}

/** An endpoint is an IP address or a DNS name. */
function isHostOrAddress(value: string): boolean {
  return isIP(value) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value);
}

function parseBool(name: string, value: string): boolean {
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new TrapError(`input does not match any value of ${name}`);
}

export class RouterState {
  readonly addressList = new Map<string, AddressListEntry>();
  readonly pppActive = new Map<string, PppActiveSession>();
  readonly pppSecrets = new Map<string, PppSecret>();
  readonly pppProfiles = new Map<string, PppProfile>();
  readonly wireguardInterfaces = new Map<string, WireguardInterface>();
  readonly wireguardPeers = new Map<string, WireguardPeer>();
  identity: string;
  readonly startedAt: number;
  readonly menus: ReadonlyMap<string, Menu>;

  private readonly addressListIds = new IdAllocator(1);
  private readonly pppActiveIds = new IdAllocator(0x80000001);
  private readonly pppSecretIds = new IdAllocator(1);
  private readonly pppProfileIds = new IdAllocator(1);
  // Interfaces share one id space on a router; the ethernet ports would hold the first ids.
  private readonly interfaceIds = new IdAllocator(0x10);
  private readonly wireguardPeerIds = new IdAllocator(1);
  private nextSessionId = 0x81000001;

  constructor(private readonly options: RouterStateOptions) {
    this.identity = options.identity;
    this.startedAt = options.now();
    for (const name of options.pppProfiles) this.addPppProfile({ name });
    const menus = [this.addressListMenu(), this.pppActiveMenu(), this.pppSecretMenu(), this.pppProfileMenu(), this.resourceMenu(), this.identityMenu()];
    // WireGuard arrived with RouterOS 7; a 6.x router answers `no such command or directory`.
    if (this.hasWireguard) menus.push(this.wireguardMenu(), this.wireguardPeersMenu());
    this.menus = new Map(menus.map((menu) => [menu.path, menu]));
  }

  get hasWireguard(): boolean {
    return versionAtLeast(this.version, 7);
  }

  /** The peer `name` property exists from RouterOS 7.15 on. */
  get hasPeerNames(): boolean {
    return versionAtLeast(this.version, 7, 15);
  }

  get version(): RouterVersion {
    return this.options.version;
  }

  now(): number {
    return this.options.now();
  }

  /** Drops address-list entries whose timeout has passed; called before anything looks at the list. */
  expireEntries(): void {
    const now = this.now();
    for (const [id, entry] of this.addressList) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.addressList.delete(id);
    }
  }

  // ----- programmatic changes (test API) -----

  addAddressListEntry(input: { list: string; address: string; timeoutMs?: number; comment?: string; disabled?: boolean }): AddressListEntry {
    this.expireEntries();
    const address = normalizeListAddress(input.address);
    if (address === undefined) throw new Error(`invalid address ${input.address}`);
    if (this.findAddressListEntry(input.list, address)) throw new Error('already have such entry');
    const entry: AddressListEntry = {
      id: this.addressListIds.allocate(),
      list: input.list,
      address,
      disabled: input.disabled ?? false,
      createdAt: this.now(),
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
      ...(input.timeoutMs !== undefined ? { expiresAt: this.now() + input.timeoutMs } : {}),
    };
    this.addressList.set(entry.id, entry);
    return entry;
  }

  addPppActive(input: { name: string; service?: string; callerId: string; address: string; encoding?: string; uptimeMs?: number }): PppActiveSession {
    const session: PppActiveSession = {
      id: this.pppActiveIds.allocate(),
      name: input.name,
      service: input.service ?? 'l2tp',
      callerId: input.callerId,
      address: input.address,
      encoding: input.encoding ?? 'cbc(aes) + hmac(sha1)',
      sessionId: `0x${(this.nextSessionId++).toString(16).toUpperCase()}`,
      connectedAt: this.now() - (input.uptimeMs ?? 0),
    };
    this.pppActive.set(session.id, session);
    return session;
  }

  addPppSecret(input: Partial<Omit<PppSecret, 'id'>> & { name: string }): PppSecret {
    if ([...this.pppSecrets.values()].some((s) => s.name === input.name)) {
      throw new TrapError('failure: secret with the same name already exists');
    }
    if (input.profile !== undefined && !this.findPppProfile(input.profile)) throw new Error(`no PPP profile named ${input.profile}`);
    const secret: PppSecret = {
      id: this.pppSecretIds.allocate(),
      password: '',
      profile: 'default',
      service: 'any',
      callerId: '',
      disabled: false,
      ...input,
    };
    this.pppSecrets.set(secret.id, secret);
    return secret;
  }

  addPppProfile(input: { name: string; localAddress?: string; remoteAddress?: string; onUp?: string; onDown?: string }): PppProfile {
    if (input.name === '' || this.findPppProfile(input.name)) throw new Error(`PPP profile ${JSON.stringify(input.name)} is empty or exists already`);
    const profile: PppProfile = {
      id: BUILT_IN_PROFILE_IDS[input.name] ?? this.pppProfileIds.allocate(),
      name: input.name,
      onUp: input.onUp ?? '',
      onDown: input.onDown ?? '',
      ...(input.localAddress !== undefined ? { localAddress: input.localAddress } : {}),
      ...(input.remoteAddress !== undefined ? { remoteAddress: input.remoteAddress } : {}),
    };
    this.pppProfiles.set(profile.id, profile);
    return profile;
  }

  findPppProfile(name: string): PppProfile | undefined {
    return [...this.pppProfiles.values()].find((p) => p.name === name);
  }

  addWireguardInterface(input: { name: string; listenPort?: number; privateKey?: string; mtu?: number; disabled?: boolean; comment?: string }): WireguardInterface {
    if (!this.hasWireguard) throw new Error(`RouterOS ${this.version.text} has no WireGuard (7.0 or later needed)`);
    const attributes = new Map<string, string>([['name', input.name]]);
    if (input.listenPort !== undefined) attributes.set('listen-port', String(input.listenPort));
    if (input.privateKey !== undefined) attributes.set('private-key', input.privateKey);
    if (input.mtu !== undefined) attributes.set('mtu', String(input.mtu));
    if (input.disabled !== undefined) attributes.set('disabled', input.disabled ? 'yes' : 'no');
    if (input.comment !== undefined) attributes.set('comment', input.comment);
    return this.createWireguardInterface(attributes);
  }

  addWireguardPeer(input: WireguardPeerInput): WireguardPeer {
    if (!this.hasWireguard) throw new Error(`RouterOS ${this.version.text} has no WireGuard (7.0 or later needed)`);
    const attributes = new Map<string, string>([
      ['interface', input.interface],
      ['public-key', input.publicKey],
    ]);
    if (input.presharedKey !== undefined) attributes.set('preshared-key', input.presharedKey);
    if (input.allowedAddress !== undefined) attributes.set('allowed-address', input.allowedAddress.join(','));
    if (input.endpointAddress !== undefined) attributes.set('endpoint-address', input.endpointAddress);
    if (input.endpointPort !== undefined) attributes.set('endpoint-port', String(input.endpointPort));
    if (input.persistentKeepaliveMs !== undefined) attributes.set('persistent-keepalive', `${Math.floor(input.persistentKeepaliveMs / 1000)}s`);
    if (input.disabled !== undefined) attributes.set('disabled', input.disabled ? 'yes' : 'no');
    if (input.comment !== undefined) attributes.set('comment', input.comment);
    if (input.name !== undefined) attributes.set('name', input.name);
    return this.createWireguardPeer(attributes);
  }

  /**
   * The peer with this public key completes a handshake now (sim clock), from the given endpoint:
   * `last-handshake` restarts from 0s, `current-endpoint-*` follow the peer, rx/tx grow by the
   * handshake (plus any traffic given). Throws when no peer has the key.
   */
  wireguardHandshake(publicKey: string, input: { endpointAddress: string; endpointPort: number; rxBytes?: number; txBytes?: number }): WireguardPeer {
    const peer = [...this.wireguardPeers.values()].find((p) => p.publicKey === publicKey);
    if (!peer) throw new Error(`no WireGuard peer has public key ${publicKey}`);
    if (isIP(input.endpointAddress) === 0) throw new Error(`not an IP address: ${input.endpointAddress}`);
    peer.lastHandshakeAt = this.now();
    peer.currentEndpointAddress = input.endpointAddress;
    peer.currentEndpointPort = input.endpointPort;
    peer.rx += HANDSHAKE_INITIATION_BYTES + (input.rxBytes ?? 0);
    peer.tx += HANDSHAKE_RESPONSE_BYTES + (input.txBytes ?? 0);
    return peer;
  }

  wireguardInterfaceName(peer: WireguardPeer): string {
    return this.wireguardInterfaces.get(peer.interfaceId)?.name ?? peer.interfaceId;
  }

  // ----- shared command plumbing -----

  private unknownParameter(name: string): TrapError {
    // RouterOS 7 names the parameter; 6.x only says that one was unknown.
    return new TrapError(versionAtLeast(this.version, 7) ? `unknown parameter ${name}` : 'unknown parameter');
  }

  private checkParameters(request: CommandRequest, allowed: readonly string[]): void {
    for (const name of request.attributes.keys()) {
      if (!allowed.includes(name)) throw this.unknownParameter(name);
    }
  }

  private requireParameters(request: CommandRequest, required: readonly string[]): void {
    const missing = required.filter((name) => !request.attributes.has(name));
    if (missing.length > 0) throw new TrapError(`missing value(s) of argument(s) ${missing.join(' ')}`);
  }

  /** Item ids from `.id` (or its CLI name `numbers`), comma separated; every one must exist. */
  private targetIds<T>(request: CommandRequest, table: ReadonlyMap<string, T>): string[] {
    const raw = request.attributes.get('.id') ?? request.attributes.get('numbers');
    if (raw === undefined) throw new TrapError('missing value(s) of argument(s) numbers');
    const ids = raw.split(',');
    for (const id of ids) {
      if (!table.has(id)) throw new TrapError('no such item');
    }
    return ids;
  }

  /** The attributes of a `set` other than the item selector. */
  private changesOf(request: CommandRequest): Map<string, string> {
    return new Map([...request.attributes].filter(([name]) => name !== '.id' && name !== 'numbers'));
  }

  private print(rows: Row[], request: CommandRequest): CommandReply {
    this.checkParameters(request, ['.proplist', 'detail', 'without-paging', 'count-only', 'terse']);
    let match: (row: Row) => boolean;
    try {
      match = compileQuery(request.queries);
      rows = rows.filter(match);
    } catch (err) {
      if (err instanceof QueryError) throw new TrapError(`invalid query: ${err.message}`);
      throw err;
    }
    if (request.attributes.has('count-only')) return { ret: String(rows.length) };
    const proplist = request.attributes.get('.proplist');
    if (proplist !== undefined) {
      const wanted = proplist.split(',').filter((name) => name !== '');
      rows = rows.map((row) => Object.fromEntries(wanted.filter((name) => name in row).map((name) => [name, row[name]!])));
    }
    return { rows };
  }

  // ----- /ip/firewall/address-list -----

  findAddressListEntry(list: string, address: string): AddressListEntry | undefined {
    return [...this.addressList.values()].find((entry) => entry.list === list && entry.address === address);
  }

  addressListRow(entry: AddressListEntry): Row {
    const row: Record<string, string> = {
      '.id': entry.id,
      list: entry.list,
      address: entry.address,
      'creation-time': this.formatTimestamp(entry.createdAt),
    };
    if (entry.expiresAt !== undefined) row.timeout = formatRouterDuration(entry.expiresAt - this.now());
    row.dynamic = String(entry.expiresAt !== undefined);
    row.disabled = String(entry.disabled);
    if (entry.comment !== undefined) row.comment = entry.comment;
    return row;
  }

  private parseTimeout(value: string): number {
    const ms = parseRouterDuration(value);
    if (ms === undefined || ms <= 0) throw new TrapError('invalid value for argument timeout');
    return ms;
  }

  private parseAddress(value: string): string {
    const address = normalizeListAddress(value);
    if (address === undefined) throw new TrapError(`invalid value for argument address`);
    return address;
  }

  private addressListMenu(): Menu {
    const fields = ['list', 'address', 'timeout', 'comment', 'disabled'];
    return {
      path: '/ip/firewall/address-list',
      commands: {
        print: { needs: 'read', run: (req) => this.print([...this.addressList.values()].map((e) => this.addressListRow(e)), req) },
        add: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, fields);
            this.requireParameters(req, ['list', 'address']);
            const list = req.attributes.get('list')!;
            const address = this.parseAddress(req.attributes.get('address')!);
            const timeout = req.attributes.get('timeout');
            const expiresAt = timeout === undefined ? undefined : this.now() + this.parseTimeout(timeout);
            const disabled = req.attributes.has('disabled') ? parseBool('disabled', req.attributes.get('disabled')!) : false;
            if (list === '') throw new TrapError('invalid value for argument list');
            if (this.findAddressListEntry(list, address)) throw new TrapError('failure: already have such entry');
            const comment = req.attributes.get('comment');
            const entry: AddressListEntry = {
              id: this.addressListIds.allocate(),
              list,
              address,
              disabled,
              createdAt: this.now(),
              ...(comment !== undefined && comment !== '' ? { comment } : {}),
              ...(expiresAt !== undefined ? { expiresAt } : {}),
            };
            this.addressList.set(entry.id, entry);
            return { ret: entry.id };
          },
        },
        set: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers', ...fields]);
            const ids = this.targetIds(req, this.addressList);
            for (const id of ids) {
              const entry = this.addressList.get(id)!;
              const list = req.attributes.get('list') ?? entry.list;
              const addressText = req.attributes.get('address');
              const address = addressText === undefined ? entry.address : this.parseAddress(addressText);
              const clash = this.findAddressListEntry(list, address);
              if (clash && clash.id !== id) throw new TrapError('failure: already have such entry');
              const timeout = req.attributes.get('timeout');
              const disabledText = req.attributes.get('disabled');
              const comment = req.attributes.get('comment');
              // Everything is validated before the entry changes, so a trap leaves it as it was.
              const expiresAt = timeout === undefined ? entry.expiresAt : this.now() + this.parseTimeout(timeout);
              const disabled = disabledText === undefined ? entry.disabled : parseBool('disabled', disabledText);
              entry.list = list;
              entry.address = address;
              if (expiresAt !== undefined) entry.expiresAt = expiresAt;
              entry.disabled = disabled;
              if (comment !== undefined) {
                if (comment === '') delete entry.comment;
                else entry.comment = comment;
              }
            }
            return {};
          },
        },
        remove: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers']);
            for (const id of this.targetIds(req, this.addressList)) this.addressList.delete(id);
            return {};
          },
        },
      },
    };
  }

  // ----- /ppp/active -----

  pppActiveRow(session: PppActiveSession): Row {
    return {
      '.id': session.id,
      name: session.name,
      service: session.service,
      'caller-id': session.callerId,
      encoding: session.encoding,
      address: session.address,
      uptime: formatRouterDuration(this.now() - session.connectedAt),
      'session-id': session.sessionId,
      'limit-bytes-in': '0',
      'limit-bytes-out': '0',
      radius: 'false',
    };
  }

  private pppActiveMenu(): Menu {
    return {
      path: '/ppp/active',
      commands: {
        print: { needs: 'read', run: (req) => this.print([...this.pppActive.values()].map((s) => this.pppActiveRow(s)), req) },
        remove: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers']);
            for (const id of this.targetIds(req, this.pppActive)) {
              const session = this.pppActive.get(id)!;
              this.pppActive.delete(id);
              this.options.onPppRemoved(session);
            }
            return {};
          },
        },
      },
    };
  }

  // ----- /ppp/secret -----

  pppSecretRow(secret: PppSecret, showPassword: boolean): Row {
    const row: Record<string, string> = {
      '.id': secret.id,
      name: secret.name,
      service: secret.service,
      'caller-id': secret.callerId,
    };
    // Like RouterOS, the password is only shown to users whose group has the `sensitive` policy.
    if (showPassword) row.password = secret.password;
    row.profile = secret.profile;
    if (secret.localAddress !== undefined) row['local-address'] = secret.localAddress;
    if (secret.remoteAddress !== undefined) row['remote-address'] = secret.remoteAddress;
    row['limit-bytes-in'] = '0';
    row['limit-bytes-out'] = '0';
    row.disabled = String(secret.disabled);
    if (secret.comment !== undefined) row.comment = secret.comment;
    return row;
  }

  private applySecretFields(secret: PppSecret, attributes: ReadonlyMap<string, string>): void {
    for (const [name, value] of attributes) {
      switch (name) {
        case 'name':
          if (value === '') throw new TrapError('invalid value for argument name');
          if ([...this.pppSecrets.values()].some((s) => s.name === value && s.id !== secret.id)) {
            throw new TrapError('failure: secret with the same name already exists');
          }
          secret.name = value;
          break;
        case 'password':
          secret.password = value;
          break;
        case 'profile':
          if (!this.findPppProfile(value)) throw new TrapError('input does not match any value of profile');
          secret.profile = value;
          break;
        case 'service':
          if (!(PPP_SERVICES as readonly string[]).includes(value)) throw new TrapError('input does not match any value of service');
          secret.service = value;
          break;
        case 'caller-id':
          secret.callerId = value;
          break;
        case 'local-address':
        case 'remote-address': {
          const key = name === 'local-address' ? 'localAddress' : 'remoteAddress';
          if (value === '') delete secret[key];
          else if (parseIpv4(value) === undefined) throw new TrapError(`invalid value for argument ${name}`);
          else secret[key] = value;
          break;
        }
        case 'disabled':
          secret.disabled = parseBool('disabled', value);
          break;
        case 'comment':
          if (value === '') delete secret.comment;
          else secret.comment = value;
          break;
        default:
          break;
      }
    }
  }

  private pppSecretMenu(): Menu {
    const fields = ['name', 'password', 'profile', 'service', 'caller-id', 'local-address', 'remote-address', 'disabled', 'comment'];
    return {
      path: '/ppp/secret',
      commands: {
        print: {
          needs: 'read',
          run: (req) => {
            const showPassword = GROUP_POLICIES[req.user.group].has('sensitive');
            return this.print([...this.pppSecrets.values()].map((s) => this.pppSecretRow(s, showPassword)), req);
          },
        },
        add: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, fields);
            this.requireParameters(req, ['name']);
            const draft: PppSecret = {
              id: '',
              name: '',
              password: '',
              profile: 'default',
              service: 'any',
              callerId: '',
              disabled: false,
            };
            this.applySecretFields(draft, req.attributes);
            draft.id = this.pppSecretIds.allocate();
            this.pppSecrets.set(draft.id, draft);
            return { ret: draft.id };
          },
        },
        set: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers', ...fields]);
            for (const id of this.targetIds(req, this.pppSecrets)) {
              const current = this.pppSecrets.get(id)!;
              // Validate on a copy so a rejected value leaves the secret untouched, as on a router.
              const updated = { ...current };
              const changes = new Map([...req.attributes].filter(([name]) => name !== '.id' && name !== 'numbers'));
              this.applySecretFields(updated, changes);
              Object.assign(current, updated);
              if (updated.comment === undefined) delete current.comment;
              if (updated.localAddress === undefined) delete current.localAddress;
              if (updated.remoteAddress === undefined) delete current.remoteAddress;
            }
            return {};
          },
        },
        remove: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers']);
            for (const id of this.targetIds(req, this.pppSecrets)) this.pppSecrets.delete(id);
            return {};
          },
        },
      },
    };
  }

  // ----- /ppp/profile -----

  pppProfileRow(profile: PppProfile): Row {
    const row: Record<string, string> = { '.id': profile.id, name: profile.name };
    if (profile.localAddress !== undefined) row['local-address'] = profile.localAddress;
    if (profile.remoteAddress !== undefined) row['remote-address'] = profile.remoteAddress;
    row['use-mpls'] = 'default';
    row['use-compression'] = 'default';
    row['use-encryption'] = profile.name === 'default-encryption' ? 'yes' : 'default';
    row['only-one'] = 'default';
    row['change-tcp-mss'] = 'yes';
    row['on-up'] = profile.onUp;
    row['on-down'] = profile.onDown;
    row.default = String(profile.name in BUILT_IN_PROFILE_IDS);
    return row;
  }

  private pppProfileMenu(): Menu {
    return {
      path: '/ppp/profile',
      commands: {
        print: { needs: 'read', run: (req) => this.print([...this.pppProfiles.values()].map((p) => this.pppProfileRow(p)), req) },
      },
    };
  }

  // ----- /interface/wireguard -----

  findWireguardInterface(nameOrId: string): WireguardInterface | undefined {
    return this.wireguardInterfaces.get(nameOrId) ?? [...this.wireguardInterfaces.values()].find((i) => i.name === nameOrId);
  }

  wireguardInterfaceRow(iface: WireguardInterface, showPrivateKey: boolean): Row {
    const row: Record<string, string> = {
      '.id': iface.id,
      name: iface.name,
      mtu: String(iface.mtu),
      'listen-port': String(iface.listenPort),
    };
    // Like `password` in /ppp/secret: only users with the `sensitive` policy see it.
    if (showPrivateKey) row['private-key'] = iface.privateKey;
    row['public-key'] = iface.publicKey;
    row.running = String(!iface.disabled);
    row.disabled = String(iface.disabled);
    if (iface.comment !== undefined) row.comment = iface.comment;
    return row;
  }

  private applyWireguardInterfaceFields(iface: WireguardInterface, attributes: ReadonlyMap<string, string>): void {
    for (const [name, value] of attributes) {
      switch (name) {
        case 'name':
          if (value === '') throw new TrapError('invalid value for argument name');
          if ([...this.wireguardInterfaces.values()].some((i) => i.name === value && i.id !== iface.id)) {
            throw new TrapError('failure: already have interface with such name');
          }
          iface.name = value;
          break;
        case 'listen-port':
          iface.listenPort = parsePort(name, value, 1);
          break;
        case 'mtu':
          if (!/^\d{1,5}$/.test(value) || Number(value) > 65536) throw new TrapError('invalid value for argument mtu');
          iface.mtu = Number(value);
          break;
        case 'private-key':
          if (!isWireguardKeyText(value)) throw new TrapError('invalid value for argument private-key');
          iface.privateKey = value;
          iface.publicKey = wireguardPublicKey(value);
          break;
        case 'disabled':
          iface.disabled = parseBool('disabled', value);
          break;
        case 'comment':
          if (value === '') delete iface.comment;
          else iface.comment = value;
          break;
        default:
          break;
      }
    }
  }

  private createWireguardInterface(attributes: ReadonlyMap<string, string>): WireguardInterface {
    const privateKey = newWireguardPrivateKey();
    const draft: WireguardInterface = { id: '', name: '', listenPort: 13231, mtu: 1420, privateKey, publicKey: wireguardPublicKey(privateKey), disabled: false };
    // Without a name RouterOS picks the first free wireguardN.
    let n = 1;
    while ([...this.wireguardInterfaces.values()].some((i) => i.name === `wireguard${n}`)) n++;
    this.applyWireguardInterfaceFields(draft, new Map([['name', `wireguard${n}`], ...attributes]));
    draft.id = this.interfaceIds.allocate();
    this.wireguardInterfaces.set(draft.id, draft);
    return draft;
  }

  private wireguardMenu(): Menu {
    const fields = ['name', 'listen-port', 'mtu', 'private-key', 'disabled', 'comment'];
    return {
      path: '/interface/wireguard',
      commands: {
        print: {
          needs: 'read',
          run: (req) => {
            const showPrivateKey = GROUP_POLICIES[req.user.group].has('sensitive');
            return this.print([...this.wireguardInterfaces.values()].map((i) => this.wireguardInterfaceRow(i, showPrivateKey)), req);
          },
        },
        add: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, fields);
            return { ret: this.createWireguardInterface(req.attributes).id };
          },
        },
        set: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers', ...fields]);
            for (const id of this.targetIds(req, this.wireguardInterfaces)) {
              const current = this.wireguardInterfaces.get(id)!;
              const updated = { ...current };
              this.applyWireguardInterfaceFields(updated, this.changesOf(req));
              Object.assign(current, updated);
              if (updated.comment === undefined) delete current.comment;
            }
            return {};
          },
        },
        remove: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers']);
            for (const id of this.targetIds(req, this.wireguardInterfaces)) {
              this.wireguardInterfaces.delete(id);
              // The interface's peers go with it.
              for (const [peerId, peer] of this.wireguardPeers) if (peer.interfaceId === id) this.wireguardPeers.delete(peerId);
            }
            return {};
          },
        },
      },
    };
  }

  // ----- /interface/wireguard/peers -----

  wireguardPeerRow(peer: WireguardPeer, showPresharedKey: boolean): Row {
    const row: Record<string, string> = { '.id': peer.id, interface: this.wireguardInterfaceName(peer) };
    if (peer.name !== undefined) row.name = peer.name;
    row['public-key'] = peer.publicKey;
    if (showPresharedKey && peer.presharedKey !== undefined) row['preshared-key'] = peer.presharedKey;
    if (peer.endpointAddress !== undefined) row['endpoint-address'] = peer.endpointAddress;
    if (peer.endpointPort !== undefined) row['endpoint-port'] = String(peer.endpointPort);
    if (peer.currentEndpointAddress !== undefined) row['current-endpoint-address'] = peer.currentEndpointAddress;
    if (peer.currentEndpointPort !== undefined) row['current-endpoint-port'] = String(peer.currentEndpointPort);
    row['allowed-address'] = peer.allowedAddress.join(',');
    if (peer.persistentKeepaliveMs !== undefined) row['persistent-keepalive'] = formatRouterDuration(peer.persistentKeepaliveMs);
    row.rx = String(peer.rx);
    row.tx = String(peer.tx);
    // Absent until the first handshake, then the time since the last one.
    if (peer.lastHandshakeAt !== undefined) row['last-handshake'] = formatRouterDuration(this.now() - peer.lastHandshakeAt);
    if (peer.comment !== undefined) row.comment = peer.comment;
    row.disabled = String(peer.disabled);
    return row;
  }

  private wireguardPeerFields(): string[] {
    const fields = ['interface', 'public-key', 'preshared-key', 'allowed-address', 'endpoint-address', 'endpoint-port', 'persistent-keepalive', 'disabled', 'comment'];
    return this.hasPeerNames ? [...fields, 'name'] : fields;
  }

  private applyWireguardPeerFields(peer: WireguardPeer, attributes: ReadonlyMap<string, string>): void {
    for (const [name, value] of attributes) {
      switch (name) {
        case 'interface': {
          const iface = this.findWireguardInterface(value);
          if (!iface) throw new TrapError('input does not match any value of interface');
          peer.interfaceId = iface.id;
          break;
        }
        case 'public-key':
          if (!isWireguardKeyText(value)) throw new TrapError('invalid value for argument public-key');
          peer.publicKey = value;
          break;
        case 'preshared-key':
          if (value === '') delete peer.presharedKey;
          else if (!isWireguardKeyText(value)) throw new TrapError('invalid value for argument preshared-key');
          else peer.presharedKey = value;
          break;
        case 'allowed-address': {
          const addresses: string[] = [];
          for (const item of value === '' ? [] : value.split(',')) {
            const address = normalizeAllowedAddress(item);
            if (address === undefined) throw new TrapError('invalid value for argument allowed-address');
            if (!addresses.includes(address)) addresses.push(address);
          }
          peer.allowedAddress = addresses;
          break;
        }
        case 'endpoint-address':
          if (value === '') delete peer.endpointAddress;
          else if (!isHostOrAddress(value)) throw new TrapError('invalid value for argument endpoint-address');
          else peer.endpointAddress = value;
          break;
        case 'endpoint-port': {
          const port = parsePort(name, value, 0);
          if (port === 0) delete peer.endpointPort;
          else peer.endpointPort = port;
          break;
        }
        case 'persistent-keepalive': {
          const ms = parseRouterDuration(value);
          if (ms === undefined || ms > 65535_000) throw new TrapError('invalid value for argument persistent-keepalive');
          if (ms < 1000) delete peer.persistentKeepaliveMs;
          else peer.persistentKeepaliveMs = Math.floor(ms / 1000) * 1000;
          break;
        }
        case 'disabled':
          peer.disabled = parseBool('disabled', value);
          break;
        case 'comment':
          if (value === '') delete peer.comment;
          else peer.comment = value;
          break;
        case 'name':
          if (value === '') delete peer.name;
          else peer.name = value;
          break;
        default:
          break;
      }
    }
    // One public key, one peer on the whole router, whichever interface it is on: RouterOS
    // answers a second one with this generic message (reported by users; no manual states it).
    if ([...this.wireguardPeers.values()].some((p) => p.publicKey === peer.publicKey && p.id !== peer.id)) {
      throw new TrapError('failure: entry already exists');
    }
  }

  private createWireguardPeer(attributes: ReadonlyMap<string, string>): WireguardPeer {
    const draft: WireguardPeer = { id: '', interfaceId: '', publicKey: '', allowedAddress: [], disabled: false, rx: 0, tx: 0 };
    this.applyWireguardPeerFields(draft, attributes);
    draft.id = this.wireguardPeerIds.allocate();
    this.wireguardPeers.set(draft.id, draft);
    return draft;
  }

  private wireguardPeersMenu(): Menu {
    return {
      path: '/interface/wireguard/peers',
      commands: {
        print: {
          needs: 'read',
          run: (req) => {
            const showPresharedKey = GROUP_POLICIES[req.user.group].has('sensitive');
            return this.print([...this.wireguardPeers.values()].map((p) => this.wireguardPeerRow(p, showPresharedKey)), req);
          },
        },
        add: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, this.wireguardPeerFields());
            this.requireParameters(req, ['interface', 'public-key']);
            return { ret: this.createWireguardPeer(req.attributes).id };
          },
        },
        set: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers', ...this.wireguardPeerFields()]);
            for (const id of this.targetIds(req, this.wireguardPeers)) {
              const current = this.wireguardPeers.get(id)!;
              // Validate on a copy so a rejected value leaves the peer untouched.
              const updated: WireguardPeer = { ...current, allowedAddress: [...current.allowedAddress] };
              this.applyWireguardPeerFields(updated, this.changesOf(req));
              for (const key of Object.keys(current) as (keyof WireguardPeer)[]) if (!(key in updated)) delete current[key];
              Object.assign(current, updated);
            }
            return {};
          },
        },
        remove: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['.id', 'numbers']);
            for (const id of this.targetIds(req, this.wireguardPeers)) this.wireguardPeers.delete(id);
            return {};
          },
        },
      },
    };
  }

  // ----- /system -----

  private resourceMenu(): Menu {
    return {
      path: '/system/resource',
      commands: {
        print: {
          needs: 'read',
          run: (req) =>
            this.print(
              [
                {
                  uptime: formatRouterDuration(this.now() - this.startedAt),
                  version: `${this.version.text} (stable)`,
                  'build-time': '2025-01-01 00:00:00',
                  'free-memory': '201326592',
                  'total-memory': '268435456',
                  cpu: 'ARMv7',
                  'cpu-count': '4',
                  'cpu-load': '1',
                  'free-hdd-space': '100663296',
                  'total-hdd-space': '134217728',
                  'architecture-name': 'arm',
                  'board-name': 'RouterOS simulator',
                  platform: 'MikroTik',
                },
              ],
              req,
            ),
        },
      },
    };
  }

  private identityMenu(): Menu {
    return {
      path: '/system/identity',
      commands: {
        print: { needs: 'read', run: (req) => this.print([{ name: this.identity }], req) },
        set: {
          needs: 'write',
          run: (req) => {
            this.checkParameters(req, ['name']);
            this.requireParameters(req, ['name']);
            this.identity = req.attributes.get('name')!;
            return {};
          },
        },
      },
    };
  }

  /** `creation-time` as the router prints it: ISO-like from 7.10 on, `mmm/dd/yyyy` before. */
  private formatTimestamp(ms: number): string {
    const d = new Date(ms);
    const pad = (n: number) => String(n).padStart(2, '0');
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    if (versionAtLeast(this.version, 7, 10)) {
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}`;
    }
    const month = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'][d.getUTCMonth()];
    return `${month}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${time}`;
  }
}
