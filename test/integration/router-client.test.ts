// RouterClient, RouterOps and RouterPool against the RouterOS simulator: normal operation,
// RouterOS quirks (`!empty`, challenge login, duplicates) and every way a link can fail.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { pino } from 'pino';

import { isRouterError, RouterClient, RouterError, RouterPool, type RouterClientOptions, type RouterEndpoint } from '../../src/router/index.js';
import { RouterOsSimulator, type RouterOsSimulatorOptions } from '../support/routeros-sim/index.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const USERS = [
  { name: 'warden', password: 'pa55', group: 'warden' as const },
  { name: 'viewer', password: 'v', group: 'read' as const },
];
const FAST: Omit<RouterClientOptions, 'logger'> = {
  callTimeoutMs: 400,
  connectTimeoutMs: 1000,
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  heartbeatIntervalMs: 0,
};

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startSim(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const sim = await RouterOsSimulator.start({ users: USERS, ...options });
  cleanups.push(() => sim.stop());
  return sim;
}

function endpointOf(sim: RouterOsSimulator, user = 'warden', password = 'pa55'): RouterEndpoint {
  return { name: 'r1', host: sim.host, port: sim.port, tls: false, user, password };
}

async function connectedClient(
  sim: RouterOsSimulator,
  options: Partial<RouterClientOptions> = {},
  endpoint: RouterEndpoint = endpointOf(sim),
): Promise<RouterClient> {
  const client = new RouterClient(endpoint, { ...FAST, logger, ...options });
  cleanups.push(() => client.close());
  client.start();
  await client.waitForUp(2000);
  return client;
}

async function rejectsWith(promise: Promise<unknown>, code: RouterError['code'], message?: RegExp): Promise<RouterError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isRouterError(err), `expected a RouterError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${code} RouterError`);
}

async function elapsed<T>(work: () => Promise<T>): Promise<[T | unknown, number]> {
  const start = Date.now();
  try {
    return [await work(), Date.now() - start];
  } catch (err) {
    return [err, Date.now() - start];
  }
}

describe('generic commands', () => {
  test('add, print with conditions and proplist, set, remove', async () => {
    const sim = await startSim({ version: '7.17' });
    const client = await connectedClient(sim);
    const id = await client.add('/ip/firewall/address-list', { list: 'sandbox', address: '198.51.100.7', comment: 'alice' });
    assert.match(id, /^\*[0-9A-F]+$/);
    assert.deepEqual(await client.print('/ip/firewall/address-list', { list: 'sandbox' }, ['.id', 'address', 'comment']), [
      { '.id': id, address: '198.51.100.7', comment: 'alice' },
    ]);
    await client.set('/ip/firewall/address-list', id, { comment: 'alice (approved)' });
    assert.equal(sim.addressList('sandbox')[0]?.comment, 'alice (approved)');
    await client.remove('/ip/firewall/address-list', id);
    assert.deepEqual(sim.addressList(), []);
    const err = await rejectsWith(client.remove('/ip/firewall/address-list', id), 'trap');
    assert.equal(err.routerMessage, 'no such item');
    assert.equal(err.retryable, false);
    assert.equal(client.isConnected, true, 'a trap does not hurt the link');
  });

  test('several calls in flight on one connection', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    sim.setDelay(50);
    const results = await Promise.all([
      client.ops.identity(),
      client.add('/ip/firewall/address-list', { list: 'a', address: '10.0.0.1' }),
      client.add('/ip/firewall/address-list', { list: 'a', address: '10.0.0.2' }),
      client.print('/system/resource', {}, ['version']),
    ]);
    assert.deepEqual(results, ['MikroTik', '*1', '*2', [{ version: '7.18.2 (stable)' }]]);
  });

  test('values that cannot be valid are refused before anything is sent', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    const sent = sim.commandLog.length;
    await rejectsWith(client.add('/ip/firewall/address-list', { list: 'a', address: '1.2.3.4', comment: 'x\n/system/reboot' }), 'invalid-argument', /newline/);
    await rejectsWith(client.add('/ip/firewall/address-list', { list: 'a\0', address: '1.2.3.4' }), 'invalid-argument');
    await rejectsWith(client.add('/ip/firewall/address-list', { 'list=x': 'a' }), 'invalid-argument', /property name/);
    await rejectsWith(client.add('ip firewall address-list', { list: 'a' }), 'invalid-argument', /menu path/);
    await rejectsWith(client.remove('/ip/firewall/address-list', '1; /system/reboot'), 'invalid-argument', /item id/);
    await rejectsWith(client.print('/ppp/active', { name: 'Жанна' }), 'invalid-argument', /Windows-1252/);
    await rejectsWith(client.ops.addToAddressList('a', 'not-an-ip'), 'invalid-argument', /IPv4/);
    await rejectsWith(client.ops.addToAddressList('a', '1.2.3.4', { timeout: 1.5 }), 'invalid-argument', /timeout/);
    assert.equal(sim.commandLog.length, sent);
    assert.throws(
      () => new RouterClient({ ...endpointOf(sim), password: 'пароль' }, { ...FAST, logger }),
      (err) => isRouterError(err, 'invalid-argument') && !err.message.includes('пароль'),
    );
    // Latin-1 text survives the trip.
    await client.add('/ip/firewall/address-list', { list: 'a', address: '1.2.3.4', comment: 'Zoë €5' });
    assert.equal((await client.ops.findAddressListEntries('a'))[0]?.comment, 'Zoë €5');
  });
});

