// WireGuard connection gating against the real PostgreSQL schema, with the in-memory router and
// chat stand-ins: handshakes become the same confirmation flow as PPP logins, polls are
// idempotent, deny/expire cut the endpoint off by ban (never a PPP call), idle peers go down, and
// the router's handshake hook is only a claim that makes Warden look.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createDb, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { gatewayFor, MemoryChat, MemoryRouter, testDeps } from '../support/fakes.js';
import { SecretBox } from '../../src/crypto/secretBox.js';
import { addPerson, addRouter } from '../../src/domain/admin.js';
import { decideSession, expireSession, verifySession } from '../../src/domain/connections.js';
import { sendSessionPrompt, updateSessionMessages } from '../../src/domain/notifications.js';
import { syncSessionToRouter } from '../../src/domain/routerSync.js';
import { watchWireguardPeers, wireguardTransition } from '../../src/domain/wireguardWatch.js';
import { buildServer } from '../../src/api/server.js';
import { generateWireguardKeyPair } from '../../src/router/wireguardKeys.js';
import { closeQueues, createQueues } from '../../src/jobs/runtime.js';
import { enqueueWireguardWatches, wireguardWatchJobId } from '../../src/jobs/wireguardPolling.js';
import type { Router, VpnAccount } from '../../src/generated/prisma/client.js';

let database: TestDatabase;
let db: Db;
let router: Router;
let hookToken: string;
let deps: ReturnType<typeof testDeps>;
let memoryRouter: PppWatchingRouter;
let chat: MemoryChat;
let counter = 0;

const owner = { platform: 'telegram' as const, externalId: '1001' };
const IDLE_MS = 180_000;

/** Fails the test's expectations if anything PPP-only is called for a WireGuard account. */
class PppWatchingRouter extends MemoryRouter {
  pppCalls: string[] = [];
  override async findPppActive(query: { name?: string; address?: string }) {
    this.pppCalls.push(`findPppActive ${JSON.stringify(query)}`);
    return super.findPppActive(query);
  }
  override async disconnectPpp(id: string) {
    this.pppCalls.push(`disconnectPpp ${id}`);
    return super.disconnectPpp(id);
  }
}

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  deps = testDeps(db, { wireguardIdleMs: IDLE_MS });
  const added = await addRouter(deps, new SecretBox(randomBytes(32)), {
    name: 'office',
    apiHost: '127.0.0.1',
    apiPort: 8728,
    apiTls: false,
    apiUser: 'warden',
    apiPassword: 'secret',
  });
  hookToken = added.hookToken;
  router = await db.router.update({ where: { id: added.id }, data: { wgInterface: 'wg0', wgPool: '10.9.0.0/24', vpnHost: 'vpn.example.com' } });
  const alice = await addPerson(deps, 'Alice');
  await db.chatIdentity.create({ data: { personId: alice.id, platform: 'telegram', externalId: owner.externalId, chatId: owner.externalId } });
});

after(async () => {
  await db.$disconnect();
  await database.drop();
});

beforeEach(async () => {
  memoryRouter = new PppWatchingRouter();
  chat = new MemoryChat();
  // Each test watches its own devices: earlier tests' devices are retired, so they neither come up
  // nor go down in this test's polls.
  await db.connectionSession.updateMany({ where: { state: { in: ['pending', 'approved'] } }, data: { state: 'closed', closeReason: 'test-reset' } });
  await db.vpnAccount.updateMany({ data: { wgOnline: false, disabled: true } });
});

async function newDevice(overrides: Partial<VpnAccount> = {}): Promise<VpnAccount> {
  const n = ++counter;
  const alice = await db.person.findFirstOrThrow({ where: { displayName: 'Alice' } });
  return db.vpnAccount.create({
    data: {
      routerId: router.id,
      personId: alice.id,
      kind: 'wireguard',
      label: `device${n}`,
      managed: true,
      wgPublicKey: generateWireguardKeyPair().publicKey,
      wgAddress: `10.9.0.${n + 1}`,
      ...overrides,
    } as Parameters<Db['vpnAccount']['create']>[0]['data'],
  });
}

