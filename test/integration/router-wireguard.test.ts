// WireGuard peers and PPP secrets through RouterClient and RouterOps against the RouterOS
// simulator: the idempotent operations, what the router reports back (handshakes, endpoints),
// and version differences (no WireGuard on 6.x, peer names from 7.15, `!empty` from 7.18).

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { pino } from 'pino';

import {
  generatePresharedKey,
  generateWireguardKeyPair,
  isRouterError,
  isTrap,
  RouterClient,
  type RouterClientOptions,
} from '../../src/router/index.js';
import { RawApiConnection, RouterOsSimulator, type RouterOsSimulatorOptions } from '../support/routeros-sim/index.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const WARDEN = { name: 'warden', password: 'pa55', group: 'warden' as const };
const ADMIN = { name: 'admin', password: 'adm', group: 'full' as const };
const FAST: Omit<RouterClientOptions, 'logger'> = {
  callTimeoutMs: 1000,
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
  const sim = await RouterOsSimulator.start({ users: [WARDEN, ADMIN], ...options });
  cleanups.push(() => sim.stop());
  return sim;
}

async function connect(sim: RouterOsSimulator, user: { name: string; password: string } = WARDEN): Promise<RouterClient> {
  const client = new RouterClient({ name: 'r1', host: sim.host, port: sim.port, tls: false, user: user.name, password: user.password }, { ...FAST, logger });
  cleanups.push(() => client.close());
  client.start();
  await client.waitForUp(2000);
  return client;
}

async function openRaw(sim: RouterOsSimulator): Promise<RawApiConnection> {
  const raw = await RawApiConnection.open(sim.port);
  cleanups.push(() => raw.close());
  assert.deepEqual(await raw.login(ADMIN.name, ADMIN.password), [['!done']]);
  return raw;
}

