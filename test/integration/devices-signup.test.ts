// Signup and devices against PostgreSQL with in-memory router and chat stand-ins: invites,
// requests decided by admins, provisioning, delivery (.conf + QR), limits, concurrency, rotation,
// removal and failure clean-up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { gatewayFor, MemoryChat, MemoryRouter, testDeps } from '../support/fakes.js';
import { decodeQrPng } from '../support/qr.js';
import { addRouter, setRouterProvisioning } from '../../src/domain/admin.js';
import { createDevice, deprovisionDevice, provisionDevice, recordProvisionFailure, removeDevice, removeStalePeer, rotateDevice } from '../../src/domain/devices.js';
import { deliverDeviceConfig } from '../../src/domain/delivery.js';
import { createInvite, decideSignup, joinWithInvite, notifyAdminsOfSignup, notifySignupOutcome, requestSignup, type ChatPerson } from '../../src/domain/signup.js';
import { parseWireguardConf } from '../../src/provisioning/clientConfig.js';
import { isWireguardKey, publicKeyFromPrivate } from '../../src/router/wireguardKeys.js';

let database: TestDatabase;
let db: Db;
let deps: ReturnType<typeof testDeps>;
let routerId: string;
let n = 0;

function chatUser(name: string): ChatPerson {
  n++;
  return { platform: 'telegram', externalId: String(5000 + n), chatId: String(5000 + n), username: name.toLowerCase(), displayName: name };
}

async function jobsFor(name: string, key: 'accountId' | 'requestId', id: string): Promise<number> {
  const rows = await db.outboxJob.findMany({ where: { name } });
  return rows.filter((r) => (r.payload as Record<string, string>)[key] === id).length;
}

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  deps = testDeps(db);
  ({ id: routerId } = await addRouter(deps, deps.secretBox, { name: 'office', apiHost: '127.0.0.1', apiPort: 8728, apiTls: false, apiUser: 'w', apiPassword: 'p' }));
  await setRouterProvisioning(deps, 'office', {
    vpnHost: 'vpn.example.com',
    wgInterface: 'wg-warden',
    wgPool: '10.66.0.0/29',
    wgDns: ['10.66.0.1'],
    wgPort: 51820,
    pppService: 'l2tp',
    ipsecSecret: 'psk-123',
  });
});

after(async () => {
  await db.$disconnect();
  await database.drop();
});

test('an invite creates the person, links the chat and provisions a first WireGuard device; the config decodes from its QR code', async () => {
  const { code } = await createInvite(deps, { routerId, kind: 'wireguard', maxUses: 1, createdBy: 'operator' });
  const who = chatUser('Alice');
  const joined = await joinWithInvite(deps, who, code.toLowerCase());
  assert.deepEqual(joined, { status: 'joined', personName: 'Alice', deviceLabel: 'phone', kind: 'wireguard' });
  assert.deepEqual(await joinWithInvite(deps, chatUser('Bob'), code), { status: 'invalid-code' }, 'single-use invite is used up');
  assert.deepEqual(await joinWithInvite(deps, who, code), { status: 'already-member' });

  const device = await db.vpnAccount.findFirstOrThrow({ where: { person: { displayName: 'Alice' } } });
  assert.equal(device.provisionState, 'provisioning');
  assert.equal(device.wgAddress, '10.66.0.2', 'first host after the router\'s own .1');
  assert.ok(device.wgPrivateKeyEnc && !device.wgPrivateKeyEnc.includes(device.wgPublicKey!), 'private key encrypted at rest');
  assert.equal(await jobsFor('device.provision', 'accountId', device.id), 1);

  const router = new MemoryRouter();
  assert.equal(await provisionDevice(deps, gatewayFor(router), device.id), 'provisioned');
  const peer = router.peers.get(device.wgPublicKey!)!;
  assert.deepEqual(peer.allowedAddress, ['10.66.0.2/32']);
  assert.equal(peer.interface, 'wg-warden');
  assert.equal(await jobsFor('device.deliver', 'accountId', device.id), 1);

  const chat = new MemoryChat();
  assert.equal(await deliverDeviceConfig(deps, gatewayFor(router), { telegram: chat }, device.id), 'sent');
  const conf = chat.files.find((f) => f.kind === 'document')!;
  const qr = chat.files.find((f) => f.kind === 'photo')!;
  assert.equal(conf.chatId, who.chatId);
  assert.match(conf.filename, /^warden-phone\.conf$/);
  assert.equal(decodeQrPng(qr.bytes), conf.bytes.toString('utf8'), 'the QR code is exactly the config file');
  const parsed = parseWireguardConf(conf.bytes.toString('utf8'));
  assert.equal(publicKeyFromPrivate(parsed.privateKey), device.wgPublicKey);
  assert.equal(parsed.address, '10.66.0.2/32');
  assert.equal(parsed.endpoint, 'vpn.example.com:51820');
  assert.deepEqual(parsed.dns, ['10.66.0.1']);
  assert.equal(parsed.presharedKey, peer.presharedKey);
  assert.ok(isWireguardKey(parsed.serverPublicKey));
});

