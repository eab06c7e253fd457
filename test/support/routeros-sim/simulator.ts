// A RouterOS API server on 127.0.0.1 for integration and end-to-end tests. It speaks the real
// wire protocol (so node-routeros or any other client works unmodified), answers like a router
// does (traps, `!empty` from 7.18, challenge login before 6.43, tags, `/cancel`), keeps an
// address list, PPP sessions, secrets and profiles, WireGuard interfaces and peers (RouterOS 7),
// and lets a test inject faults: dropped links, refused connections, slow or missing replies,
// `!fatal`, and traps on demand.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import {
  GROUP_POLICIES,
  parseVersion,
  RouterState,
  TrapError,
  versionAtLeast,
  type AddressListEntry,
  type CommandReply,
  type PppActiveSession,
  type PppProfile,
  type PppSecret,
  type SimUser,
  type WireguardInterface,
  type WireguardPeer,
  type WireguardPeerInput,
} from './menus.js';
import { encodeSentence, ProtocolError, SentenceDecoder } from './wire.js';

export interface RouterOsSimulatorOptions {
  /** Users that may log in. Default: `admin` with an empty password, group `full`. */
  users?: SimUser[];
  /** RouterOS version, e.g. '6.49.10', '7.17', '7.18.2'. Default '7.18.2' (sends `!empty`), or '6.42.12' with legacyLogin. */
  version?: string;
  /** Pre-6.43 login: `/login` answers a challenge and only `=response=` is accepted. Default: true when version < 6.43. */
  legacyLogin?: boolean;
  /** Send every reply in small chunks with pauses between them, to test a client's reader. */
  splitWrites?: boolean;
  /** `/system/identity` name. Default 'MikroTik'. */
  identity?: string;
  /** PPP profiles that `/ppp/secret` accepts (more with addPppProfile). Default: default, default-encryption. */
  pppProfiles?: string[];
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Serve API-SSL (as on port 8729) with this PEM key and certificate instead of plain API. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface LoggedCommand {
  connection: number;
  /** The command word, e.g. `/ip/firewall/address-list/add`. */
  command: string;
  /** Every word of the sentence as received. */
  words: string[];
  /** Logged-in user at the time, if any. */
  user?: string;
}

export interface SimAddressListEntry {
  id: string;
  list: string;
  address: string;
  comment?: string;
  disabled: boolean;
  dynamic: boolean;
  createdAt: Date;
  /** Time left before the entry expires (sim clock); absent for static entries. */
  timeoutMs?: number;
}

export interface ConnectPppInput {
  name: string;
  service?: string;
  callerId: string;
  address: string;
  encoding?: string;
  /** How long ago the session came up. */
  uptimeMs?: number;
}

export interface SimWireguardInterface {
  id: string;
  name: string;
  listenPort: number;
  mtu: number;
  privateKey: string;
  publicKey: string;
  disabled: boolean;
  comment?: string;
}

export interface SimWireguardPeer {
  id: string;
  /** Interface name. */
  interface: string;
  publicKey: string;
  presharedKey?: string;
  allowedAddress: string[];
  endpointAddress?: string;
  endpointPort?: number;
  persistentKeepaliveSeconds?: number;
  disabled: boolean;
  comment?: string;
  name?: string;
  currentEndpointAddress?: string;
  currentEndpointPort?: number;
  /** Sim-clock time since the last handshake; absent when there was none. */
  lastHandshakeAgoMs?: number;
  rx: number;
  tx: number;
}

export interface WireguardHandshakeInput {
  /** Where the peer's packets came from (becomes `current-endpoint-address`). */
  endpointAddress: string;
  endpointPort: number;
  /** Traffic to count on top of the handshake itself. */
  rxBytes?: number;
  txBytes?: number;
}

export type { PppActiveSession, PppProfile, PppSecret, SimUser, UserGroup, WireguardPeerInput } from './menus.js';

interface SimulatorEvents {
  /** A `/ppp/active/remove` through the API disconnected this session (the router would now run on-down). */
  'ppp-removed': [session: PppActiveSession];
  connection: [connectionId: number];
  login: [info: { connection: number; user: string }];
}

interface FailRule {
  command: string;
  message: string;
  remaining: number;
}

/** A command the simulator has accepted but not answered yet (delayed or swallowed); `/cancel` can stop it. */
interface RunningCommand {
  tag: string | undefined;
  timer?: NodeJS.Timeout;
}

/** Chunk sizes used in split-writes mode; fixed so a failure reproduces. */
const SPLIT_PATTERN = [1, 3, 2, 5, 1, 7, 4, 2];

class SimConnection {
  user: SimUser | undefined;
  challenge: Buffer | undefined;
  readonly decoder = new SentenceDecoder();
  readonly running = new Map<string, RunningCommand>();
  private untaggedSeq = 0;
  private readonly outbox: Buffer[] = [];
  private pumpTimer: NodeJS.Timeout | undefined;
  private splitIndex = 0;
  private endAfterFlush = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly splitWrites: () => boolean,
  ) {}

