// What the Approve/Deny buttons carry on every platform (Telegram callback_data, Discord
// custom_id): "<action>:<decision token>". The token is opaque, random and bound to one session;
// the whole string stays far below Telegram's 64-byte and Discord's 100-character limits.
export type SessionDecision = 'approve' | 'deny';

const PREFIX: Record<SessionDecision, string> = { approve: 'wa', deny: 'wd' };
const TOKEN = /^[A-Za-z0-9_-]{16,43}$/;
export const MAX_CALLBACK_BYTES = 64;

export function encodeDecision(decision: SessionDecision, token: string): string {
  if (!TOKEN.test(token)) throw new Error('invalid decision token');
  const data = `${PREFIX[decision]}:${token}`;
  if (Buffer.byteLength(data, 'utf8') > MAX_CALLBACK_BYTES) throw new Error('callback data too long');
  return data;
}

export function decodeDecision(data: string): { decision: SessionDecision; token: string } | null {
  const match = /^(wa|wd):(.+)$/.exec(data);
  if (!match || !TOKEN.test(match[2]!)) return null;
  return { decision: match[1] === 'wa' ? 'approve' : 'deny', token: match[2]! };
}