test('concurrent device creation never hands out one address twice, and the device limit holds', async () => {
  const { code } = await createInvite(deps, { routerId, kind: 'wireguard', maxUses: 10, createdBy: 'operator' });
  const people = Array.from({ length: 4 }, (_, i) => chatUser(`Concurrent${i}`));
  const results = await Promise.all(people.map((p) => joinWithInvite(deps, p, code)));
  // The /29 pool has 5 client addresses (.2-.6); Alice took .2.
  assert.equal(results.filter((r) => r.status === 'joined').length, 4, JSON.stringify(results));
  const addresses = (await db.vpnAccount.findMany({ where: { routerId, wgAddress: { not: null } } })).map((a) => a.wgAddress);
  assert.equal(new Set(addresses).size, addresses.length, `duplicate address in ${addresses.join(',')}`);
  const full = await joinWithInvite(deps, chatUser('Late'), code);
  assert.equal(full.status, 'failed');
  assert.match((full as { reason: string }).reason, /pool .* is full/);
  assert.equal(await db.person.count({ where: { displayName: 'Late' } }), 0, 'a failed signup leaves nothing behind');

  const alice = await db.person.findFirstOrThrow({ where: { displayName: 'Alice' } });
  await db.vpnAccount.updateMany({ where: { personId: alice.id }, data: {} });
  await createDevice(deps, { personId: alice.id, routerId, kind: 'ppp', label: 'laptop', actor: 'test' });
  await assert.rejects(createDevice(deps, { personId: alice.id, routerId, kind: 'ppp', label: 'tablet', actor: 'test' }), /device limit reached \(2\)/);
});

test('PPP devices: a strong password on the router, instructions with the IPsec secret; rotate changes it', async () => {
  const alice = await db.person.findFirstOrThrow({ where: { displayName: 'Alice' } });
  const device = await db.vpnAccount.findFirstOrThrow({ where: { personId: alice.id, kind: 'ppp' } });
  const router = new MemoryRouter();
  await provisionDevice(deps, gatewayFor(router), device.id);
  const secret = router.secrets.get(device.username!)!;
  assert.ok(secret.password.length >= 20);
  assert.equal(secret.service, 'l2tp');
  const chat = new MemoryChat();
  await deliverDeviceConfig(deps, gatewayFor(router), { telegram: chat }, device.id);
  const text = chat.texts.map((t) => t.text).join('\n');
  assert.ok(text.includes(secret.password));
  assert.ok(text.includes(device.username!));
  assert.ok(text.includes('vpn.example.com'));
  assert.ok(text.includes('psk-123'));

  await rotateDevice(deps, device.id, 'test');
  await provisionDevice(deps, gatewayFor(router), device.id);
  assert.notEqual(router.secrets.get(device.username!)!.password, secret.password);
});