describe('address lists', () => {
  test('a duplicate is success; a dynamic entry gets the new timeout, a static one is left alone', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    const first = await client.ops.addToAddressList('sandbox', '203.0.113.5', { timeout: 300, comment: 'alice' });
    assert.equal(first.created, true);
    sim.advanceClock(200_000);
    assert.ok((sim.addressList('sandbox')[0]?.timeoutMs ?? 0) < 101_000);

    const again = await client.ops.addToAddressList('sandbox', '203.0.113.5/32', { timeout: 3600 });
    assert.deepEqual(again, { id: first.id, created: false });
    const [entry] = sim.addressList('sandbox');
    assert.ok(entry && entry.timeoutMs !== undefined && entry.timeoutMs > 3_590_000, `timeout now ${entry?.timeoutMs}`);

    sim.addAddressListEntry({ list: 'banned', address: '192.0.2.1', comment: 'by admin' });
    const onStatic = await client.ops.addToAddressList('banned', '192.0.2.1', { timeout: 60 });
    assert.equal(onStatic.created, false);
    assert.equal(sim.addressList('banned')[0]?.dynamic, false);

    sim.addAddressListEntry({ list: 'allowed', address: '192.0.2.2', disabled: true });
    await client.ops.addToAddressList('allowed', '192.0.2.2');
    assert.equal(sim.addressList('allowed')[0]?.disabled, false, 'a disabled entry is not a member: it gets enabled');
  });

  test('entries expire on the router; the domain sees remaining seconds', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    await client.ops.addToAddressList('sandbox', '203.0.113.9', { timeout: 1800 });
    sim.advanceClock(60_500);
    const [entry] = await client.ops.findAddressListEntries('sandbox', '203.0.113.9');
    assert.equal(entry?.dynamic, true);
    assert.equal(entry?.timeoutSeconds, 1739);
    sim.advanceClock(1800_000);
    assert.deepEqual(await client.ops.findAddressListEntries('sandbox'), []);
  });

  test('remove counts what it removed and treats "no such item" as already gone', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    await client.ops.addToAddressList('sandbox', '203.0.113.5');
    assert.equal(await client.ops.removeFromAddressList('sandbox', '203.0.113.5'), 1);
    assert.equal(await client.ops.removeFromAddressList('sandbox', '203.0.113.5'), 0);

    await client.ops.addToAddressList('sandbox', '203.0.113.6');
    sim.failNext('/ip/firewall/address-list/remove', 'no such item');
    assert.equal(await client.ops.removeFromAddressList('sandbox', '203.0.113.6'), 0);

    sim.failNext('/ip/firewall/address-list/remove', 'failure: simulated');
    await rejectsWith(client.ops.removeFromAddressList('sandbox', '203.0.113.6'), 'trap', /simulated/);
  });

  test('an entry that expires between the duplicate trap and the lookup is added again', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    sim.failNext('/ip/firewall/address-list/add', 'failure: already have such entry');
    const result = await client.ops.addToAddressList('sandbox', '203.0.113.7', { timeout: 60 });
    assert.equal(result.created, true);
    assert.equal(sim.addressList('sandbox').length, 1);
  });
});