  get open(): boolean {
    return !this.socket.destroyed;
  }

  runningKey(tag: string | undefined): string {
    return tag ?? `untagged#${++this.untaggedSeq}`;
  }

  /** Writes sentences in order. Normally one socket write per sentence: node-routeros needs that. */
  send(sentences: readonly (readonly string[])[]): void {
    if (!this.open) return;
    for (const words of sentences) {
      const buf = encodeSentence(words);
      if (!this.splitWrites() && this.outbox.length === 0 && this.pumpTimer === undefined) {
        this.socket.write(buf);
        continue;
      }
      if (!this.splitWrites()) {
        this.outbox.push(buf);
        continue;
      }
      // The terminating empty word always travels alone: that is the split readers get wrong.
      const body = buf.subarray(0, buf.length - 1);
      for (let offset = 0; offset < body.length; ) {
        const size = SPLIT_PATTERN[this.splitIndex++ % SPLIT_PATTERN.length]!;
        this.outbox.push(body.subarray(offset, offset + size));
        offset += size;
      }
      this.outbox.push(buf.subarray(buf.length - 1));
    }
    this.pump();
  }

  /** Ends the connection once everything queued has been written. */
  endAfterQueued(): void {
    this.endAfterFlush = true;
    this.pump();
  }

  private pump(): void {
    if (this.pumpTimer !== undefined) return;
    const chunk = this.outbox.shift();
    if (chunk === undefined) {
      if (this.endAfterFlush && this.open) this.socket.end();
      return;
    }
    if (this.open) this.socket.write(chunk);
    // A pause between chunks makes them arrive as separate reads on the client.
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, 1);
  }

  dispose(): void {
    if (this.pumpTimer !== undefined) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    this.outbox.length = 0;
    for (const command of this.running.values()) if (command.timer) clearTimeout(command.timer);
    this.running.clear();
  }
}

function trapSentence(tagWord: string[], message: string, category?: number): string[] {
  return ['!trap', ...tagWord, ...(category === undefined ? [] : [`=category=${category}`]), `=message=${message}`];
}

export class RouterOsSimulator extends EventEmitter<SimulatorEvents> {
  readonly host = '127.0.0.1';
  /** Every sentence received, in order, from every connection. */
  readonly commandLog: LoggedCommand[] = [];

  private server: Server | undefined;
  private listenPort = 0;
  private readonly connections = new Set<SimConnection>();
  private nextConnectionId = 1;
  private clockOffsetMs = 0;
  private delayMs = 0;
  private splitWrites: boolean;
  private readonly failRules: FailRule[] = [];
  private readonly noReply = new Set<string>();
  private readonly users: SimUser[];
  private readonly legacyLogin: boolean;
  private readonly tls: RouterOsSimulatorOptions['tls'];
  private readonly state: RouterState;
  private readonly directories: ReadonlySet<string>;
  private stopped = false;

