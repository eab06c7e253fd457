// RouterOps over a scripted fake of the four generic commands, plus the value checks and
// duration helpers it relies on: no network, just the decisions.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatRouterDuration,
  isRouterError,
  isTrap,
  normalizeAllowedAddress,
  normalizeIpv4,
  parseRouterDuration,
  RouterError,
  RouterOps,
  type RouterAttributes,
  type RouterCommands,
  type RouterRow,
} from '../../src/router/index.js';
import { attributeWords, checkItemId, checkMenu, queryWords } from '../../src/router/commands.js';

type Call = [string, ...unknown[]];

/** Records calls; each method answers from a queue of scripted results (a RouterError is thrown). */
class ScriptedRouter implements RouterCommands {
  readonly calls: Call[] = [];
  constructor(private readonly script: Record<string, (RouterRow[] | string | RouterError | undefined)[]>) {}

  private next(name: string): unknown {
    const result = this.script[name]?.shift();
    if (result instanceof RouterError) throw result;
    return result;
  }
  async print(menu: string, where?: RouterAttributes, proplist?: readonly string[]): Promise<RouterRow[]> {
    this.calls.push(['print', menu, where, ...(proplist ? [proplist] : [])]);
    return (this.next('print') as RouterRow[] | undefined) ?? [];
  }
  async add(menu: string, attributes: RouterAttributes): Promise<string> {
    this.calls.push(['add', menu, attributes]);
    return (this.next('add') as string | undefined) ?? '*1';
  }
  async remove(menu: string, id: string): Promise<void> {
    this.calls.push(['remove', menu, id]);
    this.next('remove');
  }
  async set(menu: string, id: string, attributes: RouterAttributes): Promise<void> {
    this.calls.push(['set', menu, id, attributes]);
    this.next('set');
  }
}

const trap = (message: string) => new RouterError('trap', message, { routerMessage: message });
const LIST = '/ip/firewall/address-list';

test('addToAddressList sends normalized values and a RouterOS duration', async () => {
  const router = new ScriptedRouter({ add: ['*A'] });
  const result = await new RouterOps(router).addToAddressList('sandbox', '10.0.0.9/32', { timeout: 5400, comment: 'alice' });
  assert.deepEqual(result, { id: '*A', created: true });
  assert.deepEqual(router.calls, [['add', LIST, { list: 'sandbox', address: '10.0.0.9', timeout: '1h30m', comment: 'alice' }]]);
});

test('a timeout beyond what RouterOS accepts is cut to its maximum', async () => {
  const router = new ScriptedRouter({});
  await new RouterOps(router).addToAddressList('bans', '10.0.0.9', { timeout: 400 * 86400 });
  assert.deepEqual(router.calls[0]?.[2], { list: 'bans', address: '10.0.0.9', timeout: '35w3d13h13m56s' });
  await assert.rejects(new RouterOps(router).addToAddressList('bans', '10.0.0.9', { timeout: 0 }), (err) => isRouterError(err, 'invalid-argument'));
});

test('a duplicate whose entry expired before set is added again', async () => {
  const router = new ScriptedRouter({
    add: [trap('failure: already have such entry'), '*2'],
    print: [[{ '.id': '*1', list: 's', address: '10.0.0.9', timeout: '1s', dynamic: 'true', disabled: 'false' }]],
    set: [trap('no such item')],
  });
  const result = await new RouterOps(router).addToAddressList('s', '10.0.0.9', { timeout: 60 });
  assert.deepEqual(result, { id: '*2', created: true });
  assert.deepEqual(router.calls.map((c) => c[0]), ['add', 'print', 'set', 'add']);
});

test('an entry that keeps vanishing gives up with a retryable error', async () => {
  const router = new ScriptedRouter({ add: [trap('failure: already have such entry'), trap('failure: already have such entry')] });
  await assert.rejects(new RouterOps(router).addToAddressList('s', '10.0.0.9'), (err) => isRouterError(err, 'trap') && err.retryable);
});

test('other traps are not swallowed', async () => {
  const router = new ScriptedRouter({ add: [trap('not enough permissions (9)')], remove: [trap('failure: busy')] });
  const ops = new RouterOps(router);
  await assert.rejects(ops.addToAddressList('s', '10.0.0.9'), /not enough permissions/);
  await assert.rejects(ops.disconnectPpp('*80000001'), /busy/);
});

