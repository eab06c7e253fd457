// RouterClient: Warden's one persistent API connection to one router. It connects in the
// background and keeps reconnecting with jittered exponential backoff; every call has a timeout
// and fails fast with `link-down` while there is no connection, so nothing ever hangs on a
// router. A call that times out marks the connection suspect: it is dropped and rebuilt.

import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';

import type { Logger } from 'pino';

import {
  attributeWords,
  checkItemId,
  checkMenu,
  checkValue,
  proplistWord,
  queryWords,
  type RouterAttributes,
  type RouterCommands,
  type RouterRow,
} from './commands.js';
import { RouterError } from './errors.js';
import { RouterOps } from './ops.js';
import { RouterOsSession, type SessionTarget } from './routeros-session.js';

export interface RouterEndpoint {
  /** Name used in logs and error messages. */
  name: string;
  host: string;
  port: number;
  /** false: plain API. true: API-SSL with normal certificate checks. Or tls.connect options (e.g. a pinned `ca`). */
  tls: boolean | ConnectionOptions;
  user: string;
  password: string;
}

export interface RouterClientOptions {
  logger: Logger;
  /** Longest wait for any one command's reply. Default 5000. */
  callTimeoutMs?: number;
  /** Longest wait for TCP connect plus login. Default 10000. */
  connectTimeoutMs?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs, with jitter. Default 500. */
  reconnectMinMs?: number;
  /** Default 30000. Also the delay after a rejected login, to stay clear of brute-force blocking. */
  reconnectMaxMs?: number;
  /** How often a cheap `/system/identity/print` checks that the link still answers. 0 turns it off. Default 15000. */
  heartbeatIntervalMs?: number;
  /** Source of jitter, replaceable in tests. Default Math.random. */
  random?: () => number;
}

export type RouterLinkState = 'idle' | 'connecting' | 'up' | 'waiting' | 'closed';

interface RouterClientEvents {
  up: [];
  down: [reason: RouterError];
}

interface PendingCall {
  reject: (err: RouterError) => void;
  timer: NodeJS.Timeout | undefined;
}

interface UpWaiter {
  resolve: () => void;
  reject: (err: RouterError) => void;
}

export class RouterClient extends EventEmitter<RouterClientEvents> implements RouterCommands {
  readonly name: string;
  /** Warden's operations (address lists, PPP sessions, identity) over this connection. */
  readonly ops: RouterOps;

  private readonly target: SessionTarget;
  private readonly logger: Logger;
  private readonly callTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly random: () => number;

  private linkState: RouterLinkState = 'idle';
  private session: RouterOsSession | undefined;
  /** The connection attempt in progress, so close() can abort it. */
  private opening: RouterOsSession | undefined;
  private readonly pending = new Set<PendingCall>();
  private readonly upWaiters = new Set<UpWaiter>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight = false;
  private failedAttempts = 0;
  private lastFailure: RouterError | undefined;

  /** Throws `invalid-argument` for credentials that node-routeros could not send intact. */
  constructor(endpoint: RouterEndpoint, options: RouterClientOptions) {
    super();
    checkValue('user', endpoint.user);
    checkValue('password', endpoint.password);
    this.name = endpoint.name;
    this.target = {
      name: endpoint.name,
      host: endpoint.host,
      port: endpoint.port,
      tls: endpoint.tls === true ? {} : endpoint.tls === false ? false : endpoint.tls,
      user: endpoint.user,
      password: endpoint.password,
    };
    this.logger = options.logger.child({ router: endpoint.name });
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.reconnectMinMs = options.reconnectMinMs ?? 500;
    this.reconnectMaxMs = Math.max(options.reconnectMaxMs ?? 30_000, this.reconnectMinMs);
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 15_000;
    this.random = options.random ?? Math.random;
    this.ops = new RouterOps(this);
  }

  get isConnected(): boolean {
    return this.linkState === 'up';
  }

  get state(): RouterLinkState {
    return this.linkState;
  }

