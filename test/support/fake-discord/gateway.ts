// The fake gateway: API v10 over WebSocket with JSON frames (no zlib, no ETF). It owns
// connections and sessions: HELLO, IDENTIFY -> READY, heartbeats, RESUME with replay of the
// dispatches a dropped connection missed, op 7 RECONNECT and op 9 INVALID SESSION, and the
// close codes Discord uses when a client misbehaves. Every live session receives every
// dispatch it is entitled to, as on Discord, so two processes on one token both see a click.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { sessionId as newSessionId } from './snowflake.js';
import type { DiscordUser, GatewayEvent, SessionInfo } from './types.js';

export const OP = {
  DISPATCH: 0,
  HEARTBEAT: 1,
  IDENTIFY: 2,
  PRESENCE_UPDATE: 3,
  VOICE_STATE_UPDATE: 4,
  RESUME: 6,
  RECONNECT: 7,
  REQUEST_GUILD_MEMBERS: 8,
  INVALID_SESSION: 9,
  HELLO: 10,
  HEARTBEAT_ACK: 11,
} as const;

export const INTENTS = {
  GUILDS: 1 << 0,
  GUILD_MEMBERS: 1 << 1,
  GUILD_PRESENCES: 1 << 8,
  GUILD_MESSAGES: 1 << 9,
  DIRECT_MESSAGES: 1 << 12,
  MESSAGE_CONTENT: 1 << 15,
} as const;

// Every intent bit Discord defines (0-16, 20, 21, 24, 25); others close with 4013.
const KNOWN_INTENTS = 0x1ffff | (1 << 20) | (1 << 21) | (1 << 24) | (1 << 25);
const PRIVILEGED_INTENTS = INTENTS.GUILD_MEMBERS | INTENTS.GUILD_PRESENCES | INTENTS.MESSAGE_CONTENT;
// Clients may send 120 payloads per 60 s per connection; Discord closes with 4008 beyond.
const SEND_LIMIT = 120;
const SEND_WINDOW_MS = 60_000;
// Discord rejects client payloads above 4096 bytes.
const MAX_PAYLOAD_BYTES = 4096;

const CLOSE = {
  unknownOpcode: [4001, 'Unknown opcode.'],
  decodeError: [4002, 'Error while decoding payload.'],
  notAuthenticated: [4003, 'Not authenticated.'],
  authenticationFailed: [4004, 'Authentication failed.'],
  alreadyAuthenticated: [4005, 'Already authenticated.'],
  invalidSeq: [4007, 'Invalid seq.'],
  rateLimited: [4008, 'Rate limited.'],
  sessionTimedOut: [4009, 'Session timed out.'],
  invalidShard: [4010, 'Invalid shard.'],
  invalidApiVersion: [4012, 'Invalid API version.'],
  invalidIntents: [4013, 'Invalid intent(s).'],
  disallowedIntents: [4014, 'Disallowed intent(s).'],
} as const satisfies Record<string, readonly [number, string]>;

export interface GatewayOptions {
  heartbeatIntervalMs: number;
  /** Extra time past the interval before a silent connection is closed (4009). */
  heartbeatGraceMs: number;
  /** How long a disconnected session can still be resumed. */
  resumeWindowMs: number;
  /** Privileged intents enabled for the app in the developer portal (bit mask). */
  privilegedIntents: number;
  /** After op 7, how long the fake waits for the client to close before it drops the socket. */
  reconnectCloseDelayMs: number;
}

export interface GatewayHost {
  readonly token: string;
  readonly botUser: DiscordUser;
  readonly applicationId: string;
  readonly applicationFlags: number;
  /** ws:// URL sent as resume_gateway_url (no query string). */
  readonly resumeGatewayUrl: string;
  /** Counts an IDENTIFY against session_start_limit. */
  noteIdentify(): void;
  /** Guilds the bot is in on this shard: READY lists them as unavailable. */
  readyGuildIds(shard: [number, number]): string[];
  /** Right after READY: the host sends GUILD_CREATE for those guilds (with `dispatchToSession`). */
  onReady(session: { id: string; intents: number; shard: [number, number] }): void;
  changed(): void;
}

export interface DispatchFilter {
  /** Only sessions that identified with all these intent bits receive it. */
  intent?: number;
  /** DM events go to shard 0 only. */
  dm?: boolean;
  /** Guild events go to the guild's shard: (guild_id >> 22) % shard count. */
  guildId?: string;
}