describe('WireGuard peers through RouterOps', () => {
  test('add, list, update a duplicate, remove', async () => {
    const sim = await startSim({ version: '7.17' });
    const iface = sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    sim.addWireguardInterface({ name: 'wg-office', listenPort: 13232 });
    const { ops } = await connect(sim);

    assert.deepEqual(await ops.wireguardInterface('wg0'), { id: iface.id, name: 'wg0', listenPort: 13231, publicKey: iface.publicKey });
    assert.equal(await ops.wireguardInterface('wg9'), null);
    assert.deepEqual(await ops.listWireguardPeers('wg0'), []);

    const alice = generateWireguardKeyPair();
    const psk = generatePresharedKey();
    const added = await ops.addWireguardPeer({ interface: 'wg0', publicKey: alice.publicKey, presharedKey: psk, allowedAddress: ['10.9.0.2'], persistentKeepalive: 25, comment: 'alice' });
    assert.equal(added.created, true);
    const [simPeer] = sim.wireguardPeers('wg0');
    assert.equal(simPeer?.id, added.id);
    assert.equal(simPeer?.presharedKey, psk);
    assert.equal(simPeer?.persistentKeepaliveSeconds, 25);

    assert.deepEqual(await ops.listWireguardPeers('wg0'), [
      { id: added.id, interface: 'wg0', publicKey: alice.publicKey, allowedAddress: ['10.9.0.2/32'], comment: 'alice', disabled: false, rx: 0, tx: 0 },
    ]);
    assert.deepEqual(await ops.listWireguardPeers('wg-office'), []);

    // The same key again: updated in place, not duplicated; a disabled peer stays disabled.
    sim.addWireguardPeer({ interface: 'wg-office', publicKey: generateWireguardKeyPair().publicKey, allowedAddress: ['10.10.0.2/32'] });
    const admin = await openRaw(sim);
    await admin.command(['/interface/wireguard/peers/set', `=.id=${added.id}`, '=disabled=yes']);
    const again = await ops.addWireguardPeer({ interface: 'wg0', publicKey: alice.publicKey, allowedAddress: ['10.9.0.3/32', 'fd00::3'], comment: 'alice, new phone' });
    assert.deepEqual(again, { id: added.id, created: false });
    const [updated] = await ops.listWireguardPeers('wg0');
    assert.deepEqual(updated?.allowedAddress, ['10.9.0.3/32', 'fd00::3/128']);
    assert.equal(updated?.comment, 'alice, new phone');
    assert.equal(updated?.disabled, true);
    assert.equal(sim.wireguardPeers('wg0')[0]?.presharedKey, psk, 'a field not given is left as it was');
    assert.equal(sim.wireguardPeers().length, 2);

    // The router holds one peer per key: the same key for another interface is refused.
    await assert.rejects(ops.addWireguardPeer({ interface: 'wg-office', publicKey: alice.publicKey, allowedAddress: ['10.10.0.9'] }), (err) =>
      isTrap(err, 'already exists') && /wg0/.test(err.message),
    );
    await assert.rejects(ops.addWireguardPeer({ interface: 'wg7', publicKey: alice.publicKey, allowedAddress: ['10.10.0.9'] }), (err) =>
      isTrap(err, 'input does not match any value of interface'),
    );

    assert.equal(await ops.removeWireguardPeer({ interface: 'wg-office', publicKey: alice.publicKey }), false);
    assert.equal(await ops.removeWireguardPeer({ interface: 'wg0', publicKey: alice.publicKey }), true);
    assert.equal(await ops.removeWireguardPeer({ interface: 'wg0', publicKey: alice.publicKey }), false);
    assert.deepEqual(sim.wireguardPeers().map((p) => p.interface), ['wg-office']);
  });

  test('last-handshake is absent until the first handshake, then grows with the router clock', async () => {
    const sim = await startSim();
    sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const { ops } = await connect(sim);
    const phone = generateWireguardKeyPair();
    await ops.addWireguardPeer({ interface: 'wg0', publicKey: phone.publicKey, allowedAddress: ['10.9.0.2'] });

    const [before] = await ops.listWireguardPeers('wg0');
    assert.equal(before?.lastHandshakeSeconds, undefined);
    assert.equal(before?.currentEndpointAddress, undefined);
    assert.equal(before?.currentEndpointPort, undefined);

    sim.wireguardHandshake(phone.publicKey, { endpointAddress: '198.51.100.7', endpointPort: 51820 });
    const [fresh] = await ops.listWireguardPeers('wg0');
    assert.ok(fresh?.lastHandshakeSeconds !== undefined && fresh.lastHandshakeSeconds <= 1, String(fresh?.lastHandshakeSeconds));
    assert.equal(fresh?.currentEndpointAddress, '198.51.100.7');
    assert.equal(fresh?.currentEndpointPort, 51820);
    assert.ok((fresh?.rx ?? 0) > 0 && (fresh?.tx ?? 0) > 0);

    sim.advanceClock(89_000);
    const [later] = await ops.listWireguardPeers();
    assert.ok(later?.lastHandshakeSeconds !== undefined && later.lastHandshakeSeconds >= 89 && later.lastHandshakeSeconds <= 90, String(later?.lastHandshakeSeconds));

    // The phone roams: a new handshake from a new address resets the age and moves the endpoint.
    sim.wireguardHandshake(phone.publicKey, { endpointAddress: '203.0.113.40', endpointPort: 40000, rxBytes: 1000 });
    const [roamed] = await ops.listWireguardPeers('wg0');
    assert.ok((roamed?.lastHandshakeSeconds ?? 99) <= 1);
    assert.equal(roamed?.currentEndpointAddress, '203.0.113.40');
    assert.equal(roamed?.currentEndpointPort, 40000);
    assert.ok((roamed?.rx ?? 0) > (fresh?.rx ?? 0) + 1000);

    assert.throws(() => sim.wireguardHandshake(generateWireguardKeyPair().publicKey, { endpointAddress: '198.51.100.7', endpointPort: 1 }), /no WireGuard peer/);
  });

  test('peer names: refused before 7.15, kept from 7.15 on', async () => {
    const old = await startSim({ version: '7.14.3' });
    old.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const oldOps = (await connect(old)).ops;
    const key = generateWireguardKeyPair().publicKey;
    await assert.rejects(oldOps.addWireguardPeer({ interface: 'wg0', publicKey: key, allowedAddress: ['10.9.0.2'], name: 'phone' }), (err) =>
      isTrap(err, 'unknown parameter name'),
    );
    assert.equal(old.wireguardPeers().length, 0);
    // Without a name the same call works, and listing (which asks for `name`) still does.
    await oldOps.addWireguardPeer({ interface: 'wg0', publicKey: key, allowedAddress: ['10.9.0.2'] });
    assert.equal((await oldOps.listWireguardPeers())[0]?.name, undefined);

    const current = await startSim({ version: '7.15' });
    current.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const ops = (await connect(current)).ops;
    await ops.addWireguardPeer({ interface: 'wg0', publicKey: key, allowedAddress: ['10.9.0.2'], name: 'phone' });
    assert.equal((await ops.listWireguardPeers('wg0'))[0]?.name, 'phone');
  });

  test('RouterOS 6 has no WireGuard', async () => {
    const sim = await startSim({ version: '6.49.10' });
    const { ops } = await connect(sim);
    await assert.rejects(ops.listWireguardPeers(), (err) => isTrap(err, 'no such command or directory (wireguard)') && /RouterOS 7/.test(err.message));
    await assert.rejects(ops.wireguardInterface('wg0'), (err) => isTrap(err, 'no such command'));
    await assert.rejects(ops.addWireguardPeer({ interface: 'wg0', publicKey: generateWireguardKeyPair().publicKey, allowedAddress: ['10.9.0.2'] }), (err) =>
      isTrap(err, 'no such command'),
    );
    assert.throws(() => sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 }), /no WireGuard/);
  });

  test('7.18 answers an empty peer list with !empty; the client resolves []', async () => {
    const sim = await startSim({ version: '7.18.2' });
    sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const raw = await openRaw(sim);
    assert.deepEqual(await raw.command(['/interface/wireguard/peers/print', '?interface=wg0'], 'e'), [['!empty', '.tag=e'], ['!done', '.tag=e']]);
    const { ops } = await connect(sim);
    assert.deepEqual(await ops.listWireguardPeers('wg0'), []);
    assert.deepEqual(await ops.listWireguardPeers(), []);
    assert.equal(await ops.removeWireguardPeer({ interface: 'wg0', publicKey: generateWireguardKeyPair().publicKey }), false);
    assert.equal(await ops.findPppSecret('nobody'), null);
  });
});

