import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/crypto/secretBox.js';
import { newDecisionToken, newHookToken, newLinkCode, normalizeLinkCode, sha256Hex, tokenMatchesHash } from '../../src/crypto/tokens.js';
import { decodeDecision, encodeDecision, MAX_CALLBACK_BYTES } from '../../src/messaging/decisionButtons.js';

test('secret box round-trips, uses a fresh IV each time, and detects tampering and wrong keys', () => {
  const box = new SecretBox(randomBytes(32));
  const a = box.seal('router-password');
  const b = box.seal('router-password');
  assert.notEqual(a, b);
  assert.ok(!a.includes('router-password'));
  assert.equal(box.open(a), 'router-password');
  const raw = Buffer.from(a.slice(3), 'base64');
  raw[raw.length - 1]! ^= 1;
  assert.throws(() => box.open('v1:' + raw.toString('base64')));
  assert.throws(() => new SecretBox(randomBytes(32)).open(a));
  assert.throws(() => new SecretBox(randomBytes(16)));
});

test('hook tokens are long, script-safe and verified against their hash only', () => {
  const token = newHookToken();
  assert.match(token, /^wdn_[A-Za-z0-9_-]{43}$/);
  const hash = sha256Hex(token);
  assert.equal(tokenMatchesHash(token, hash), true);
  assert.equal(tokenMatchesHash(token + 'x', hash), false);
  assert.equal(tokenMatchesHash(token, 'abc'), false);
  assert.notEqual(newHookToken(), token);
});

test('decision callback data is opaque, bound to the token and within 64 bytes', () => {
  const token = newDecisionToken();
  const approve = encodeDecision('approve', token);
  const deny = encodeDecision('deny', token);
  assert.ok(Buffer.byteLength(approve) <= MAX_CALLBACK_BYTES);
  assert.deepEqual(decodeDecision(approve), { decision: 'approve', token });
  assert.deepEqual(decodeDecision(deny), { decision: 'deny', token });
  assert.equal(decodeDecision('wa:short'), null);
  assert.equal(decodeDecision('xx:' + token), null);
  assert.equal(decodeDecision('wa:' + token + '!'), null);
  assert.throws(() => encodeDecision('approve', 'bad token'));
});

test('link codes avoid ambiguous characters and normalise user input', () => {
  for (let i = 0; i < 50; i++) assert.match(newLinkCode(), /^[A-HJ-KM-NP-Z2-9]{10}$/);
  assert.equal(normalizeLinkCode(' abcd-efgh 23 '), 'ABCDEFGH23');
});