test('disconnectPpp: true when removed, false when already gone', async () => {
  const router = new ScriptedRouter({ remove: [undefined, trap('no such item')] });
  const ops = new RouterOps(router);
  assert.equal(await ops.disconnectPpp('*80000001'), true);
  assert.equal(await ops.disconnectPpp('*80000001'), false);
});

test('findPppActive maps rows and builds the conditions', async () => {
  const router = new ScriptedRouter({
    print: [[{ '.id': '*8', name: 'bob', service: 'l2tp', 'caller-id': '1.2.3.4', address: '10.8.0.3', uptime: '1h2m3s', encoding: 'x', 'session-id': '0x1' }]],
  });
  const sessions = await new RouterOps(router).findPppActive({ name: 'bob', address: '10.8.0.3/32', callerId: '1.2.3.4' });
  assert.deepEqual(sessions, [
    { id: '*8', name: 'bob', service: 'l2tp', callerId: '1.2.3.4', address: '10.8.0.3', uptimeSeconds: 3723, encoding: 'x', sessionId: '0x1' },
  ]);
  assert.deepEqual(router.calls[0], ['print', '/ppp/active', { name: 'bob', address: '10.8.0.3', 'caller-id': '1.2.3.4' }]);
});

test('IPv4 normalization matches what the router stores', () => {
  assert.equal(normalizeIpv4('192.0.2.7'), '192.0.2.7');
  assert.equal(normalizeIpv4('192.0.2.7/32'), '192.0.2.7');
  assert.equal(normalizeIpv4('192.0.2.77/24'), '192.0.2.0/24');
  assert.equal(normalizeIpv4('10.1.2.3/8'), '10.0.0.0/8');
  for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4/33', '::1', 'example.com', '1.2.3.4\n']) {
    assert.throws(() => normalizeIpv4(bad), (err) => isRouterError(err, 'invalid-argument'), bad);
  }
});

test('words are built only from values that can be valid', () => {
  assert.deepEqual(attributeWords({ list: 'a=b', comment: '' }), ['=list=a=b', '=comment=']);
  assert.deepEqual(queryWords({ '.id': '*1', 'caller-id': 'x' }), ['?.id=*1', '?caller-id=x']);
  assert.equal(checkMenu('/ip/firewall/address-list'), '/ip/firewall/address-list');
  assert.equal(checkItemId('*1A'), '*1A');
  const rejected = [
    () => attributeWords({ '.id': '*1' }),
    () => attributeWords({ comment: 'a\rb' }),
    () => attributeWords({ comment: 'x'.repeat(5000) }),
    () => queryWords({ 'na me': 'x' }),
    () => checkMenu('/ip/firewall/address-list/'),
    () => checkMenu('/ip firewall'),
    () => checkItemId('1'),
  ];
  for (const attempt of rejected) assert.throws(attempt, (err) => isRouterError(err, 'invalid-argument'));
});

test('RouterOS durations', () => {
  assert.equal(parseRouterDuration('29m59s'), 1799);
  assert.equal(parseRouterDuration('1w2d3h4m5s'), 788645);
  assert.equal(parseRouterDuration('00:30:00'), 1800);
  assert.equal(parseRouterDuration('1d 02:00:00'), 93600);
  assert.equal(parseRouterDuration('1800'), 1800);
  assert.equal(parseRouterDuration('500ms'), 0.5);
  assert.equal(parseRouterDuration('soon'), undefined);
  assert.equal(formatRouterDuration(5400), '1h30m');
  assert.equal(formatRouterDuration(788645), '1w2d3h4m5s');
  assert.equal(formatRouterDuration(0), '0s');
});

// ----- WireGuard peers and PPP secrets -----

const PEERS = '/interface/wireguard/peers';
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');

test('addWireguardPeer sends checked, normalized values', async () => {
  const router = new ScriptedRouter({ add: ['*5'] });
  const result = await new RouterOps(router).addWireguardPeer({
    interface: 'wg0',
    publicKey: KEY_A,
    presharedKey: KEY_B,
    allowedAddress: ['10.9.0.2', '10.9.0.2/32', '2001:DB8::7/64'],
    persistentKeepalive: 25,
    comment: 'alice',
  });
  assert.deepEqual(result, { id: '*5', created: true });
  assert.deepEqual(router.calls, [
    [
      'add',
      PEERS,
      { interface: 'wg0', 'public-key': KEY_A, 'allowed-address': '10.9.0.2/32,2001:db8::/64', 'preshared-key': KEY_B, 'persistent-keepalive': '25s', comment: 'alice' },
    ],
  ]);
});