/** What the router reports for the device's peer: a handshake `secondsAgo`, from `endpoint` (null: none). */
function peerSeen(account: VpnAccount, secondsAgo: number | undefined, endpoint: string | null = `198.51.100.${(counter % 200) + 1}`): void {
  const peer = {
    interface: 'wg0',
    publicKey: account.wgPublicKey!,
    allowedAddress: [`${account.wgAddress}/32`],
    ...(secondsAgo !== undefined ? { lastHandshakeSeconds: secondsAgo } : {}),
    ...(endpoint !== null ? { currentEndpointAddress: endpoint } : {}),
  };
  memoryRouter.peers.set(peer.publicKey, peer);
}

/** The clock moves on and the router's "seconds since the last handshake" with it. */
function elapse(seconds: number): void {
  deps.advance(seconds * 1000);
  for (const peer of memoryRouter.peers.values()) {
    if (peer.lastHandshakeSeconds !== undefined) peer.lastHandshakeSeconds += seconds;
  }
}

const watch = () => watchWireguardPeers(deps, gatewayFor(memoryRouter), router.id);

async function outboxJobs(sessionId: string): Promise<string[]> {
  const rows = await db.outboxJob.findMany({ orderBy: { id: 'asc' } });
  return rows.filter((r) => (r.payload as { sessionId?: string }).sessionId === sessionId).map((r) => r.name);
}

async function sessionsOf(account: VpnAccount) {
  return db.connectionSession.findMany({ where: { accountId: account.id }, orderBy: { createdAt: 'asc' } });
}

/** Runs every routerSync the outbox holds for the session, like the worker would. */
async function syncAll(sessionId: string): Promise<void> {
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
}

/** A device that connects and is prompted. */
async function connected(account: VpnAccount, endpoint?: string) {
  peerSeen(account, 2, endpoint);
  const result = await watch();
  assert.equal(result.up, 1);
  const [session] = (await sessionsOf(account)).filter((s) => s.state === 'pending');
  assert.ok(session, 'a pending session');
  await syncAll(session.id);
  assert.equal(await sendSessionPrompt(deps, { telegram: chat }, session.id), 'sent');
  return session;
}

test('transition rules: up on a new recent handshake, down when quiet past the limit, same handshake read twice is no news', () => {
  const now = new Date('2030-01-01T12:00:00Z');
  const ago = (s: number) => new Date(now.getTime() - s * 1000);
  const offline = { wgOnline: false, wgLastHandshakeAt: null, provisionState: 'active' as const, disabled: false, wgAddress: '10.9.0.2' };
  assert.equal(wireguardTransition(offline, false, ago(5), now, IDLE_MS), 'up');
  assert.equal(wireguardTransition(offline, false, null, now, IDLE_MS), 'none');
  assert.equal(wireguardTransition(offline, false, ago(181), now, IDLE_MS), 'none', 'an old handshake is not a connection');
  assert.equal(wireguardTransition({ ...offline, wgLastHandshakeAt: ago(300) }, false, ago(301), now, IDLE_MS), 'none');
  assert.equal(wireguardTransition({ ...offline, wgLastHandshakeAt: ago(300) }, false, ago(10), now, IDLE_MS), 'up');
  // The same handshake, rounded differently on a second read, is not a new one.
  assert.equal(wireguardTransition({ ...offline, wgLastHandshakeAt: ago(10) }, false, ago(11), now, IDLE_MS), 'none');
  assert.equal(wireguardTransition({ ...offline, disabled: true }, false, ago(5), now, IDLE_MS), 'none');
  assert.equal(wireguardTransition({ ...offline, provisionState: 'provisioning' }, false, ago(5), now, IDLE_MS), 'none');
  const online = { ...offline, wgOnline: true, wgLastHandshakeAt: ago(100) };
  assert.equal(wireguardTransition(online, true, ago(100), now, IDLE_MS), 'none');
  assert.equal(wireguardTransition(online, true, ago(3), now, IDLE_MS), 'seen');
  assert.equal(wireguardTransition({ ...online, wgLastHandshakeAt: ago(181) }, true, ago(181), now, IDLE_MS), 'down');
  // The peer vanished from the router: down once the last handshake Warden saw is too old.
  assert.equal(wireguardTransition({ ...online, wgLastHandshakeAt: ago(181) }, true, null, now, IDLE_MS), 'down');
  assert.equal(wireguardTransition(online, true, null, now, IDLE_MS), 'none');
  // A stale read older than what a concurrent poll already stored does not take the account down.
  assert.equal(wireguardTransition({ ...online, wgLastHandshakeAt: ago(5) }, true, ago(200), now, IDLE_MS), 'none');
  // A session left open on an offline account is closed when the peer is quiet.
  assert.equal(wireguardTransition({ ...offline, wgLastHandshakeAt: ago(400) }, true, ago(400), now, IDLE_MS), 'down');
});