test('rotating WireGuard keys removes the old peer; removing a device deletes it from router and database', async () => {
  const alice = await db.person.findFirstOrThrow({ where: { displayName: 'Alice' } });
  const device = await db.vpnAccount.findFirstOrThrow({ where: { personId: alice.id, kind: 'wireguard' } });
  const router = new MemoryRouter();
  await provisionDevice(deps, gatewayFor(router), device.id);
  const oldKey = device.wgPublicKey!;
  await rotateDevice(deps, device.id, 'test');
  await provisionDevice(deps, gatewayFor(router), device.id);
  await removeStalePeer(deps, gatewayFor(router), routerId, oldKey);
  const rotated = await db.vpnAccount.findUniqueOrThrow({ where: { id: device.id } });
  assert.notEqual(rotated.wgPublicKey, oldKey);
  assert.deepEqual([...router.peers.keys()], [rotated.wgPublicKey]);

  await removeDevice(deps, device.id, 'test');
  assert.equal(await deprovisionDevice(deps, gatewayFor(router), device.id), 'deleted');
  assert.equal(router.peers.size, 0);
  assert.equal(await db.vpnAccount.count({ where: { id: device.id } }), 0);
});

test('a device whose provisioning finally fails is cleaned off the router and marked failed', async () => {
  const { code } = await createInvite(deps, { routerId, kind: 'ppp', maxUses: 1, createdBy: 'operator' });
  await joinWithInvite(deps, chatUser('Flaky'), code);
  const device = await db.vpnAccount.findFirstOrThrow({ where: { person: { displayName: 'Flaky' } } });
  const router = new MemoryRouter();
  await provisionDevice(deps, gatewayFor(router), device.id); // half-way: on the router...
  await recordProvisionFailure(deps, gatewayFor(router), device.id, 'router said no'); // ...then given up
  assert.equal(router.secrets.size, 0, 'nothing left on the router');
  const failed = await db.vpnAccount.findUniqueOrThrow({ where: { id: device.id } });
  assert.equal(failed.provisionState, 'failed');
  assert.equal(failed.provisionError, 'router said no');
});

test('signup requests reach the admins, are rate-limited, and an approval links the person', async () => {
  const chat = new MemoryChat();
  const who = chatUser('Requester');
  assert.equal(await requestSignup(deps, who), 'requested');
  assert.equal(await requestSignup(deps, who), 'already-pending');
  const request = await db.signupRequest.findFirstOrThrow({ where: { externalId: who.externalId } });
  assert.equal(await notifyAdminsOfSignup(deps, { telegram: chat }, request.id), 1, 'the telegram admin is asked (the discord one has no channel here)');
  assert.equal(await notifyAdminsOfSignup(deps, { telegram: chat }, request.id), 0, 'not asked twice');
  const [prompt] = [...chat.choices.values()];
  assert.equal(prompt!.chatId, 'dm-9000', 'the admin\'s private chat');
  assert.match(prompt!.text, /Requester \(@requester\) on telegram/);
  const approve = prompt!.choices.find((c) => c.label === 'Approve')!.data;
  const token = approve.slice(3);

  assert.equal(await decideSignup(deps, { token, decision: 'approve', actor: { platform: 'telegram', externalId: who.externalId } }), 'not-admin');
  assert.equal(await decideSignup(deps, { token, decision: 'approve', actor: { platform: 'telegram', externalId: '9000' } }), 'approved');
  assert.equal(await decideSignup(deps, { token, decision: 'reject', actor: { platform: 'telegram', externalId: '9000' } }), 'already-decided');
  await notifySignupOutcome(deps, { telegram: chat }, request.id);
  assert.match(chat.texts.at(-1)!.text, /approved/);
  assert.deepEqual(chat.choices.get([...chat.choices.keys()][0]!)!.choices, [], 'buttons removed from the admin message');
  assert.ok(await db.chatIdentity.findUnique({ where: { platform_externalId: { platform: 'telegram', externalId: who.externalId } } }));

  // testPolicy allows 3 requests per hour in all.
  assert.equal(await requestSignup(deps, chatUser('R2')), 'requested');
  assert.equal(await requestSignup(deps, chatUser('R3')), 'requested');
  assert.equal(await requestSignup(deps, chatUser('R4')), 'rate-limited');
});