test('addWireguardPeer refuses values that cannot be valid, before sending anything', async () => {
  const router = new ScriptedRouter({});
  const ops = new RouterOps(router);
  const base = { interface: 'wg0', publicKey: KEY_A, allowedAddress: ['10.9.0.2'] };
  const attempts = [
    { ...base, publicKey: 'abc' },
    { ...base, publicKey: Buffer.alloc(32).toString('hex') },
    { ...base, presharedKey: 'short' },
    { ...base, allowedAddress: [] },
    { ...base, allowedAddress: ['10.9.0.300'] },
    { ...base, allowedAddress: ['fd00::/129'] },
    { ...base, interface: ' ' },
    { ...base, persistentKeepalive: 65536 },
    { ...base, persistentKeepalive: 2.5 },
  ];
  for (const attempt of attempts) {
    await assert.rejects(ops.addWireguardPeer(attempt), (err) => isRouterError(err, 'invalid-argument'), JSON.stringify(attempt));
  }
  assert.deepEqual(router.calls, []);
});

test('addWireguardPeer: a duplicate key on the same interface is updated, disabled state untouched', async () => {
  const router = new ScriptedRouter({
    add: [trap('failure: entry already exists')],
    print: [[{ '.id': '*3', interface: 'wg0' }]],
  });
  const result = await new RouterOps(router).addWireguardPeer({ interface: 'wg0', publicKey: KEY_A, allowedAddress: ['10.9.0.4'], name: 'alice-phone' });
  assert.deepEqual(result, { id: '*3', created: false });
  assert.deepEqual(router.calls.slice(1), [
    ['print', PEERS, { 'public-key': KEY_A }, ['.id', 'interface']],
    ['set', PEERS, '*3', { 'allowed-address': '10.9.0.4/32', name: 'alice-phone' }],
  ]);
});

test('addWireguardPeer: the key on another interface is refused, not moved', async () => {
  const router = new ScriptedRouter({
    add: [trap('failure: entry already exists')],
    print: [[{ '.id': '*3', interface: 'wg-office' }]],
  });
  await assert.rejects(
    new RouterOps(router).addWireguardPeer({ interface: 'wg0', publicKey: KEY_A, allowedAddress: ['10.9.0.4'] }),
    (err) => isTrap(err, 'already exists') && !err.retryable && /wg-office/.test(err.message),
  );
  assert.deepEqual(router.calls.map((c) => c[0]), ['add', 'print']);
});

test('addWireguardPeer: a peer removed between the duplicate trap and the set is added again', async () => {
  const router = new ScriptedRouter({
    add: [trap('failure: entry already exists'), '*9'],
    print: [[{ '.id': '*3', interface: 'wg0' }]],
    set: [trap('no such item')],
  });
  const result = await new RouterOps(router).addWireguardPeer({ interface: 'wg0', publicKey: KEY_A, allowedAddress: ['10.9.0.4'] });
  assert.deepEqual(result, { id: '*9', created: true });
});

test('WireGuard on a router without it: a clear trap', async () => {
  const router = new ScriptedRouter({ print: [trap('no such command or directory (wireguard)')] });
  await assert.rejects(new RouterOps(router).listWireguardPeers(), (err) => isTrap(err, 'no such command') && /RouterOS 7/.test(err.message));
});

test('listWireguardPeers parses rows and never asks for the preshared key', async () => {
  const router = new ScriptedRouter({
    print: [
      [
        { '.id': '*1', interface: 'wg0', 'public-key': KEY_A, 'allowed-address': '10.9.0.2/32,fd00::2/128', disabled: 'false', rx: '148', tx: '92', 'last-handshake': '1m29s', 'current-endpoint-address': '198.51.100.7', 'current-endpoint-port': '51820', name: 'phone' },
        { '.id': '*2', interface: 'wg0', 'public-key': KEY_B, 'allowed-address': '', disabled: 'true', 'current-endpoint-address': '', 'current-endpoint-port': '0', comment: 'x' },
      ],
    ],
  });
  const peers = await new RouterOps(router).listWireguardPeers('wg0');
  assert.deepEqual(peers, [
    { id: '*1', interface: 'wg0', publicKey: KEY_A, allowedAddress: ['10.9.0.2/32', 'fd00::2/128'], name: 'phone', disabled: false, currentEndpointAddress: '198.51.100.7', currentEndpointPort: 51820, lastHandshakeSeconds: 89, rx: 148, tx: 92 },
    { id: '*2', interface: 'wg0', publicKey: KEY_B, allowedAddress: [], comment: 'x', disabled: true },
  ]);
  const [, menu, where, proplist] = router.calls[0]!;
  assert.equal(menu, PEERS);
  assert.deepEqual(where, { interface: 'wg0' });
  assert.ok(Array.isArray(proplist) && !proplist.includes('preshared-key'));
});

