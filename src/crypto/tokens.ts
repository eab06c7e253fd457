// Tokens Warden hands out: router hook tokens and link codes (stored only as SHA-256 hashes), and
// the opaque per-session decision tokens that chat buttons carry.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** 256 random bits, URL- and RouterOS-script-safe ([A-Za-z0-9_-]). */
export function newHookToken(): string {
  return 'wdn_' + randomBytes(32).toString('base64url');
}

/** Constant-time comparison of a presented token with a stored SHA-256 hex hash. */
export function tokenMatchesHash(presented: string, storedHashHex: string): boolean {
  const a = Buffer.from(sha256Hex(presented), 'hex');
  const b = Buffer.from(storedHashHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 128 random bits, 22 base64url characters: unguessable, and short enough for callback data. */
export function newDecisionToken(): string {
  return randomBytes(16).toString('base64url');
}

// No 0/O/1/I/L: link codes are read aloud and typed on phones.
const LINK_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newLinkCode(length = 10): string {
  let code = '';
  for (let i = 0; i < length; i++) code += LINK_ALPHABET[randomInt(LINK_ALPHABET.length)];
  return code;
}

export function normalizeLinkCode(input: string): string {
  return input.trim().toUpperCase().replace(/[\s-]/g, '');
}