test('a first handshake opens a verified pending session, queues the prompt and sandboxes the address', async () => {
  const account = await newDevice();
  // A permit left behind by an earlier connection must not carry over (fail closed).
  await memoryRouter.addToAddressList(router.permitList, account.wgAddress!);
  peerSeen(account, 3, '198.51.100.7');
  const result = await watch();
  assert.deepEqual({ up: result.up, down: result.down }, { up: 1, down: 0 });

  const fresh = await db.vpnAccount.findUniqueOrThrow({ where: { id: account.id } });
  assert.equal(fresh.wgOnline, true);
  assert.equal(fresh.wgLastHandshakeAt?.getTime(), deps.now().getTime() - 3000);

  const [session, ...more] = await sessionsOf(account);
  assert.equal(more.length, 0);
  assert.equal(session!.state, 'pending');
  assert.ok(session!.verifiedAt, 'born verified: the watcher read the router itself');
  assert.equal(session!.callerId, '198.51.100.7');
  assert.equal(session!.sessionAddress, account.wgAddress);
  assert.equal(session!.service, 'wireguard');
  assert.equal(session!.interfaceName, 'wg0');
  assert.deepEqual(await outboxJobs(session!.id), ['session.routerSync', 'session.prompt', 'session.expire']);

  await syncAll(session!.id);
  assert.ok(memoryRouter.has(router.sandboxList, account.wgAddress!));
  assert.ok(!memoryRouter.has(router.permitList, account.wgAddress!));
  assert.equal(await sendSessionPrompt(deps, { telegram: chat }, session!.id), 'sent');
  const [prompt] = [...chat.messages.values()];
  assert.equal(prompt!.view.source, '198.51.100.7');
  assert.equal(prompt!.view.decisionToken, session!.decisionToken);
  // session.verify is PPP-only; a WireGuard session never reaches /ppp/active.
  assert.equal(await verifySession(deps, gatewayFor(memoryRouter), session!.id), 'skipped');
  assert.deepEqual(memoryRouter.pppCalls, []);
});

test('repeated and concurrent polls of the same connection open one session', async () => {
  const account = await newDevice();
  peerSeen(account, 1);
  const results = await Promise.all([watch(), watch(), watch()]);
  assert.equal(results.reduce((n, r) => n + r.up, 0), 1);
  await watch();
  // WireGuard's rekey two minutes later is the same connection.
  elapse(120);
  memoryRouter.peers.get(account.wgPublicKey!)!.lastHandshakeSeconds = 1;
  assert.equal((await watch()).up, 0);
  assert.equal((await sessionsOf(account)).length, 1);
  const fresh = await db.vpnAccount.findUniqueOrThrow({ where: { id: account.id } });
  assert.equal(fresh.wgLastHandshakeAt?.getTime(), deps.now().getTime() - 1000, 'the last handshake seen is kept up to date');
});

