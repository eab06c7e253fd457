// Errors of the router client, with stable codes the domain and the edges can map.

export type RouterErrorCode =
  /** No usable connection (never connected, dropped, closed, `!fatal`): nothing was done, retry later. */
  | 'link-down'
  /** No reply in time; the command may or may not have run on the router. */
  | 'timeout'
  /** The router refused the credentials. */
  | 'auth'
  /** The router answered the command with `!trap`; `routerMessage` holds its text. */
  | 'trap'
  /** The router sent `!fatal` and closed the connection. */
  | 'fatal'
  /** A value we were asked to send can never be valid; nothing was sent. */
  | 'invalid-argument';

const RETRYABLE_BY_DEFAULT: Record<RouterErrorCode, boolean> = {
  'link-down': true,
  timeout: true,
  fatal: true,
  auth: false,
  trap: false,
  'invalid-argument': false,
};

export interface RouterErrorOptions {
  retryable?: boolean;
  /** Router name, for logs and messages. */
  router?: string;
  /** The router's own text for `trap`, `fatal` and `auth`. */
  routerMessage?: string;
  cause?: unknown;
}

export class RouterError extends Error {
  override readonly name = 'RouterError';
  readonly code: RouterErrorCode;
  readonly retryable: boolean;
  readonly router: string | undefined;
  readonly routerMessage: string | undefined;

  constructor(code: RouterErrorCode, message: string, options: RouterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT[code];
    this.router = options.router;
    this.routerMessage = options.routerMessage;
  }
}

export function isRouterError(err: unknown, code?: RouterErrorCode): err is RouterError {
  return err instanceof RouterError && (code === undefined || err.code === code);
}

/** True for a `!trap` whose message contains `text` (RouterOS messages vary a little between versions). */
export function isTrap(err: unknown, text: string): err is RouterError {
  return isRouterError(err, 'trap') && (err.routerMessage ?? '').includes(text);
}
