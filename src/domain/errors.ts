// Errors with stable codes. Each edge (HTTP, Telegram, CLI) maps them to its own message once.
export type WardenErrorCode =
  | 'invalid-input'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unavailable';

export class WardenError extends Error {
  constructor(
    public readonly code: WardenErrorCode,
    message: string,
    public readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'WardenError';
  }
}

export const httpStatusFor: Record<WardenErrorCode, number> = {
  'invalid-input': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
};
