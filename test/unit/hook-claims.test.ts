import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bannableAddress, describeZodError, normalizeCallerId, PppHookBody } from '../../src/domain/hookClaims.js';

const valid = { user: 'alice', callerId: '203.0.113.7', address: '10.8.0.12', localAddress: '10.8.0.1', interface: '<l2tp-alice>', service: 'l2tp' };

function problems(body: unknown): string | null {
  const parsed = PppHookBody.safeParse(body);
  return parsed.success ? null : describeZodError(parsed.error);
}

test('a well-formed claim parses, optional fields may be empty or absent', () => {
  assert.equal(problems(valid), null);
  assert.equal(problems({ ...valid, localAddress: '', interface: '', service: '' }), null);
  assert.equal(problems({ user: 'bob@corp', callerId: '2001:db8::1', address: 'fd00::12' }), null);
  assert.equal(problems({ ...valid, service: 'pppoe', callerId: 'AA:BB:CC:DD:EE:FF' }), null);
});

test('addresses must be IPs and names come from a safe charset', () => {
  assert.match(problems({ ...valid, address: '10.8.0.300' })!, /address: not an IP address/);
  assert.match(problems({ ...valid, address: '10.8.0.1; drop' })!, /address/);
  assert.match(problems({ ...valid, callerId: 'evil"host' })!, /callerId/);
  assert.match(problems({ ...valid, user: 'a b' })!, /user: must be/);
  assert.match(problems({ ...valid, user: '' })!, /user/);
  assert.match(problems({ ...valid, user: 'x'.repeat(65) })!, /user/);
  assert.match(problems({ ...valid, user: 'alice\n' })!, /user/);
  assert.match(problems({ ...valid, interface: 'a'.repeat(65) })!, /interface/);
  assert.match(problems({ ...valid, service: 'telnet' })!, /service/);
});

test('missing, wrongly typed and unknown fields are refused with their names', () => {
  assert.match(problems({ callerId: '1.2.3.4', address: '10.0.0.1' })!, /user/);
  assert.match(problems({ ...valid, address: 42 })!, /address/);
  assert.match(problems({ ...valid, admin: true })!, /unknown field\(s\): admin/);
  assert.ok(problems('alice'));
  assert.ok(problems(null));
});

test('caller-ids with ports and MACs in either notation are normalised', () => {
  assert.equal(normalizeCallerId('203.0.113.7:51234'), '203.0.113.7');
  assert.equal(normalizeCallerId('[2001:DB8::7]:443'), '2001:db8::7');
  assert.equal(normalizeCallerId('aa-bb-cc-dd-ee-ff'), 'AA:BB:CC:DD:EE:FF');
  assert.equal(normalizeCallerId('203.0.113.7'), '203.0.113.7');
  const parsed = PppHookBody.parse({ ...valid, callerId: '203.0.113.7:1701' });
  assert.equal(parsed.callerId, '203.0.113.7');
  assert.match(problems({ ...valid, callerId: '203.0.113.7:1701:5' })!, /callerId/);
});

test('only IPv4 callers can be banned through the router\'s address list', () => {
  assert.equal(bannableAddress('203.0.113.7'), '203.0.113.7');
  assert.equal(bannableAddress('2001:db8::7'), null);
  assert.equal(bannableAddress('AA:BB:CC:DD:EE:FF'), null);
});