/** The payload, or a function making it per session (e.g. content hidden without MESSAGE_CONTENT). */
export type DispatchData = unknown | ((session: { intents: number }) => unknown);

export const shardOfGuild = (guildId: string, shardCount: number): number => Number((BigInt(guildId) >> 22n) % BigInt(shardCount));

interface StoredDispatch {
  s: number;
  frame: string;
}

interface Connection {
  id: number;
  socket: WebSocket;
  session?: Session;
  heartbeatTimer?: NodeJS.Timeout;
  reconnectTimer?: NodeJS.Timeout;
  sent: number;
  windowStart: number;
  serverCloseCode?: number;
}

interface Session {
  id: string;
  seq: number;
  intents: number;
  shard: [number, number];
  events: StoredDispatch[];
  connection?: Connection;
  invalid: boolean;
  disconnectedAt?: number;
  resumes: number;
}

const trace = (): string[] => [JSON.stringify(['gateway-prd-fake-1', { micros: 0 }])];

export class Gateway {
  readonly log: GatewayEvent[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly connections = new Set<Connection>();
  private readonly sessions = new Map<string, Session>();
  private nextConnectionId = 1;

  constructor(
    private readonly host: GatewayHost,
    private readonly options: GatewayOptions,
  ) {}

  /** Takes over an HTTP upgrade request for the gateway paths. */
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    if (url.pathname !== '/gateway' && url.pathname !== '/gateway/resume') return refuse(404, 'Not Found');
    const encoding = url.searchParams.get('encoding') ?? 'json';
    if (encoding !== 'json') return refuse(501, `fake-discord does not model the ${encoding} gateway encoding`);
    if (url.searchParams.has('compress')) return refuse(501, 'fake-discord does not model gateway transport compression');
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, url.searchParams.get('v')));
  }

  private accept(socket: WebSocket, version: string | null): void {
    const connection: Connection = { id: this.nextConnectionId++, socket, sent: 0, windowStart: Date.now() };
    this.connections.add(connection);
    this.record({ kind: 'connect', connectionId: connection.id });
    socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    socket.on('close', (code) => this.onClose(connection, code));
    socket.on('error', () => undefined);
    if (version !== null && version !== '10') {
      this.close(connection, CLOSE.invalidApiVersion);
      return;
    }
    this.send(connection, { op: OP.HELLO, d: { heartbeat_interval: this.options.heartbeatIntervalMs, _trace: trace() }, s: null, t: null });
    this.armHeartbeatTimer(connection);
  }

  // -------------------------------------------------------------------------------------------
  // Test controls

  /** Sends op 7 RECONNECT on every authenticated connection. */
  requestReconnect(): number {
    let count = 0;
    for (const connection of this.connections) {
      if (connection.session === undefined) continue;
      count++;
      this.send(connection, { op: OP.RECONNECT, d: null, s: null, t: null });
      this.record({ kind: 'reconnect-requested', connectionId: connection.id, sessionId: connection.session.id });
      // Discord drops the connection itself if the client does not act on op 7.
      connection.reconnectTimer = setTimeout(() => connection.socket.terminate(), this.options.reconnectCloseDelayMs);
      connection.reconnectTimer.unref();
    }
    return count;
  }

  /** Destroys every gateway socket without a close frame, as a network failure would. */
  drop(): number {
    let count = 0;
    for (const connection of this.connections) {
      count++;
      this.record({ kind: 'dropped', connectionId: connection.id, ...(connection.session ? { sessionId: connection.session.id } : {}) });
      connection.socket.terminate();
    }
    return count;
  }

  /** Sends op 9 on every authenticated connection; unless resumable the sessions end. */
  invalidateSessions(resumable: boolean): number {
    let count = 0;
    for (const connection of this.connections) {
      const session = connection.session;
      if (session === undefined) continue;
      count++;
      this.send(connection, { op: OP.INVALID_SESSION, d: resumable, s: null, t: null });
      this.record({ kind: 'invalid-session', connectionId: connection.id, sessionId: session.id });
      connection.session = undefined;
      session.connection = undefined;
      if (resumable) session.disconnectedAt = Date.now();
      else session.invalid = true;
    }
    this.host.changed();
    return count;
  }

  get sessionInfo(): SessionInfo[] {
    return [...this.sessions.values()].map((session) => ({
      id: session.id,
      state: this.isUsable(session) ? (session.connection === undefined ? 'disconnected' : 'connected') : 'invalid',
      seq: session.seq,
      intents: session.intents,
      resumes: session.resumes,
    }));
  }

  /** Sessions that will receive dispatches now or on resume. */
  get liveSessionCount(): number {
    return [...this.sessions.values()].filter((session) => this.isUsable(session)).length;
  }

  get openConnectionCount(): number {
    return this.connections.size;
  }

  stop(): void {
    for (const connection of this.connections) {
      clearTimeout(connection.heartbeatTimer);
      clearTimeout(connection.reconnectTimer);
      connection.socket.terminate();
    }
    this.wss.close();
  }

  // -------------------------------------------------------------------------------------------
  // Dispatching

  /**
   * Sends a dispatch to every usable session entitled to it; disconnected sessions keep it for
   * replay on resume. Returns how many sessions got it (now or later).
   */
  dispatch(t: string, d: DispatchData, filter: DispatchFilter = {}): number {
    let count = 0;
    for (const session of this.sessions.values()) {
      if (!this.isUsable(session)) continue;
      if (filter.intent !== undefined && (session.intents & filter.intent) !== filter.intent) continue;
      if (filter.dm === true && session.shard[0] !== 0) continue;
      if (filter.guildId !== undefined && session.shard[0] !== shardOfGuild(filter.guildId, session.shard[1])) continue;
      this.dispatchTo(session, t, typeof d === 'function' ? (d as (s: { intents: number }) => unknown)(session) : d);
      count++;
    }
    this.host.changed();
    return count;
  }

  /** One dispatch to one session (GUILD_CREATE after its READY). */
  dispatchToSession(sessionId: string, t: string, d: unknown): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined && this.isUsable(session)) this.dispatchTo(session, t, d);
  }

  private dispatchTo(session: Session, t: string, d: unknown): void {
    session.seq++;
    const frame = JSON.stringify({ op: OP.DISPATCH, t, s: session.seq, d });
    session.events.push({ s: session.seq, frame });
    const connection = session.connection;
    if (connection !== undefined && connection.socket.readyState === connection.socket.OPEN) connection.socket.send(frame);
  }

  private isUsable(session: Session): boolean {
    if (session.invalid) return false;
    if (session.connection === undefined && session.disconnectedAt !== undefined && Date.now() - session.disconnectedAt > this.options.resumeWindowMs) {
      session.invalid = true;
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Protocol

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return this.close(connection, CLOSE.decodeError);
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) return this.close(connection, CLOSE.decodeError);
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(text) as { op?: unknown; d?: unknown };
    } catch {
      return this.close(connection, CLOSE.decodeError);
    }
    const now = Date.now();
    if (now - connection.windowStart > SEND_WINDOW_MS) {
      connection.windowStart = now;
      connection.sent = 0;
    }
    if (++connection.sent > SEND_LIMIT) return this.close(connection, CLOSE.rateLimited);

    switch (payload.op) {
      case OP.HEARTBEAT:
        this.armHeartbeatTimer(connection);
        this.send(connection, { op: OP.HEARTBEAT_ACK, d: null, s: null, t: null });
        return;
      case OP.IDENTIFY:
        return this.identify(connection, payload.d);
      case OP.RESUME:
        return this.resume(connection, payload.d);
      case OP.PRESENCE_UPDATE:
      case OP.VOICE_STATE_UPDATE:
      case OP.REQUEST_GUILD_MEMBERS:
        // Accepted and ignored: the fake has no presences or voice, and does not chunk members.
        if (connection.session === undefined) this.close(connection, CLOSE.notAuthenticated);
        return;
      default:
        return this.close(connection, CLOSE.unknownOpcode);
    }
  }

  private identify(connection: Connection, raw: unknown): void {
    if (connection.session !== undefined) return this.close(connection, CLOSE.alreadyAuthenticated);
    const d = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (typeof d.properties !== 'object' || d.properties === null) return this.close(connection, CLOSE.decodeError);
    if (d.token !== this.host.token) return this.close(connection, CLOSE.authenticationFailed);
    const intents = d.intents;
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || (intents & ~KNOWN_INTENTS) !== 0) {
      return this.close(connection, CLOSE.invalidIntents);
    }
    if ((intents & PRIVILEGED_INTENTS & ~this.options.privilegedIntents) !== 0) return this.close(connection, CLOSE.disallowedIntents);
    let shard: [number, number] = [0, 1];
    if (d.shard !== undefined && d.shard !== null) {
      const [id, count] = Array.isArray(d.shard) ? (d.shard as unknown[]) : [];
      if (typeof id !== 'number' || typeof count !== 'number' || count < 1 || id < 0 || id >= count) {
        return this.close(connection, CLOSE.invalidShard);
      }
      shard = [id, count];
    }
    this.host.noteIdentify();
    const session: Session = { id: newSessionId(), seq: 0, intents, shard, events: [], invalid: false, resumes: 0 };
    this.sessions.set(session.id, session);
    connection.session = session;
    session.connection = connection;
    this.record({ kind: 'identify', connectionId: connection.id, sessionId: session.id });
    this.dispatchTo(session, 'READY', {
      v: 10,
      user_settings: {},
      user: { ...this.host.botUser, verified: true, mfa_enabled: false, email: null },
      guilds: this.host.readyGuildIds(shard).map((id) => ({ id, unavailable: true })),
      guild_join_requests: [],
      relationships: [],
      private_channels: [],
      presences: [],
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.host.resumeGatewayUrl,
      shard,
      application: { id: this.host.applicationId, flags: this.host.applicationFlags },
      geo_ordered_rtc_regions: ['rotterdam', 'madrid', 'frankfurt', 'milan', 'bucharest'],
      auth: {},
      _trace: trace(),
    });
    this.host.onReady({ id: session.id, intents: session.intents, shard });
    this.host.changed();
  }

  private resume(connection: Connection, raw: unknown): void {
    if (connection.session !== undefined) return this.close(connection, CLOSE.alreadyAuthenticated);
    const d = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (d.token !== this.host.token) return this.close(connection, CLOSE.authenticationFailed);
    this.record({ kind: 'resume', connectionId: connection.id, ...(typeof d.session_id === 'string' ? { sessionId: d.session_id } : {}) });
    const session = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
    const seq = typeof d.seq === 'number' ? d.seq : 0;
    if (session === undefined || !this.isUsable(session)) {
      this.send(connection, { op: OP.INVALID_SESSION, d: false, s: null, t: null });
      this.record({ kind: 'invalid-session', connectionId: connection.id, ...(session ? { sessionId: session.id } : {}) });
      return;
    }
    if (seq > session.seq) return this.close(connection, CLOSE.invalidSeq);
    const previous = session.connection;
    if (previous !== undefined && previous !== connection) {
      previous.session = undefined;
      previous.socket.terminate();
    }
    connection.session = session;
    session.connection = connection;
    session.disconnectedAt = undefined;
    session.resumes++;
    const missed = session.events.filter((event) => event.s > seq);
    for (const event of missed) connection.socket.send(event.frame);
    this.dispatchTo(session, 'RESUMED', { _trace: trace() });
    this.record({ kind: 'resumed', connectionId: connection.id, sessionId: session.id, replayed: missed.length });
    this.host.changed();
  }

  private onClose(connection: Connection, code: number): void {
    clearTimeout(connection.heartbeatTimer);
    clearTimeout(connection.reconnectTimer);
    this.connections.delete(connection);
    const session = connection.session;
    if (session !== undefined && session.connection === connection) {
      session.connection = undefined;
      // A client closing with 1000/1001 ends its session; any other code keeps it resumable.
      if (connection.serverCloseCode === undefined && (code === 1000 || code === 1001)) session.invalid = true;
      else session.disconnectedAt = Date.now();
    }
    this.record({
      kind: 'close',
      connectionId: connection.id,
      code: connection.serverCloseCode ?? code,
      by: connection.serverCloseCode === undefined ? 'client' : 'server',
      ...(session ? { sessionId: session.id } : {}),
    });
  }

  private armHeartbeatTimer(connection: Connection): void {
    clearTimeout(connection.heartbeatTimer);
    connection.heartbeatTimer = setTimeout(
      () => this.close(connection, CLOSE.sessionTimedOut),
      this.options.heartbeatIntervalMs + this.options.heartbeatGraceMs,
    );
    connection.heartbeatTimer.unref();
  }

  private close(connection: Connection, [code, reason]: readonly [number, string]): void {
    if (connection.serverCloseCode !== undefined) return;
    connection.serverCloseCode = code;
    clearTimeout(connection.heartbeatTimer);
    connection.socket.close(code, reason);
  }

  private send(connection: Connection, payload: unknown): void {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(payload));
  }

  private record(event: Omit<GatewayEvent, 'at'>): void {
    this.log.push({ ...event, at: Date.now() });
    this.host.changed();
  }
}