describe('PPP sessions and identity', () => {
  test('find by name, address or caller id; disconnect; missing is false', async () => {
    const sim = await startSim();
    const aliceId = sim.connectPpp({ name: 'alice', service: 'sstp', callerId: '198.51.100.4', address: '10.8.0.2', uptimeMs: 125_000 });
    sim.connectPpp({ name: 'bob', callerId: '198.51.100.5', address: '10.8.0.3' });
    const client = await connectedClient(sim);

    const [alice] = await client.ops.findPppActive({ name: 'alice' });
    assert.deepEqual({ ...alice, uptimeSeconds: undefined, encoding: undefined, sessionId: undefined }, {
      id: aliceId,
      name: 'alice',
      service: 'sstp',
      callerId: '198.51.100.4',
      address: '10.8.0.2',
      uptimeSeconds: undefined,
      encoding: undefined,
      sessionId: undefined,
    });
    assert.ok((alice?.uptimeSeconds ?? 0) >= 125);
    assert.deepEqual((await client.ops.findPppActive({ address: '10.8.0.3' })).map((s) => s.name), ['bob']);
    assert.deepEqual((await client.ops.findPppActive({ callerId: '198.51.100.4', name: 'bob' })).map((s) => s.name), []);
    assert.equal((await client.ops.findPppActive()).length, 2);

    const removed = once(sim, 'ppp-removed');
    assert.equal(await client.ops.disconnectPpp(aliceId), true);
    assert.equal(((await removed)[0] as { name: string }).name, 'alice');
    assert.equal(await client.ops.disconnectPpp(aliceId), false);
    assert.equal(await client.ops.identity(), 'MikroTik');
  });
});