test('approve permits the tunnel address; quiet past the idle limit closes the session and clears the lists', async () => {
  const account = await newDevice();
  const session = await connected(account);
  assert.equal(await decideSession(deps, { token: session.decisionToken, decision: 'approve', actor: owner }), 'approved');
  await syncAll(session.id);
  assert.ok(memoryRouter.has(router.permitList, account.wgAddress!));
  assert.ok(!memoryRouter.has(router.sandboxList, account.wgAddress!));

  elapse(170); // quiet, but not for long enough
  assert.equal((await watch()).down, 0);
  elapse(15);
  assert.equal((await watch()).down, 1);
  const closed = await db.connectionSession.findUniqueOrThrow({ where: { id: session.id } });
  assert.equal(closed.state, 'closed');
  assert.equal(closed.closeReason, 'disconnected');
  assert.equal((await db.vpnAccount.findUniqueOrThrow({ where: { id: account.id } })).wgOnline, false);
  assert.ok((await outboxJobs(session.id)).includes('session.notifyOutcome'));
  await syncAll(session.id);
  assert.ok(!memoryRouter.has(router.permitList, account.wgAddress!));
  assert.ok(!memoryRouter.has(router.sandboxList, account.wgAddress!));
  await updateSessionMessages(deps, { telegram: chat }, session.id);
  assert.equal([...chat.messages.values()][0]!.view.status, 'closed');
  assert.equal((await watch()).down, 0, 'going down is reported once');

  // The next handshake is a new connection that asks again.
  memoryRouter.peers.get(account.wgPublicKey!)!.lastHandshakeSeconds = 4;
  assert.equal((await watch()).up, 1);
  const all = await sessionsOf(account);
  assert.deepEqual(all.map((s) => s.state), ['closed', 'pending']);
  assert.deepEqual(memoryRouter.pppCalls, []);
});

test('deny bans the endpoint IP on the router and never permits the address; no PPP call', async () => {
  const account = await newDevice();
  const session = await connected(account, '203.0.113.50');
  assert.equal(await decideSession(deps, { token: session.decisionToken, decision: 'deny', actor: owner }), 'denied');
  await syncAll(session.id);
  const ban = memoryRouter.lists.get(router.banList)?.get('203.0.113.50');
  assert.ok(ban, 'the endpoint is in the ban list');
  assert.equal(ban.timeout, 30 * 60, 'with a timeout, so the router lifts it itself');
  assert.ok(!memoryRouter.has(router.permitList, account.wgAddress!));
  assert.ok(memoryRouter.has(router.sandboxList, account.wgAddress!), 'stays sandboxed while the peer is online');
  assert.deepEqual(memoryRouter.pppCalls, []);

  // The raw rule drops the endpoint, so the peer goes quiet: down, and the sandbox entry goes.
  elapse(200);
  assert.equal((await watch()).down, 1);
  const after = await db.connectionSession.findUniqueOrThrow({ where: { id: session.id } });
  assert.equal(after.state, 'denied');
  assert.equal(after.routerEffect, 'queued');
  await syncAll(session.id);
  assert.ok(!memoryRouter.has(router.sandboxList, account.wgAddress!));
  assert.ok(memoryRouter.has(router.banList, '203.0.113.50'));

  // A handshake from the banned source while the ban lasts is closed at once, without a prompt.
  memoryRouter.peers.get(account.wgPublicKey!)!.lastHandshakeSeconds = 2;
  await watch();
  const latest = (await sessionsOf(account)).at(-1)!;
  assert.equal(latest.state, 'closed');
  assert.equal(latest.closeReason, 'source-banned');
  assert.ok(!(await outboxJobs(latest.id)).includes('session.prompt'));
  await syncAll(latest.id);
  assert.ok(!memoryRouter.has(router.sandboxList, account.wgAddress!));
  assert.deepEqual(memoryRouter.pppCalls, []);
});

test('unanswered prompts: expired sessions stay sandboxed, the Nth in a row bans the endpoint', async () => {
  const account = await newDevice();
  for (let attempt = 1; attempt <= deps.policy.maxUnconfirmedAttempts; attempt++) {
    const session = await connected(account, '203.0.113.77');
    elapse(61);
    assert.equal(await expireSession(deps, session.id), 'expired');
    await syncAll(session.id);
    assert.ok(!memoryRouter.has(router.permitList, account.wgAddress!));
    const banned = memoryRouter.has(router.banList, '203.0.113.77');
    assert.equal(banned, attempt === deps.policy.maxUnconfirmedAttempts, `attempt ${attempt}`);
    if (!banned) assert.ok(memoryRouter.has(router.sandboxList, account.wgAddress!));
    elapse(200);
    assert.equal((await watch()).down, 1);
    await syncAll(session.id);
    assert.ok(!memoryRouter.has(router.sandboxList, account.wgAddress!));
  }
  assert.deepEqual(memoryRouter.pppCalls, []);
});

