// One logged-in API connection, made with node-routeros. This is the only module that reaches
// into node-routeros internals; it does so to repair what the library gets wrong:
//  - its Receiver is replaced by our SentenceReceiver right after connect() creates it, before
//    any byte arrives (see sentence-receiver.ts for the defects that fixes);
//  - a `!fatal` or a closed socket leaves node-routeros' write() promises pending forever, so
//    every way a connection can end funnels into end(), which tells the owner exactly once and
//    the owner rejects whatever it was waiting for;
//  - node-routeros re-emits socket errors as 'error' events; we always listen, and after our
//    own teardown (which strips its listeners) we leave one behind, so a late error can never
//    become an uncaught exception;
//  - its idle-socket timeout and keepalive pings are not used (idle timeout set out of reach):
//    RouterClient's own heartbeat and per-call timeouts find dead links.
// Login, including the pre-6.43 challenge form, is node-routeros' own: it sends the plain
// `/login`, and when an old router answers with `=ret=<challenge>` it sends the MD5 response.

import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { getSystemErrorName } from 'node:util';

import { RosException, RouterOSAPI } from 'node-routeros';
import type { Logger } from 'pino';

import type { RouterRow } from './commands.js';
import { RouterError } from './errors.js';
import { SentenceReceiver } from './sentence-receiver.js';

export interface SessionTarget {
  name: string;
  host: string;
  port: number;
  tls: false | ConnectionOptions;
  user: string;
  password: string;
}

export interface SessionOptions {
  connectTimeoutMs: number;
  logger: Logger;
  /** Called once when an established session ends, whatever the cause (destroy() included). */
  onClosed: (reason: RouterError) => void;
}

/** The parts of node-routeros 1.6.9 we touch. Checked at runtime: a different shape fails loudly, not subtly. */
interface ConnectorInternals {
  receiver?: { processRawData?: unknown };
  socket?: Socket;
  destroy(): void;
  on(event: 'error', listener: () => void): unknown;
}
interface ApiInternals {
  connector?: ConnectorInternals;
  connectionHoldInterval?: NodeJS.Timeout;
  keptaliveby?: NodeJS.Timeout;
  connected: boolean;
  connecting: boolean;
}

/** node-routeros' socket idle timeout, in seconds; far beyond any heartbeat, i.e. off. */
const IDLE_TIMEOUT_S = 24 * 3600;

export class RouterOsSession {
  private api: RouterOSAPI | undefined;
  private established = false;
  /** First socket error, kept because node-routeros reports it without the reason (e.g. a TLS failure). */
  private socketError: Error | undefined;
  private ended = false;
  private rejectOpen: ((reason: RouterError) => void) | undefined;

  constructor(
    private readonly target: SessionTarget,
    private readonly options: SessionOptions,
  ) {}

  get isOpen(): boolean {
    return this.established && !this.ended;
  }

  /** Sends one command sentence; resolves with its rows (or `[{ ret }]`), rejects with a `trap` RouterError. */
  async write(words: readonly string[]): Promise<RouterRow[]> {
    const api = this.api;
    if (!api || !this.isOpen) throw this.linkDown('connection is not open');
    try {
      // node-routeros appends `.tag=` to the array it is given: hand it a copy.
      return (await api.write([...words])) as RouterRow[];
    } catch (err) {
      // node-routeros rejects a `!trap` with `new Error(message)` (the category is dropped).
      const message = err instanceof Error ? err.message : String(err);
      throw new RouterError('trap', `${this.target.name}: ${words[0]} failed: ${message}`, { router: this.target.name, routerMessage: message });
    }
  }

  /** Ends the session (or the attempt to open it); the owner's onClosed runs (once) if it was established. */
  destroy(reason?: RouterError): void {
    this.end(reason ?? this.linkDown('connection closed by client'));
  }

