// RouterOps over a scripted fake of the four generic commands, plus the value checks and
// duration helpers it relies on: no network, just the decisions.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatRouterDuration,
  isRouterError,
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
  async print(menu: string, where?: RouterAttributes): Promise<RouterRow[]> {
    this.calls.push(['print', menu, where]);
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