describe('RouterOS quirks', () => {
  test('7.18 !empty: a print that matches nothing resolves [] and the process lives on', async () => {
    const sim = await startSim({ version: '7.18.2' });
    const client = await connectedClient(sim);
    assert.deepEqual(await client.print('/ip/firewall/address-list', { list: 'nothing' }), []);
    assert.deepEqual(await client.ops.findPppActive({ name: 'nobody' }), []);
    assert.equal(await client.ops.removeFromAddressList('nothing', '10.0.0.1'), 0);
    assert.equal(client.isConnected, true);
    assert.equal(await client.ops.identity(), 'MikroTik');
  });

  test('pre-6.43 router: challenge login', async () => {
    const sim = await startSim({ legacyLogin: true, version: '6.42.12' });
    const client = await connectedClient(sim);
    assert.equal(await client.ops.identity(), 'MikroTik');
    assert.ok(sim.commandLog.some((c) => c.command === '/login' && c.words.some((w) => w.startsWith('=response=00'))));
  });

  test('6.49 router: plain login, no !empty', async () => {
    const sim = await startSim({ version: '6.49.10' });
    const client = await connectedClient(sim);
    assert.deepEqual(await client.print('/ppp/active'), []);
  });

  test('replies split into many small reads', async () => {
    const sim = await startSim({ splitWrites: true });
    const client = await connectedClient(sim);
    const { id } = await client.ops.addToAddressList('sandbox', '203.0.113.20', { timeout: 60, comment: 'split' });
    assert.deepEqual((await client.ops.findAddressListEntries('sandbox')).map((e) => [e.id, e.comment]), [[id, 'split']]);
    assert.deepEqual(await client.print('/ip/firewall/address-list', { list: 'none' }), []);
  });

  test('a user without write policy gets a trap, and reads still work', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, {}, endpointOf(sim, 'viewer', 'v'));
    const err = await rejectsWith(client.ops.addToAddressList('sandbox', '203.0.113.5'), 'trap');
    assert.equal(err.routerMessage, 'not enough permissions (9)');
    assert.equal(await client.ops.identity(), 'MikroTik');
  });
});

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI (undefined when it is missing). */
function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'routeros-sim-tls-'));
  try {
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=routeros-sim.test', '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    if (made.status !== 0) return undefined;
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('API-SSL', () => {
  const certificate = selfSignedCertificate();

  test('connects over TLS to a router whose certificate is trusted; refuses an unknown one', { skip: !certificate && 'openssl CLI not available' }, async () => {
    const sim = await startSim({ tls: certificate!, splitWrites: true, version: '7.18.2' });
    const client = await connectedClient(sim, {}, { ...endpointOf(sim), tls: { ca: certificate!.cert } });
    assert.equal(await client.ops.identity(), 'MikroTik');
    assert.deepEqual(await client.print('/ppp/active'), []);

    const untrusting = new RouterClient({ ...endpointOf(sim), tls: true }, { ...FAST, logger });
    cleanups.push(() => untrusting.close());
    untrusting.start();
    await rejectsWith(untrusting.waitForUp(300), 'link-down');
    assert.match(untrusting.lastError?.message ?? '', /self[- ]signed certificate/);
  });
});

describe('link failures', () => {
  test('wrong password: auth error, waits the long backoff instead of hammering', async () => {
    const sim = await startSim();
    const client = new RouterClient(endpointOf(sim, 'warden', 'wrong'), { ...FAST, reconnectMaxMs: 1000, logger });
    cleanups.push(() => client.close());
    client.start();
    await rejectsWith(client.waitForUp(300), 'link-down');
    assert.equal(client.lastError?.code, 'auth');
    assert.equal(client.lastError?.retryable, false);
    assert.equal(client.state, 'waiting');
    assert.equal(sim.commandLog.filter((c) => c.command === '/login').length, 1);
    await rejectsWith(client.ops.identity(), 'link-down');
  });

  test('calls fail fast while there is no link', async () => {
    const sim = await startSim();
    const idle = new RouterClient(endpointOf(sim), { ...FAST, logger });
    cleanups.push(() => idle.close());
    const [err, ms] = await elapsed(() => idle.ops.identity());
    assert.ok(isRouterError(err, 'link-down'));
    assert.ok(ms < 50, `took ${ms} ms`);

    await sim.setRefuseConnections(true);
    const refused = new RouterClient(endpointOf(sim), { ...FAST, logger });
    cleanups.push(() => refused.close());
    refused.start();
    await rejectsWith(refused.waitForUp(150), 'link-down');
    assert.match(String((refused.lastError as RouterError | undefined)?.message), /ECONNREFUSED|refused/i);
    await rejectsWith(refused.ops.identity(), 'link-down');
    await sim.setRefuseConnections(false);
    await refused.waitForUp(2000);
    assert.equal(await refused.ops.identity(), 'MikroTik');
  });

  test('a dropped link fails pending calls at once and the client reconnects by itself', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, { callTimeoutMs: 5000 });
    sim.setNoReply('/ppp/active/print');
    const pending = client.ops.findPppActive();
    const down = once(client, 'down');
    const up = once(client, 'up');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    sim.dropConnections();
    const err = await rejectsWith(pending, 'link-down', /connection lost/);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
    assert.equal(err.retryable, true);
    const [reason] = (await down) as [RouterError];
    assert.equal(reason.code, 'link-down');
    sim.setNoReply('/ppp/active/print', false);
    await up;
    assert.equal(client.isConnected, true);
    assert.deepEqual(await client.ops.findPppActive(), []);
  });

  test('!fatal: pending calls fail with link-down, the reason is kept, the client comes back', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, { callTimeoutMs: 5000 });
    sim.setNoReply('/system/identity/print');
    const pending = client.ops.identity();
    const down = once(client, 'down');
    await new Promise((resolve) => setTimeout(resolve, 20));
    sim.sendFatal('session terminated by administrator');
    const err = await rejectsWith(pending, 'link-down', /session terminated by administrator/);
    assert.ok(isRouterError(err.cause, 'fatal'));
    const [reason] = (await down) as [RouterError];
    assert.equal(reason.code, 'fatal');
    assert.equal(reason.routerMessage, 'session terminated by administrator');
    sim.clearFaults();
    await client.waitForUp(2000);
    assert.equal(await client.ops.identity(), 'MikroTik');
  });

  test('a call without reply times out and the suspect connection is rebuilt', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, { callTimeoutMs: 200 });
    const loginsBefore = sim.commandLog.filter((c) => c.command === '/login').length;
    sim.setNoReply('/ip/firewall/address-list/add');
    const down = once(client, 'down');
    const [err, ms] = await elapsed(() => client.ops.addToAddressList('sandbox', '203.0.113.30'));
    assert.ok(isRouterError(err, 'timeout'), String(err));
    assert.equal(err.retryable, true);
    assert.ok(ms >= 190 && ms < 1000, `took ${ms} ms`);
    await down;
    sim.clearFaults();
    await client.waitForUp(2000);
    assert.equal(sim.commandLog.filter((c) => c.command === '/login').length, loginsBefore + 1);
    assert.deepEqual(await client.ops.addToAddressList('sandbox', '203.0.113.30'), { id: '*1', created: true });
  });

  test('router refuses connections for a while, then comes back', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim);
    await sim.setRefuseConnections(true);
    sim.dropConnections();
    await once(client, 'down');
    await rejectsWith(client.ops.identity(), 'link-down');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(client.isConnected, false);
    await sim.setRefuseConnections(false);
    await client.waitForUp(2000);
    assert.equal(await client.ops.identity(), 'MikroTik');
  });

  test('the heartbeat notices a router that stopped answering', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, { heartbeatIntervalMs: 50, callTimeoutMs: 150 });
    const down = once(client, 'down');
    sim.setNoReply('/system/identity/print');
    const [reason] = (await down) as [RouterError];
    assert.equal(reason.code, 'link-down');
    assert.ok(isRouterError(reason.cause, 'timeout'));
    sim.clearFaults();
    await client.waitForUp(2000);
  });

  test('close() fails pending calls, stops reconnecting and leaves no timers behind', async () => {
    const sim = await startSim();
    const client = await connectedClient(sim, { callTimeoutMs: 5000 });
    sim.setNoReply('/ppp/active/print');
    const pending = client.ops.findPppActive();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await client.close();
    const err = await rejectsWith(pending, 'link-down', /client closed/);
    assert.equal(err.retryable, false);
    assert.equal(client.state, 'closed');
    await rejectsWith(client.ops.identity(), 'link-down');
    assert.throws(() => client.start(), /client closed/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sim.connectionCount, 0);
  });

  test('close() during a slow login aborts the attempt at once', async () => {
    const sim = await startSim();
    sim.setDelay(2000);
    const client = new RouterClient(endpointOf(sim), { ...FAST, connectTimeoutMs: 5000, logger });
    cleanups.push(() => client.close());
    client.start();
    await once(sim, 'connection');
    const waiting = client.waitForUp(5000);
    await client.close();
    await rejectsWith(waiting, 'link-down', /client closed/);
    const deadline = Date.now() + 1000;
    while (sim.connectionCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(sim.connectionCount, 0);
  });
});

