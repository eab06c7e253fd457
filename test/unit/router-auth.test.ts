import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, ipInCidrs } from '../../src/api/routerAuth.js';
import { parseCidr } from '../../src/domain/admin.js';

test('bearer tokens are taken only from a well-formed Authorization header', () => {
  assert.equal(bearerToken('Bearer wdn_abc-DEF_123'), 'wdn_abc-DEF_123');
  assert.equal(bearerToken('bearer wdn_abc'), null);
  assert.equal(bearerToken('Bearer '), null);
  assert.equal(bearerToken('Basic dXNlcjpwYXNz'), null);
  assert.equal(bearerToken(undefined), null);
  assert.equal(bearerToken('Bearer a b'), null);
});

test('source addresses are matched against CIDRs, IPv4-mapped IPv6 included', () => {
  assert.equal(ipInCidrs('192.0.2.10', ['192.0.2.0/24']), true);
  assert.equal(ipInCidrs('::ffff:192.0.2.10', ['192.0.2.0/24']), true);
  assert.equal(ipInCidrs('192.0.3.10', ['192.0.2.0/24']), false);
  assert.equal(ipInCidrs('2001:db8::5', ['2001:db8::/32']), true);
  assert.equal(ipInCidrs('2001:db9::5', ['2001:db8::/32', '10.0.0.0/8']), false);
  assert.equal(ipInCidrs('127.0.0.1', ['127.0.0.1']), true);
  assert.equal(ipInCidrs('not-an-ip', ['0.0.0.0/0']), false);
});

test('CIDRs are validated', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 4 });
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix/);
  assert.throws(() => parseCidr('example.com/24'), /not a CIDR/);
  assert.throws(() => parseCidr('10.0.0.0/x'), /prefix/);
});
