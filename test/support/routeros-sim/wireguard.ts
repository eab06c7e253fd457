// WireGuard values as the simulated router checks and stores them: base64 keys (32 bytes),
// X25519 public keys derived from private ones, and `allowed-address` prefixes. The public key
// is computed differently from src/router/wireguardKeys.ts (here X25519 with the base point,
// there a key export), so the stand-in cannot share a bug with the client it is used to test.

import { createPrivateKey, createPublicKey, diffieHellman, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** ASN.1 header of a PKCS#8 X25519 private key; the 32 raw key bytes follow it. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** The X25519 base point u = 9 as an SPKI public key: X25519(k, 9) is the public key for k. */
const BASE_POINT = createPublicKey({
  key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), Buffer.from([9]), Buffer.alloc(31)]),
  format: 'der',
  type: 'spki',
});

/** True for the base64 form of exactly 32 bytes (44 characters, one `=`), the only form RouterOS accepts. */
export function isWireguardKeyText(text: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return false;
  // Rejects non-canonical encodings (stray bits in the last character) the way a round trip would.
  return Buffer.from(text, 'base64').toString('base64') === text;
}

export function wireguardPublicKey(privateKey: string): string {
  const raw = Buffer.from(privateKey, 'base64');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return diffieHellman({ privateKey: key, publicKey: BASE_POINT }).toString('base64');
}

/** A new private key as RouterOS creates one for an interface added without `private-key`. */
export function newWireguardPrivateKey(): string {
  const raw = randomBytes(32);
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  return raw.toString('base64');
}

function ipv4ToNumber(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function ipv6ToBigInt(text: string): bigint {
  // The URL parser writes any valid IPv6 literal in its canonical compressed form; expand that.
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function bigIntToIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * One `allowed-address` item as RouterOS stores it: always with a prefix length, host bits
 * cleared (`10.0.0.7/24` -> `10.0.0.0/24`, `10.0.0.7` -> `10.0.0.7/32`), IPv6 compressed.
 */
export function normalizeAllowedAddress(text: string): string | undefined {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, address, prefixText] = match;
  if (isIPv4(address!)) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    const size = 2 ** (32 - prefix);
    return `${numberToIpv4(Math.floor(ipv4ToNumber(address!) / size) * size)}/${prefix}`;
  }
  if (isIPv6(address!)) {
    const prefix = prefixText === undefined ? 128 : Number(prefixText);
    if (prefix > 128) return undefined;
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(128 - prefix);
    return `${bigIntToIpv6(ipv6ToBigInt(address!) & mask)}/${prefix}`;
  }
  return undefined;
}