  /** Why the last connection attempt or connection failed, for health reports. */
  get lastError(): RouterError | undefined {
    return this.lastFailure;
  }

  /** Starts connecting in the background; reconnects by itself until close(). */
  start(): void {
    if (this.linkState === 'closed') throw this.closedError();
    if (this.linkState !== 'idle') return;
    void this.connect();
  }

  /** Resolves once connected; rejects with `link-down` after timeoutMs or when closed. */
  waitForUp(timeoutMs = this.connectTimeoutMs): Promise<void> {
    if (this.linkState === 'up') return Promise.resolve();
    if (this.linkState === 'closed') return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const waiter: UpWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.upWaiters.delete(waiter);
        reject(
          new RouterError('link-down', `${this.name}: not connected within ${timeoutMs} ms`, {
            router: this.name,
            ...(this.lastFailure ? { cause: this.lastFailure } : {}),
          }),
        );
      }, timeoutMs);
      this.upWaiters.add(waiter);
    });
  }

  /** Stops reconnecting, drops the connection, and fails every pending call with `link-down`. */
  async close(): Promise<void> {
    if (this.linkState === 'closed') return;
    const wasUp = this.linkState === 'up';
    this.linkState = 'closed';
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const session = this.session;
    this.session = undefined;
    const reason = this.closedError();
    this.rejectPending(reason);
    for (const waiter of this.upWaiters) waiter.reject(reason);
    this.upWaiters.clear();
    session?.destroy(reason);
    this.opening?.destroy(reason);
    if (wasUp) this.emitSafely('down', reason);
  }

  // ----- generic menu commands -----

  async print(menu: string, where: RouterAttributes = {}, proplist?: readonly string[]): Promise<RouterRow[]> {
    const words = [`${checkMenu(menu)}/print`, ...queryWords(where), ...(proplist ? [proplistWord(proplist)] : [])];
    return this.call(words);
  }

  async add(menu: string, attributes: RouterAttributes): Promise<string> {
    const rows = await this.call([`${checkMenu(menu)}/add`, ...attributeWords(attributes)]);
    const id = rows.find((row) => row.ret !== undefined)?.ret;
    if (!id) throw new RouterError('trap', `${this.name}: ${menu}/add returned no id`, { router: this.name });
    return id;
  }

  async remove(menu: string, id: string): Promise<void> {
    await this.call([`${checkMenu(menu)}/remove`, `=.id=${checkItemId(id)}`]);
  }

  async set(menu: string, id: string, attributes: RouterAttributes): Promise<void> {
    const words = [`${checkMenu(menu)}/set`, `=.id=${checkItemId(id)}`, ...attributeWords(attributes)];
    if (words.length === 2) return;
    await this.call(words);
  }

  // ----- connection management -----

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.linkState === 'closed') return;
    this.linkState = 'connecting';
    const opened: RouterOsSession = new RouterOsSession(this.target, {
      connectTimeoutMs: this.connectTimeoutMs,
      logger: this.logger,
      onClosed: (reason) => this.onSessionClosed(opened, reason),
    });
    this.opening = opened;
    try {
      await opened.open();
    } catch (err) {
      const reason = err instanceof RouterError ? err : new RouterError('link-down', String(err), { router: this.name, cause: err });
      if (this.isClosed()) return;
      this.linkState = 'waiting';
      this.lastFailure = reason;
      const delay = this.nextDelay(reason);
      const log = { code: reason.code, err: reason.message, retryInMs: delay, attempt: this.failedAttempts };
      if (reason.code === 'auth' || !reason.retryable) this.logger.error(log, 'cannot log in to router');
      else this.logger.warn(log, 'cannot connect to router');
      this.scheduleReconnect(delay);
      return;
    } finally {
      this.opening = undefined;
    }
    if (this.isClosed()) {
      opened.destroy();
      return;
    }
    this.session = opened;
    this.linkState = 'up';
    this.failedAttempts = 0;
    this.lastFailure = undefined;
    this.startHeartbeat();
    this.logger.info('router link up');
    for (const waiter of this.upWaiters) waiter.resolve();
    this.upWaiters.clear();
    this.emitSafely('up');
  }

  private onSessionClosed(session: RouterOsSession, reason: RouterError): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.stopHeartbeat();
    this.lastFailure = reason;
    this.rejectPending(
      new RouterError('link-down', `${this.name}: connection lost (${reason.message})`, { router: this.name, cause: reason }),
    );
    if (this.linkState === 'closed') return;
    this.linkState = 'waiting';
    const delay = this.nextDelay(reason);
    this.logger.warn({ code: reason.code, err: reason.message, retryInMs: delay }, 'router link down');
    this.emitSafely('down', reason);
    this.scheduleReconnect(delay);
  }

  /** Exponential backoff with jitter; a rejected login waits the maximum so the router's login-failure protection is not triggered. */
  private nextDelay(reason: RouterError): number {
    if (reason.code === 'auth') return this.reconnectMaxMs;
    const base = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** this.failedAttempts++);
    return Math.max(this.reconnectMinMs, Math.round(base * (0.5 + this.random() * 0.5)));
  }

  private scheduleReconnect(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
    // A client waiting to reconnect must not keep the process alive on its own.
    this.reconnectTimer.unref();
  }

  private startHeartbeat(): void {
    if (this.heartbeatIntervalMs <= 0) return;
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (this.heartbeatInFlight || this.linkState !== 'up') return;
      this.heartbeatInFlight = true;
      // A timeout here resets the connection inside call(); a trap still proves the link works.
      this.call(['/system/identity/print'])
        .catch(() => undefined)
        .finally(() => {
          this.heartbeatInFlight = false;
        });
    }, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private call(words: string[]): Promise<RouterRow[]> {
    const session = this.session;
    if (this.linkState !== 'up' || !session?.isOpen) {
      return Promise.reject(
        new RouterError('link-down', `${this.name}: not connected (${this.linkState})`, {
          router: this.name,
          ...(this.lastFailure ? { cause: this.lastFailure } : {}),
        }),
      );
    }
    const command = words[0];
    return new Promise<RouterRow[]>((resolve, reject) => {
      const call: PendingCall = { reject, timer: undefined };
      const finish = (): boolean => {
        if (!this.pending.delete(call)) return false;
        clearTimeout(call.timer);
        return true;
      };
      call.timer = setTimeout(() => {
        if (!finish()) return;
        const err = new RouterError('timeout', `${this.name}: no reply to ${command} within ${this.callTimeoutMs} ms`, { router: this.name });
        this.logger.warn({ command }, 'router call timed out; resetting the connection');
        reject(err);
        // A router that leaves a command unanswered is not trusted with the next one: start over.
        if (session === this.session) session.destroy(new RouterError('link-down', 'call timed out', { router: this.name, cause: err }));
      }, this.callTimeoutMs);
      this.pending.add(call);
      session.write(words).then(
        (rows) => {
          if (finish()) resolve(rows);
        },
        (err: unknown) => {
          if (finish()) reject(err instanceof RouterError ? err : new RouterError('trap', String(err), { router: this.name }));
        },
      );
    });
  }

  private rejectPending(err: RouterError): void {
    const calls = [...this.pending];
    this.pending.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(err);
    }
  }

  /** Re-reads the state after an await (TypeScript keeps the narrowing from before it). */
  private isClosed(): boolean {
    return this.linkState === 'closed';
  }

  private closedError(): RouterError {
    return new RouterError('link-down', `${this.name}: client closed`, { router: this.name, retryable: false });
  }

  /** Listener failures are logged, never allowed to break the connection logic. */
  private emitSafely(...args: ['up'] | ['down', RouterError]): void {
    try {
      if (args[0] === 'up') this.emit('up');
      else this.emit('down', args[1]);
    } catch (err) {
      this.logger.error({ err, event: args[0] }, 'router link listener threw');
    }
  }
}
