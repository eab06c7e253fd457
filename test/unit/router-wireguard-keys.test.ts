// WireGuard key helpers against the X25519 test vectors of RFC 7748 section 6.1, plus the
// base64 form RouterOS and `wg` use.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { test } from 'node:test';

import {
  generatePresharedKey,
  generateWireguardKeyPair,
  isRouterError,
  isWireguardKey,
  publicKeyFromPrivate,
} from '../../src/router/index.js';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

// RFC 7748 section 6.1 (Curve25519 Diffie-Hellman).
const ALICE_PRIVATE = b64('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const ALICE_PUBLIC = b64('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const BOB_PRIVATE = b64('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
const BOB_PUBLIC = b64('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const SHARED_SECRET = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

/** X25519(private, public) straight from node:crypto, to check that keys really pair up. */
function x25519(privateKey: string, publicKey: string): string {
  const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), Buffer.from(publicKey, 'base64')]), format: 'der', type: 'spki' });
  return diffieHellman({ privateKey: priv, publicKey: pub }).toString('hex');
}

test('public keys match the RFC 7748 vectors', () => {
  assert.equal(publicKeyFromPrivate(ALICE_PRIVATE), ALICE_PUBLIC);
  assert.equal(publicKeyFromPrivate(BOB_PRIVATE), BOB_PUBLIC);
  // Both sides agree on the RFC's shared secret, so the keys are the right ones, not just well-formed.
  assert.equal(x25519(ALICE_PRIVATE, BOB_PUBLIC), SHARED_SECRET);
  assert.equal(x25519(BOB_PRIVATE, ALICE_PUBLIC), SHARED_SECRET);
});

test('clamping does not change the public key (X25519 clamps the scalar itself)', () => {
  // The RFC's private keys are not clamped; WireGuard's are. Same scalar after clamping, same public key.
  const raw = Buffer.from(ALICE_PRIVATE, 'base64');
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  assert.equal(publicKeyFromPrivate(raw.toString('base64')), ALICE_PUBLIC);
});

test('generated key pairs are consistent, clamped like `wg genkey`, and distinct', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const pair = generateWireguardKeyPair();
    assert.ok(isWireguardKey(pair.privateKey) && isWireguardKey(pair.publicKey), JSON.stringify(pair));
    assert.equal(publicKeyFromPrivate(pair.privateKey), pair.publicKey);
    const raw = Buffer.from(pair.privateKey, 'base64');
    assert.equal(raw[0]! & 7, 0);
    assert.equal(raw[31]! & 0xc0, 0x40);
    seen.add(pair.privateKey);
  }
  assert.equal(seen.size, 20);
  // Any two pairs can talk to each other.
  const a = generateWireguardKeyPair();
  const b = generateWireguardKeyPair();
  assert.equal(x25519(a.privateKey, b.publicKey), x25519(b.privateKey, a.publicKey));
});

test('preshared keys are 32 random bytes in base64', () => {
  const psk = generatePresharedKey();
  assert.ok(isWireguardKey(psk));
  assert.equal(Buffer.from(psk, 'base64').length, 32);
  assert.notEqual(generatePresharedKey(), psk);
});

test('isWireguardKey accepts only canonical base64 of 32 bytes', () => {
  assert.equal(isWireguardKey(ALICE_PUBLIC), true);
  assert.equal(isWireguardKey('A'.repeat(43) + '='), true);
  const rejected = [
    '',
    ALICE_PUBLIC.slice(0, -1), // no padding
    ALICE_PUBLIC + '=',
    Buffer.alloc(31).toString('base64'),
    Buffer.alloc(33).toString('base64'),
    Buffer.alloc(32).toString('base64url'), // URL alphabet is not what RouterOS takes
    'B'.repeat(43) + '=', // non-zero padding bits: decodes, but is not how 32 bytes encode
    `${ALICE_PUBLIC.slice(0, 20)} ${ALICE_PUBLIC.slice(21)}`,
    `${ALICE_PUBLIC}\n`,
  ];
  for (const text of rejected) assert.equal(isWireguardKey(text), false, JSON.stringify(text));
  assert.equal(isWireguardKey(42 as unknown as string), false);
});

test('publicKeyFromPrivate refuses anything but a key', () => {
  for (const bad of ['', 'not a key', Buffer.alloc(16).toString('base64')]) {
    assert.throws(() => publicKeyFromPrivate(bad), (err) => isRouterError(err, 'invalid-argument'), bad);
  }
});
