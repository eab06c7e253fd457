// WireGuard keys in the form `wg genkey`, `wg pubkey` and `wg genpsk` print them and RouterOS
// accepts: standard base64 of 32 raw bytes. Pure functions over node:crypto's X25519.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

import { RouterError } from './errors.js';

export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

const KEY_BYTES = 32;
/** ASN.1 header of a PKCS#8 X25519 private key (RFC 8410); the 32 raw bytes follow it. */
const PKCS8_X25519_HEADER = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** True for the base64 form of exactly 32 bytes: 44 characters ending in one `=`, canonical padding bits. */
export function isWireguardKey(text: string): boolean {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  // The last character carries 2 padding bits that must be zero; a round trip catches any that are not.
  return Buffer.from(text, 'base64').toString('base64') === text;
}

function rawKey(text: string, what: string): Buffer {
  if (!isWireguardKey(text)) throw new RouterError('invalid-argument', `${what} is not a WireGuard key (base64 of 32 bytes)`);
  return Buffer.from(text, 'base64');
}

/** The public key for a private one, as `wg pubkey` computes it (X25519 clamps the scalar itself). */
export function publicKeyFromPrivate(privateKey: string): string {
  const der = Buffer.concat([PKCS8_X25519_HEADER, rawKey(privateKey, 'private key')]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('X25519 public key export returned no key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** A new key pair. The private key is clamped like `wg genkey` output, so both tools print the same bytes. */
export function generateWireguardKeyPair(): WireguardKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('X25519 private key export returned no key');
  const raw = Buffer.from(jwk.d, 'base64url');
  if (raw.length !== KEY_BYTES) throw new Error(`X25519 private key has ${raw.length} bytes`);
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  const privateKeyText = raw.toString('base64');
  return { privateKey: privateKeyText, publicKey: publicKeyFromPrivate(privateKeyText) };
}

/** A preshared key like `wg genpsk`: 32 random bytes. */
export function generatePresharedKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}