describe('PPP secrets and profiles through RouterOps', () => {
  test('add, update an existing name, disable, remove', async () => {
    const sim = await startSim();
    sim.addPppProfile({ name: 'vpn-sandbox', localAddress: '10.8.0.1', onUp: ':log info up' });
    const { ops } = await connect(sim);
    assert.deepEqual(await ops.pppProfiles(), ['default', 'default-encryption', 'vpn-sandbox']);

    const added = await ops.addPppSecret({ name: 'alice', password: 's3cret', service: 'l2tp', remoteAddress: '10.8.0.2', comment: 'alice' });
    assert.equal(added.created, true);
    assert.deepEqual(await ops.findPppSecret('alice'), {
      id: added.id,
      name: 'alice',
      profile: 'default',
      service: 'l2tp',
      disabled: false,
      remoteAddress: '10.8.0.2',
      comment: 'alice',
    });

    const again = await ops.addPppSecret({ name: 'alice', password: 'n3w', profile: 'vpn-sandbox' });
    assert.deepEqual(again, { id: added.id, created: false });
    const [stored] = sim.pppSecrets();
    assert.equal(stored?.password, 'n3w');
    assert.equal(stored?.profile, 'vpn-sandbox');
    assert.equal(stored?.service, 'l2tp', 'a field not given is left as it was');
    assert.equal(sim.pppSecrets().length, 1);

    assert.equal(await ops.setPppSecretDisabled('alice', true), true);
    assert.equal(sim.pppSecrets()[0]?.disabled, true);
    assert.equal((await ops.findPppSecret('alice'))?.disabled, true);
    // A later add updates the secret but does not re-enable it.
    await ops.addPppSecret({ name: 'alice', password: 'n3w' });
    assert.equal(sim.pppSecrets()[0]?.disabled, true);
    assert.equal(await ops.setPppSecretDisabled('alice', false), true);
    assert.equal(sim.pppSecrets()[0]?.disabled, false);
    assert.equal(await ops.setPppSecretDisabled('nobody', true), false);

    assert.equal(await ops.removePppSecret('alice'), true);
    assert.equal(await ops.removePppSecret('alice'), false);
    assert.equal(await ops.findPppSecret('alice'), null);
    assert.equal(sim.pppSecrets().length, 0);
  });

  test('the profile must exist', async () => {
    const sim = await startSim();
    const { ops } = await connect(sim);
    await assert.rejects(ops.addPppSecret({ name: 'bob', password: 'pw', profile: 'no-such-profile' }), (err) =>
      isTrap(err, 'input does not match any value of profile'),
    );
    assert.equal(sim.pppSecrets().length, 0);
    await ops.addPppSecret({ name: 'bob', password: 'pw' });
    await assert.rejects(ops.addPppSecret({ name: 'bob', password: 'pw', profile: 'no-such-profile' }), (err) => isTrap(err, 'profile'));
    assert.equal(sim.pppSecrets()[0]?.profile, 'default');
  });

  test('the password is never read back, even by a user allowed to see it', async () => {
    const sim = await startSim();
    const { ops } = await connect(sim, ADMIN);
    await ops.addPppSecret({ name: 'carol', password: 'do-not-leak' });
    sim.clearCommandLog();
    const found = await ops.findPppSecret('carol');
    assert.ok(found);
    assert.equal('password' in found, false);
    assert.doesNotMatch(JSON.stringify(found), /do-not-leak/);
    // It is not even requested: the print names the properties it wants, and password is not one.
    const print = sim.commandLog.find((c) => c.command === '/ppp/secret/print');
    const proplist = print?.words.find((w) => w.startsWith('=.proplist='));
    assert.ok(proplist && !proplist.split(/[=,]/).includes('password'), proplist);
  });

  test('values that cannot be valid are refused before anything is sent', async () => {
    const sim = await startSim();
    const { ops } = await connect(sim);
    sim.clearCommandLog();
    await assert.rejects(ops.addPppSecret({ name: 'x', password: 'a\nb' }), (err) => isRouterError(err, 'invalid-argument'));
    await assert.rejects(ops.addPppSecret({ name: 'x', password: 'pw', remoteAddress: 'pool1' }), (err) => isRouterError(err, 'invalid-argument'));
    assert.deepEqual(sim.commandLog, []);
  });
});