test('removeWireguardPeer: false when missing, gone-in-between counts as not removed', async () => {
  const router = new ScriptedRouter({ print: [[], [{ '.id': '*4' }]], remove: [trap('no such item')] });
  const ops = new RouterOps(router);
  assert.equal(await ops.removeWireguardPeer({ interface: 'wg0', publicKey: KEY_A }), false);
  assert.equal(await ops.removeWireguardPeer({ interface: 'wg0', publicKey: KEY_A }), false);
  assert.deepEqual(router.calls[0], ['print', PEERS, { interface: 'wg0', 'public-key': KEY_A }, ['.id']]);
});

test('addPppSecret: validated values; an existing name is updated', async () => {
  const router = new ScriptedRouter({
    add: [trap('failure: secret with the same name already exists')],
    print: [[{ '.id': '*7', name: 'bob', profile: 'default', service: 'any', disabled: 'true' }]],
  });
  const ops = new RouterOps(router);
  const result = await ops.addPppSecret({ name: 'bob', password: 'pw', profile: 'vpn', service: 'l2tp', remoteAddress: '10.8.0.9/32', comment: 'c' });
  assert.deepEqual(result, { id: '*7', created: false });
  const settings = { password: 'pw', profile: 'vpn', service: 'l2tp', 'remote-address': '10.8.0.9', comment: 'c' };
  assert.deepEqual(router.calls[0], ['add', '/ppp/secret', { name: 'bob', ...settings }]);
  assert.deepEqual(router.calls[2], ['set', '/ppp/secret', '*7', settings]);

  for (const bad of [
    { name: '', password: 'x' },
    { name: 'a', password: '' },
    { name: 'a', password: 'x', service: 'telnet' as 'any' },
    { name: 'a', password: 'x', remoteAddress: '10.0.0.0/24' },
  ]) {
    await assert.rejects(ops.addPppSecret(bad), (err) => isRouterError(err, 'invalid-argument'), JSON.stringify(bad));
  }
});

test('findPppSecret never asks for the password; setPppSecretDisabled skips a no-op', async () => {
  const row = { '.id': '*7', name: 'bob', profile: 'default', service: 'any', disabled: 'false', password: 'leaked?' };
  const router = new ScriptedRouter({ print: [[row], [row], []] });
  const ops = new RouterOps(router);
  const found = await ops.findPppSecret('bob');
  assert.deepEqual(found, { id: '*7', name: 'bob', profile: 'default', service: 'any', disabled: false });
  const proplist = router.calls[0]![3];
  assert.ok(Array.isArray(proplist) && !proplist.includes('password'));
  assert.equal(await ops.setPppSecretDisabled('bob', false), true);
  assert.equal(await ops.setPppSecretDisabled('nobody', true), false);
  assert.deepEqual(router.calls.map((c) => c[0]), ['print', 'print', 'print']);
});

test('allowed-address normalization', () => {
  assert.equal(normalizeAllowedAddress('10.0.0.7'), '10.0.0.7/32');
  assert.equal(normalizeAllowedAddress('10.0.0.7/24'), '10.0.0.0/24');
  assert.equal(normalizeAllowedAddress('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(normalizeAllowedAddress('2001:DB8:0:0::1'), '2001:db8::1/128');
  assert.equal(normalizeAllowedAddress('2001:db8::ffff/112'), '2001:db8::/112');
  assert.equal(normalizeAllowedAddress('::/0'), '::/0');
  for (const bad of ['', 'fd00::/129', '10.0.0.1/33', 'fd00::1::2', 'wg.example.com', '10.0.0.1,10.0.0.2']) {
    assert.throws(() => normalizeAllowedAddress(bad), (err) => isRouterError(err, 'invalid-argument'), bad);
  }
});