  private constructor(options: RouterOsSimulatorOptions) {
    super();
    this.users = options.users ?? [{ name: 'admin', password: '', group: 'full' }];
    // A router older than 6.43 only knows the challenge login, unless the test says otherwise.
    this.legacyLogin = options.legacyLogin ?? (options.version !== undefined && !versionAtLeast(parseVersion(options.version), 6, 43));
    this.splitWrites = options.splitWrites ?? false;
    this.tls = options.tls;
    this.state = new RouterState({
      now: () => this.now(),
      version: parseVersion(options.version ?? (this.legacyLogin ? '6.42.12' : '7.18.2')),
      identity: options.identity ?? 'MikroTik',
      pppProfiles: options.pppProfiles ?? ['default', 'default-encryption'],
      onPppRemoved: (session) => setImmediate(() => this.emit('ppp-removed', { ...session })),
    });
    // `/interface` exists on every version, so a 6.x router names `wireguard` as the unknown part.
    const directories = new Set<string>(['/interface']);
    for (const path of this.state.menus.keys()) {
      const parts = path.split('/');
      for (let i = 2; i <= parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    }
    this.directories = directories;
  }

  static async start(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
    const sim = new RouterOsSimulator(options);
    await sim.listen(options.port ?? 0);
    return sim;
  }

  get port(): number {
    return this.listenPort;
  }

  /** Connections currently open (logged in or not). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The simulator's clock: real time plus whatever advanceClock() added. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the router's clock forward: address-list timeouts run out, uptimes and `last-handshake` grow. */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
    this.state.expireEntries();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const connection of this.connections) {
      connection.dispose();
      connection.socket.destroy();
    }
    this.connections.clear();
    await this.closeListener();
  }

  // ----- router contents -----

  addressList(list?: string): SimAddressListEntry[] {
    this.state.expireEntries();
    return [...this.state.addressList.values()].filter((e) => list === undefined || e.list === list).map((e) => this.describeEntry(e));
  }

  /** Seeds an entry as if an admin had added it; `timeoutMs` makes it dynamic. */
  addAddressListEntry(input: { list: string; address: string; timeoutMs?: number; comment?: string; disabled?: boolean }): SimAddressListEntry {
    return this.describeEntry(this.state.addAddressListEntry(input));
  }

  /** Removes an entry as a router script would (`/ip firewall address-list remove`). */
  removeAddressListEntry(id: string): boolean {
    return this.state.addressList.delete(id);
  }

  pppActive(): PppActiveSession[] {
    return [...this.state.pppActive.values()].map((s) => ({ ...s }));
  }

  pppSecrets(): PppSecret[] {
    return [...this.state.pppSecrets.values()].map((s) => ({ ...s }));
  }

  addPppSecret(input: Partial<Omit<PppSecret, 'id'>> & { name: string }): PppSecret {
    return { ...this.state.addPppSecret(input) };
  }

  /** Profiles `/ppp/secret` accepts; the constructor's `pppProfiles` option seeds them. */
  pppProfiles(): PppProfile[] {
    return [...this.state.pppProfiles.values()].map((p) => ({ ...p }));
  }

  addPppProfile(input: { name: string; localAddress?: string; remoteAddress?: string; onUp?: string; onDown?: string }): PppProfile {
    return { ...this.state.addPppProfile(input) };
  }

  /** Adds a `/interface/wireguard` interface (RouterOS 7 only); without a private key the router makes one. */
  addWireguardInterface(input: { name: string; listenPort?: number; privateKey?: string; mtu?: number }): SimWireguardInterface {
    return this.describeWireguardInterface(this.state.addWireguardInterface(input));
  }

  wireguardInterfaces(): SimWireguardInterface[] {
    return [...this.state.wireguardInterfaces.values()].map((i) => this.describeWireguardInterface(i));
  }

  /** Seeds a peer as an admin would; checked like an API `add` (throws the router's trap message). */
  addWireguardPeer(input: WireguardPeerInput): SimWireguardPeer {
    return this.describeWireguardPeer(this.state.addWireguardPeer(input));
  }

  wireguardPeers(interfaceName?: string): SimWireguardPeer[] {
    return [...this.state.wireguardPeers.values()]
      .map((p) => this.describeWireguardPeer(p))
      .filter((p) => interfaceName === undefined || p.interface === interfaceName);
  }

  /**
   * The peer with `publicKey` completes a handshake now (on the sim clock) from the given
   * endpoint: its `last-handshake` starts again from 0s and `current-endpoint-*` follow it.
   * Throws when no peer has that key.
   */
  wireguardHandshake(publicKey: string, input: WireguardHandshakeInput): SimWireguardPeer {
    return this.describeWireguardPeer(this.state.wireguardHandshake(publicKey, input));
  }

  /** A VPN client connects: adds a `/ppp/active` row and returns its `.id`. */
  connectPpp(input: ConnectPppInput): string {
    return this.state.addPppActive(input).id;
  }

  /** The client side hangs up (not an API remove, so no 'ppp-removed' event). */
  disconnectPpp(id: string): boolean {
    return this.state.pppActive.delete(id);
  }

  get identity(): string {
    return this.state.identity;
  }

  clearCommandLog(): void {
    this.commandLog.length = 0;
  }

  // ----- fault injection -----

  /** Destroys every open connection, as a router reboot or a cut cable would. */
  dropConnections(): void {
    for (const connection of this.connections) {
      connection.dispose();
      connection.socket.destroy();
    }
    this.connections.clear();
  }

  /** true: stop listening (new connections are refused; open ones stay). false: listen again on the same port. */
  async setRefuseConnections(refuse: boolean): Promise<void> {
    if (refuse) await this.closeListener();
    else if (this.server === undefined && !this.stopped) await this.listen(this.listenPort);
  }

  /** Delays every reply (login included) by `ms`. */
  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  setSplitWrites(enabled: boolean): void {
    this.splitWrites = enabled;
  }

  /** Sends `!fatal <message>` on every connection and closes them, as a router does. */
  sendFatal(message: string): void {
    for (const connection of this.connections) {
      connection.send([['!fatal', message]]);
      connection.endAfterQueued();
    }
  }

  /** The next `count` commands with this path (e.g. '/ip/firewall/address-list/add') get `!trap =message=<trapMessage>`. */
  failNext(commandPath: string, trapMessage: string, count = 1): void {
    this.failRules.push({ command: commandPath, message: trapMessage, remaining: count });
  }

  /** Commands with this path are accepted but never answered (until cancelled or the link drops). */
  setNoReply(commandPath: string, enabled = true): void {
    if (enabled) this.noReply.add(commandPath);
    else this.noReply.delete(commandPath);
  }

  /** Removes every injected fault: delay, failNext rules, swallowed commands. */
  clearFaults(): void {
    this.delayMs = 0;
    this.failRules.length = 0;
    this.noReply.clear();
  }

  // ----- server plumbing -----

  private listen(port: number): Promise<void> {
    const server = this.tls
      ? createTlsServer({ key: this.tls.key, cert: this.tls.cert }, (socket) => this.accept(socket))
      : createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.host }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        const address = server.address();
        if (address && typeof address === 'object') this.listenPort = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  private closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    // close() stops accepting at once; its callback waits for open connections, which the caller may keep.
    return new Promise((resolve) => {
      server.close(() => resolve());
      if (this.connections.size > 0) setImmediate(resolve);
    });
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    // Without Nagle's algorithm each reply (or split-mode piece) leaves at once.
    socket.setNoDelay(true);
    const connection = new SimConnection(this.nextConnectionId++, socket, () => this.splitWrites);
    this.connections.add(connection);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connection.dispose();
      this.connections.delete(connection);
    });
    socket.on('data', (chunk: Buffer) => {
      let sentences: string[][];
      try {
        sentences = connection.decoder.push(chunk);
      } catch (err) {
        // A router drops a connection whose framing it cannot follow.
        if (err instanceof ProtocolError) {
          socket.destroy();
          return;
        }
        throw err;
      }
      for (const words of sentences) this.receive(connection, words);
    });
    this.emit('connection', connection.id);
  }

  private receive(connection: SimConnection, words: string[]): void {
    const command = words[0]!;
    this.commandLog.push({
      connection: connection.id,
      command,
      words: [...words],
      ...(connection.user ? { user: connection.user.name } : {}),
    });

    let tag: string | undefined;
    const attributes = new Map<string, string>();
    const queries: string[] = [];
    let badWord: string | undefined;
    for (const word of words.slice(1)) {
      if (word.startsWith('.tag=')) tag = word.slice(5);
      else if (word.startsWith('=')) {
        const eq = word.indexOf('=', 1);
        if (eq === -1) attributes.set(word.slice(1), '');
        else attributes.set(word.slice(1, eq), word.slice(eq + 1));
      } else if (word.startsWith('?')) queries.push(word);
      else badWord ??= word;
    }
    const tagWord = tag === undefined ? [] : [`.tag=${tag}`];

    if (!command.startsWith('/')) {
      connection.send([trapSentence(tagWord, 'no such command', 0), ['!done', ...tagWord]]);
      return;
    }
    if (command === '/quit') {
      connection.send([['!fatal', 'session terminated on request']]);
      connection.endAfterQueued();
      return;
    }
    if (command === '/login') {
      this.reply(connection, command, tag, () => this.login(connection, attributes));
      return;
    }
    if (!connection.user) {
      connection.send([trapSentence(tagWord, 'not logged in'), ['!done', ...tagWord]]);
      return;
    }
    if (command === '/cancel') {
      this.cancel(connection, attributes.get('tag'), tagWord);
      return;
    }
    if (badWord !== undefined) {
      connection.send([trapSentence(tagWord, `unknown parameter`), ['!done', ...tagWord]]);
      return;
    }
    const user = connection.user;
    this.reply(connection, command, tag, () => this.execute(command, attributes, queries, user));
  }

  /**
   * Applies the injected faults, then answers: a queued trap, silence, or the producer's reply,
   * after the configured delay. Each reply goes out as whole sentences, tagged like the command.
   */
  private reply(connection: SimConnection, command: string, tag: string | undefined, produce: () => CommandReply | TrapError): void {
    const tagWord = tag === undefined ? [] : [`.tag=${tag}`];
    const key = connection.runningKey(tag);

    if (this.noReply.has(command)) {
      connection.running.set(key, { tag });
      return;
    }
    const rule = this.failRules.find((r) => r.command === command && r.remaining > 0);
    if (rule) rule.remaining--;

    const answer = (): void => {
      connection.running.delete(key);
      if (!connection.open) return;
      if (rule) {
        connection.send([trapSentence(tagWord, rule.message), ['!done', ...tagWord]]);
        return;
      }
      const result = produce();
      if (result instanceof TrapError) {
        connection.send([trapSentence(tagWord, result.message, result.category), ['!done', ...tagWord]]);
        return;
      }
      const sentences: string[][] = (result.rows ?? []).map((row) => [
        '!re',
        ...tagWord,
        ...Object.entries(row).map(([name, value]) => `=${name}=${value}`),
      ]);
      const isPrint = /\/(print|getall)$/.test(command);
      if (isPrint && result.ret === undefined && sentences.length === 0 && versionAtLeast(this.state.version, 7, 18)) {
        sentences.push(['!empty', ...tagWord]);
      }
      sentences.push(['!done', ...tagWord, ...(result.ret === undefined ? [] : [`=ret=${result.ret}`])]);
      connection.send(sentences);
    };

    if (this.delayMs > 0) {
      connection.running.set(key, { tag, timer: setTimeout(answer, this.delayMs) });
    } else {
      answer();
    }
  }

  /** `/cancel`: the cancelled command gets `!trap =category=2 =message=interrupted`, then cancel's `!done`, then its own `!done`. */
  private cancel(connection: SimConnection, targetTag: string | undefined, tagWord: string[]): void {
    const targets = [...connection.running.entries()].filter(([, command]) => targetTag === undefined || command.tag === targetTag);
    const traps: string[][] = [];
    const dones: string[][] = [];
    for (const [key, command] of targets) {
      if (command.timer) clearTimeout(command.timer);
      connection.running.delete(key);
      const word = command.tag === undefined ? [] : [`.tag=${command.tag}`];
      traps.push(trapSentence(word, 'interrupted', 2));
      dones.push(['!done', ...word]);
    }
    connection.send([...traps, ['!done', ...tagWord], ...dones]);
  }

  private login(connection: SimConnection, attributes: ReadonlyMap<string, string>): CommandReply | TrapError {
    const name = attributes.get('name');
    const password = attributes.get('password');
    const response = attributes.get('response');
    const failMessage = this.legacyLogin ? 'cannot log in' : 'invalid user name or password (6)';
    // 6.43 to 6.49 still answer the old challenge form; RouterOS 7 only takes the plain one.
    const challengeAllowed = this.legacyLogin || !versionAtLeast(this.state.version, 7);

    const issueChallenge = (): CommandReply => {
      connection.challenge = randomBytes(16);
      return { ret: connection.challenge.toString('hex') };
    };
    const succeed = (user: SimUser): CommandReply => {
      connection.user = user;
      this.emit('login', { connection: connection.id, user: user.name });
      return {};
    };
    const fail = (): TrapError => {
      connection.user = undefined;
      return new TrapError(failMessage);
    };

    if (response !== undefined && challengeAllowed) {
      const challenge = connection.challenge;
      connection.challenge = undefined;
      const user = this.users.find((u) => u.name === name);
      if (!challenge || !user) return fail();
      const expected = '00' + createHash('md5').update(Buffer.concat([Buffer.from([0]), Buffer.from(user.password, 'latin1'), challenge])).digest('hex');
      return response.toLowerCase() === expected ? succeed(user) : fail();
    }
    // A pre-6.43 router ignores a plain password and answers with its challenge; node-routeros relies on that.
    if (this.legacyLogin) return issueChallenge();
    if (password !== undefined && name !== undefined) {
      const user = this.users.find((u) => u.name === name && u.password === password);
      return user ? succeed(user) : fail();
    }
    if (challengeAllowed && name === undefined) return issueChallenge();
    return fail();
  }

  private execute(command: string, attributes: ReadonlyMap<string, string>, queries: string[], user: SimUser): CommandReply | TrapError {
    const slash = command.lastIndexOf('/');
    const menuPath = command.slice(0, slash);
    const verb = command.slice(slash + 1);
    const menu = this.state.menus.get(menuPath);
    if (!menu) {
      if (this.directories.has(command)) return new TrapError('no such command prefix', 0);
      const parts = command.split('/').slice(1);
      let prefix = '';
      for (const part of parts) {
        prefix += `/${part}`;
        if (!this.directories.has(prefix)) return new TrapError(`no such command or directory (${part})`, 0);
      }
      return new TrapError('no such command prefix', 0);
    }
    const spec = menu.commands[verb === 'getall' ? 'print' : verb];
    if (!spec) return new TrapError(`no such command or directory (${verb})`, 0);
    if (!GROUP_POLICIES[user.group].has(spec.needs)) return new TrapError('not enough permissions (9)');
    try {
      this.state.expireEntries();
      return spec.run({ command: verb, attributes, queries, user });
    } catch (err) {
      if (err instanceof TrapError) return err;
      return new TrapError(`failure: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private describeWireguardInterface(iface: WireguardInterface): SimWireguardInterface {
    return { ...iface };
  }

  private describeWireguardPeer(peer: WireguardPeer): SimWireguardPeer {
    const { interfaceId: _interfaceId, persistentKeepaliveMs, lastHandshakeAt, allowedAddress, ...rest } = peer;
    return {
      ...rest,
      interface: this.state.wireguardInterfaceName(peer),
      allowedAddress: [...allowedAddress],
      ...(persistentKeepaliveMs !== undefined ? { persistentKeepaliveSeconds: persistentKeepaliveMs / 1000 } : {}),
      ...(lastHandshakeAt !== undefined ? { lastHandshakeAgoMs: this.now() - lastHandshakeAt } : {}),
    };
  }

  private describeEntry(entry: AddressListEntry): SimAddressListEntry {
    return {
      id: entry.id,
      list: entry.list,
      address: entry.address,
      ...(entry.comment !== undefined ? { comment: entry.comment } : {}),
      disabled: entry.disabled,
      dynamic: entry.expiresAt !== undefined,
      createdAt: new Date(entry.createdAt),
      ...(entry.expiresAt !== undefined ? { timeoutMs: Math.max(0, entry.expiresAt - this.now()) } : {}),
    };
  }
}