test('peers without a Warden account, and devices that may not connect, are ignored', async () => {
  const stranger = generateWireguardKeyPair().publicKey;
  memoryRouter.peers.set(stranger, { interface: 'wg0', publicKey: stranger, allowedAddress: ['10.9.0.250/32'], lastHandshakeSeconds: 1, currentEndpointAddress: '192.0.2.99' });
  const provisioning = await newDevice({ provisionState: 'provisioning' });
  const disabled = await newDevice({ disabled: true });
  const quiet = await newDevice();
  peerSeen(provisioning, 1);
  peerSeen(disabled, 1);
  peerSeen(quiet, 500); // handshook long ago: not a connection
  const before = await db.connectionSession.count();
  const result = await watch();
  assert.deepEqual({ up: result.up, down: result.down }, { up: 0, down: 0 });
  assert.equal(await db.connectionSession.count(), before);
  for (const a of [provisioning, disabled, quiet]) assert.equal((await db.vpnAccount.findUniqueOrThrow({ where: { id: a.id } })).wgOnline, false);
  assert.equal(memoryRouter.lists.size, 0, 'nothing written to the router');
});

test('a handshake the router reports without an endpoint waits for the next poll', async () => {
  const account = await newDevice();
  peerSeen(account, 2, null);
  assert.equal((await watch()).up, 0);
  assert.equal((await sessionsOf(account)).length, 0);
  assert.equal((await db.vpnAccount.findUniqueOrThrow({ where: { id: account.id } })).wgOnline, false);
  peerSeen(account, 5, '198.51.100.200');
  assert.equal((await watch()).up, 1);
});