  /** Connects and logs in, once; rejects with a RouterError (`auth`, `link-down` or `fatal`). */
  open(): Promise<void> {
    if (this.api) return Promise.reject(new Error('RouterOsSession.open() called twice'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.end(this.linkDown(`no login within ${this.options.connectTimeoutMs} ms`)),
        this.options.connectTimeoutMs,
      );
      this.rejectOpen = (reason) => {
        clearTimeout(timer);
        reject(reason);
      };

      const { host, port, user, password, tls } = this.target;
      const api = new RouterOSAPI({
        host,
        port,
        user,
        password,
        timeout: IDLE_TIMEOUT_S,
        keepalive: false,
        ...(tls ? { tls: tls as NonNullable<ConstructorParameters<typeof RouterOSAPI>[0]['tls']> } : {}),
      });
      this.api = api;
      api.on('error', (err: unknown) =>
        this.end(this.linkDown(`connection error (${this.socketError?.message ?? (err instanceof Error ? err.message : String(err))})`, this.socketError ?? err)),
      );
      api.on('close', () => this.end(this.linkDown('connection closed by router')));

      const connecting = api.connect();
      try {
        // connect() has created the socket and node-routeros' Receiver synchronously; no data
        // can have arrived yet, so swapping the receiver now means ours reads every byte.
        this.installReceiver(api);
      } catch (err) {
        this.end(new RouterError('link-down', (err as Error).message, { router: this.target.name, retryable: false, cause: err }));
      }
      connecting.then(
        () => {
          if (this.ended) return;
          clearTimeout(timer);
          this.rejectOpen = undefined;
          this.established = true;
          resolve();
        },
        (err: unknown) => this.end(this.classifyConnectError(err)),
      );
    });
  }

  private installReceiver(api: RouterOSAPI): void {
    const connector = (api as unknown as ApiInternals).connector;
    const socket = connector?.socket;
    if (!connector || typeof connector.receiver?.processRawData !== 'function' || !socket) {
      throw new Error('node-routeros internals are not what RouterOsSession expects (connector.receiver / connector.socket); check the installed version');
    }
    connector.receiver = new SentenceReceiver({
      onFatal: (reason) =>
        this.end(new RouterError('fatal', `router sent !fatal: ${reason}`, { router: this.target.name, routerMessage: reason })),
      onBroken: (error) => this.end(this.linkDown(`unreadable reply stream: ${error.message}`, error)),
      onIgnored: (reason, words) => this.options.logger.warn({ reason, reply: words[0] }, 'ignored a reply from the router'),
    }) as unknown as ConnectorInternals['receiver'];
    // node-routeros only watches 'end', 'error' and 'timeout'; 'close' covers every way a socket goes.
    socket.once('close', () => this.end(this.linkDown('connection closed')));
    socket.on('error', (err: Error) => {
      this.socketError ??= err;
    });
    // node-routeros writes each word separately; with Nagle's algorithm every command then waits
    // for the router's delayed ACK (~40 ms on Linux) before its last words leave.
    socket.setNoDelay(true);
  }

  private classifyConnectError(err: unknown): RouterError {
    const router = this.target.name;
    if (err instanceof RosException) {
      const errno: unknown = err.errno;
      if (errno === 'CANTLOGIN') return new RouterError('auth', `router ${router} rejected user ${this.target.user}`, { router, cause: err });
      // Socket failures carry Node's numeric errno (e.g. -111) and lose the message; the socket's own error says more.
      const what =
        this.socketError?.message ?? (typeof errno === 'number' ? systemErrorName(errno) : String(errno ?? err.message));
      return this.linkDown(`cannot connect (${what})`, this.socketError ?? err);
    }
    if (err instanceof Error) {
      // Any other Error from connect() is a `!trap` to /login (a socket failure arrives as RosException).
      return new RouterError('auth', `router ${router} refused the login: ${err.message}`, { router, routerMessage: err.message, cause: err });
    }
    return this.linkDown(`cannot connect (${String(err)})`, err);
  }

  private linkDown(message: string, cause?: unknown): RouterError {
    return new RouterError('link-down', `${this.target.name}: ${message}`, {
      router: this.target.name,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  private end(reason: RouterError): void {
    if (this.ended) return;
    this.ended = true;
    this.teardown();
    if (!this.established) {
      this.rejectOpen?.(reason);
      this.rejectOpen = undefined;
      return;
    }
    this.options.onClosed(reason);
  }

  private teardown(): void {
    const api = this.api as unknown as ApiInternals | undefined;
    if (!api) return;
    // Timers node-routeros may have armed; left alone they would fire on a dead connector.
    if (api.connectionHoldInterval) clearTimeout(api.connectionHoldInterval);
    if (api.keptaliveby) clearTimeout(api.keptaliveby);
    api.connected = false;
    api.connecting = false;
    const connector = api.connector;
    if (connector) {
      const socket = connector.socket;
      connector.destroy();
      connector.on('error', () => undefined);
      if (socket) {
        // node-routeros' own socket listeners re-emit on the connector and then strip its
        // listeners again; with them gone, a late socket error meets only this no-op.
        socket.removeAllListeners('error');
        socket.removeAllListeners('data');
        socket.on('error', () => undefined);
        socket.destroy();
      }
    }
  }
}

function systemErrorName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}