describe('RouterPool', () => {
  test('one lazily created client per router, onUp per link, closeAll', async () => {
    const simA = await startSim({ identity: 'alpha' });
    const simB = await startSim({ identity: 'beta' });
    const loads: string[] = [];
    const pool = new RouterPool({
      logger,
      clientOptions: FAST,
      loadEndpoint: async (routerId) => {
        loads.push(routerId);
        if (routerId === 'missing') throw new Error('no such router');
        const sim = routerId === 'a' ? simA : simB;
        return { ...endpointOf(sim), name: routerId };
      },
    });
    cleanups.push(() => pool.closeAll());
    const ups: string[] = [];
    const bothUp = new Promise<void>((resolve) => {
      pool.onUp((routerId) => {
        ups.push(routerId);
        if (ups.length === 2) resolve();
      });
    });

    const [a1, a2, b] = await Promise.all([pool.get('a'), pool.get('a'), pool.get('b')]);
    assert.equal(a1, a2);
    assert.notEqual(a1, b);
    assert.deepEqual(loads.sort(), ['a', 'b']);
    await bothUp;
    assert.deepEqual(ups.sort(), ['a', 'b']);
    assert.equal(await a1.ops.identity(), 'alpha');
    assert.equal(await b.ops.identity(), 'beta');
    assert.equal(await pool.forRouter('a'), a1.ops);

    await assert.rejects(pool.get('missing'), /no such router/);
    await assert.rejects(pool.get('missing'), /no such router/);
    assert.equal(loads.filter((id) => id === 'missing').length, 2, 'a failed load is not cached');

    const reconnected = new Promise<string>((resolve) => pool.onUp(resolve));
    simA.dropConnections();
    assert.equal(await reconnected, 'a');

    await pool.closeAll();
    assert.equal(a1.state, 'closed');
    assert.equal(b.state, 'closed');
    await assert.rejects(pool.get('a'), /pool is closed/);
  });
});