test('the handshake hook: router auth, strict validation, and only a watch is queued', async () => {
  const app = buildServer({ deps, logger: pino({ level: 'silent' }), trustProxy: false, probes: [] });
  try {
    const account = await newDevice();
    const url = '/hooks/v1/routers/office/wireguard/handshake';
    const post = (payload: unknown, token: string | null = hookToken) =>
      app.inject({ method: 'POST', url, headers: token ? { authorization: `Bearer ${token}` } : {}, payload: payload as object });
    const good = { publicKey: account.wgPublicKey!, endpoint: '198.51.100.42', lastHandshakeSeconds: 3 };

    assert.equal((await post(good, null)).statusCode, 401);
    assert.equal((await post(good, 'wdn_' + 'x'.repeat(40))).statusCode, 401);
    const bad: Array<[unknown, string]> = [
      [{ ...good, publicKey: 'not-a-key' }, 'publicKey'],
      // 44 base64 characters, but the padding bits are not zero: not 32 bytes as wg writes them.
      [{ ...good, publicKey: account.wgPublicKey!.slice(0, -2) + 'B=' }, 'publicKey'],
      [{ ...good, endpoint: 'example.com' }, 'endpoint'],
      [{ ...good, endpoint: '198.51.100.42"; /system reboot' }, 'endpoint'],
      [{ ...good, lastHandshakeSeconds: -1 }, 'lastHandshakeSeconds'],
      [{ ...good, lastHandshakeSeconds: 1.5 }, 'lastHandshakeSeconds'],
      [{ ...good, lastHandshakeSeconds: '3' }, 'lastHandshakeSeconds'],
      [{ ...good, user: 'alice' }, 'unknown field'],
      [{ endpoint: '198.51.100.42' }, 'publicKey'],
    ];
    for (const [payload, field] of bad) {
      const res = await post(payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error, 'invalid-input');
      assert.match(res.json().message, new RegExp(field));
    }
    const notJson = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${hookToken}`, 'content-type': 'application/json' }, payload: '{"publicKey":' });
    assert.equal(notJson.statusCode, 400);

    const watchJobs = () => db.outboxJob.count({ where: { name: 'router.watchWireguard' } });
    const jobsBefore = await watchJobs();
    const unknown = await post({ ...good, publicKey: generateWireguardKeyPair().publicKey });
    assert.equal(unknown.statusCode, 200);
    assert.deepEqual(unknown.json(), { status: 'unknown-peer' });
    const never = await post({ publicKey: account.wgPublicKey!, endpoint: '' });
    assert.deepEqual(never.json(), { status: 'no-change' });
    assert.equal(await watchJobs(), jobsBefore);

    // A claimed handshake of an offline device: Warden queues a look at the router, nothing else.
    const claimed = await post(good);
    assert.equal(claimed.statusCode, 202);
    assert.deepEqual(claimed.json(), { status: 'queued' });
    const job = await db.outboxJob.findFirstOrThrow({ where: { name: 'router.watchWireguard' }, orderBy: { id: 'desc' } });
    assert.deepEqual(job.payload, { routerId: router.id });
    assert.equal(job.queue, 'router');
    assert.equal((await sessionsOf(account)).length, 0);
    assert.equal((await db.vpnAccount.findUniqueOrThrow({ where: { id: account.id } })).wgOnline, false);

    // The router does not confirm the claim: the watch opens nothing.
    peerSeen(account, undefined);
    assert.equal((await watch()).up, 0);
    assert.equal((await sessionsOf(account)).length, 0);
    // It does: the watch, not the claim, opens the session, with the router's endpoint.
    peerSeen(account, 3, '198.51.100.43');
    assert.equal((await watch()).up, 1);
    assert.equal((await sessionsOf(account))[0]!.callerId, '198.51.100.43');
    // Online now: the next reports change nothing until the peer goes quiet.
    assert.deepEqual((await post({ ...good, lastHandshakeSeconds: 20 })).json(), { status: 'no-change' });
    assert.deepEqual((await post({ ...good, lastHandshakeSeconds: 185 })).json(), { status: 'no-change' }, 'quiet per the claim, but Warden saw a handshake 3 s ago');
    elapse(190);
    const quiet = await post({ ...good, lastHandshakeSeconds: 193 });
    assert.equal(quiet.statusCode, 202);

    // A router without a WireGuard interface is not watched.
    const other = await addRouter(deps, new SecretBox(randomBytes(32)), { name: 'branch', apiHost: '127.0.0.2', apiPort: 8728, apiTls: false, apiUser: 'warden', apiPassword: 'secret' });
    const res = await app.inject({
      method: 'POST',
      url: '/hooks/v1/routers/branch/wireguard/handshake',
      headers: { authorization: `Bearer ${other.hookToken}` },
      payload: good,
    });
    assert.deepEqual(res.json(), { status: 'not-configured' });
  } finally {
    await app.close();
  }
});

test('the poll clock enqueues one job per WireGuard router and poll slot, however often it ticks', async () => {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `wgpoll-test-${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redisUrl, prefix, {
    attempts: { router: 3, timers: 3, notify: 3 },
    concurrency: { router: 1, timers: 1, notify: 1 },
    notifyPerSecond: 25,
  });
  try {
    await queues.router.waitUntilReady();
    const pollMs = 15_000;
    const t = 1_900_000_000_000;
    const wgRouters = await db.router.count({ where: { wgInterface: { not: null } } });
    // Two instances ticking for the same slot, a moment apart.
    assert.equal(await enqueueWireguardWatches(db, queues.router, pollMs, t), wgRouters);
    await enqueueWireguardWatches(db, queues.router, pollMs, t + 900);
    assert.equal(await queues.router.count(), wgRouters);
    const job = await queues.router.getJob(wireguardWatchJobId(router.id, Math.floor(t / pollMs)));
    assert.ok(job);
    assert.equal(job.name, 'router.watchWireguard');
    assert.deepEqual(job.data, { routerId: router.id });
    assert.equal(job.opts.attempts, 1);
    // The next slot is the next poll.
    await enqueueWireguardWatches(db, queues.router, pollMs, t + pollMs);
    assert.equal(await queues.router.count(), 2 * wgRouters);
  } finally {
    await queues.router.obliterate({ force: true });
    await closeQueues(queues);
  }
});
