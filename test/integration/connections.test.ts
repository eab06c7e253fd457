// The confirmation flow's domain against the real PostgreSQL schema, with in-memory router and
// chat stand-ins: verification, ownership, state machine, bans, streaks, address reuse, audit.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { gatewayFor, MemoryChat, MemoryRouter, testDeps } from '../support/fakes.js';
import { SecretBox } from '../../src/crypto/secretBox.js';
import { addPerson, addPppAccount, addRouter, liftBan } from '../../src/domain/admin.js';
import { decideSession, expireSession, reportPppDown, reportPppUp, verifySession } from '../../src/domain/connections.js';
import { sendSessionPrompt, updateSessionMessages } from '../../src/domain/notifications.js';
import { removeBanFromRouter, syncSessionToRouter } from '../../src/domain/routerSync.js';
import type { Router } from '../../src/generated/prisma/client.js';

let database: TestDatabase;
let db: Db;
let router: Router;
let deps: ReturnType<typeof testDeps>;
let memoryRouter: MemoryRouter;
let chat: MemoryChat;
let counter = 0;

const owner = { platform: 'telegram' as const, externalId: '1001' };
const stranger = { platform: 'telegram' as const, externalId: '2002' };

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  deps = testDeps(db);
  await addRouter(deps, new SecretBox(randomBytes(32)), {
    name: 'office',
    apiHost: '127.0.0.1',
    apiPort: 8728,
    apiTls: false,
    apiUser: 'warden',
    apiPassword: 'secret',
  });
  router = await db.router.findUniqueOrThrow({ where: { name: 'office' } });
  const alice = await addPerson(deps, 'Alice');
  await db.chatIdentity.create({ data: { personId: alice.id, platform: 'telegram', externalId: owner.externalId, chatId: owner.externalId } });
  const mallory = await addPerson(deps, 'Mallory');
  await db.chatIdentity.create({ data: { personId: mallory.id, platform: 'telegram', externalId: stranger.externalId, chatId: stranger.externalId } });
});

after(async () => {
  await db.$disconnect();
  await database.drop();
});

beforeEach(() => {
  memoryRouter = new MemoryRouter();
  chat = new MemoryChat();
});

async function newAccount(): Promise<string> {
  const username = `user${++counter}`;
  await addPppAccount(deps, { routerName: 'office', username, owner: 'Alice' });
  return username;
}

async function outboxJobs(sessionId: string): Promise<string[]> {
  const rows = await db.outboxJob.findMany({ orderBy: { id: 'asc' } });
  return rows.filter((r) => (r.payload as { sessionId?: string }).sessionId === sessionId).map((r) => r.name);
}

/** A login the router really has, reported, verified and prompted. */
async function promptedLogin(user: string, address = `10.8.0.${counter + 10}`, callerId = `203.0.113.${counter + 100}`) {
  memoryRouter.connect({ name: user, address, callerId });
  const up = await reportPppUp(deps, router, { user, callerId, address });
  assert.equal(up.status, 'pending');
  const sessionId = (up as { sessionId: string }).sessionId;
  assert.equal(await verifySession(deps, gatewayFor(memoryRouter), sessionId), 'verified');
  assert.equal(await sendSessionPrompt(deps, { telegram: chat }, sessionId), 'sent');
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } });
  return { sessionId, address, callerId, token: session.decisionToken };
}

test('up-hook creates a pending session and queues verification and the timeout, in that transaction', async () => {
  const user = await newAccount();
  const result = await reportPppUp(deps, router, { user, callerId: '203.0.113.7', address: '10.8.0.99' });
  assert.equal(result.status, 'pending');
  const id = (result as { sessionId: string }).sessionId;
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id } });
  assert.equal(session.state, 'pending');
  assert.equal(session.verifiedAt, null);
  assert.deepEqual(await outboxJobs(id), ['session.verify', 'session.expire']);
  const expireJob = (await db.outboxJob.findMany({ where: { name: 'session.expire' } })).find((j) => (j.payload as { sessionId: string }).sessionId === id)!;
  assert.equal(expireJob.runAt.getTime(), session.expiresAt.getTime());
  assert.equal(session.expiresAt.getTime() - deps.now().getTime(), 60_000);
});

test('a claim the router does not confirm is rejected and never prompts anyone', async () => {
  const user = await newAccount();
  const up = await reportPppUp(deps, router, { user, callerId: '203.0.113.7', address: '10.8.0.200' });
  const sessionId = (up as { sessionId: string }).sessionId;
  // The router has a session for this user, but at another address: still not this claim.
  memoryRouter.connect({ name: user, address: '10.8.0.201', callerId: '203.0.113.7' });
  assert.equal(await verifySession(deps, gatewayFor(memoryRouter), sessionId), 'rejected');
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } });
  assert.equal(session.state, 'closed');
  assert.equal(session.closeReason, 'not-active-on-router');
  assert.equal(await sendSessionPrompt(deps, { telegram: chat }, sessionId), 'skipped');
  assert.equal(chat.messages.size, 0);
  assert.ok(!(await outboxJobs(sessionId)).includes('session.prompt'));
  const audit = await db.auditEvent.findMany({ where: { sessionId } });
  assert.ok(audit.some((a) => a.action === 'login.claim-rejected'));
});

test('verification needs only read access: a refused sandbox add does not stop the owner from being asked', async () => {
  const user = await newAccount();
  // An API user without the write policy: prints work, adds are refused.
  const readOnly = new (class extends MemoryRouter {
    override async addToAddressList(): Promise<never> {
      throw new Error('/ip/firewall/address-list/add failed: not enough permissions (9)');
    }
  })();
  readOnly.connect({ name: user, address: '10.8.0.210', callerId: '203.0.113.8' });
  const up = await reportPppUp(deps, router, { user, callerId: '203.0.113.8', address: '10.8.0.210' });
  const sessionId = (up as { sessionId: string }).sessionId;
  assert.equal(await verifySession(deps, gatewayFor(readOnly), sessionId), 'verified');
  assert.ok((await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } })).verifiedAt);
  assert.ok((await outboxJobs(sessionId)).includes('session.prompt'));
});

test('only the owner can approve; a second click changes nothing; the router gets permit, not sandbox', async () => {
  const user = await newAccount();
  const { sessionId, token, address } = await promptedLogin(user);
  assert.ok(memoryRouter.has(router.sandboxList, address), 'verification keeps the address sandboxed');
  const [prompt] = [...chat.messages.values()];
  assert.equal(prompt!.chatId, owner.externalId);
  assert.equal(prompt!.view.decisionToken, token);

  assert.equal(await decideSession(deps, { token, decision: 'approve', actor: stranger }), 'not-owner');
  assert.equal(await decideSession(deps, { token, decision: 'approve', actor: { platform: 'telegram', externalId: '999' } }), 'not-owner');
  assert.equal((await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } })).state, 'pending');

  assert.equal(await decideSession(deps, { token, decision: 'approve', actor: owner }), 'approved');
  assert.equal(await decideSession(deps, { token, decision: 'deny', actor: owner }), 'already-approved');
  assert.equal(await decideSession(deps, { token: 'A'.repeat(22), decision: 'approve', actor: owner }), 'unknown');

  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
  assert.ok(memoryRouter.has(router.permitList, address));
  assert.ok(!memoryRouter.has(router.sandboxList, address));
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } });
  assert.equal(session.state, 'approved');
  assert.equal(session.routerEffect, 'applied');

  await updateSessionMessages(deps, { telegram: chat }, sessionId);
  assert.equal(prompt!.view.status, 'approved');
  assert.equal(prompt!.view.decisionToken, undefined);
  await updateSessionMessages(deps, { telegram: chat }, sessionId);
  assert.equal(prompt!.edits, 1, 'an outcome already shown is not edited again');

  const actions = (await db.auditEvent.findMany({ where: { sessionId }, orderBy: { id: 'asc' } })).map((a) => a.action);
  assert.deepEqual(actions, ['login.reported', 'login.verified', 'decision.refused', 'decision.refused', 'session.approved', 'decision.refused']);
});

test('deny bans the source on the router with a timeout and disconnects the session', async () => {
  const user = await newAccount();
  const { sessionId, token, address, callerId } = await promptedLogin(user, '10.8.0.150', '198.51.100.20');
  assert.equal(await decideSession(deps, { token, decision: 'deny', actor: owner }), 'denied');
  const ban = await db.ban.findFirstOrThrow({ where: { sessionId } });
  assert.equal(ban.address, callerId);
  assert.equal(ban.reason, 'denied');
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
  const entry = memoryRouter.lists.get(router.banList)!.get(callerId)!;
  assert.ok(entry.timeout! > 1790 && entry.timeout! <= 1800, `ban timeout ${entry.timeout}`);
  assert.ok(!memoryRouter.has(router.permitList, address));
  assert.equal(memoryRouter.active.filter((r) => r.name === user).length, 0);

  // A new login from the banned source is disconnected at once, without a prompt.
  memoryRouter.connect({ name: user, address: '10.8.0.151', callerId });
  const again = await reportPppUp(deps, router, { user, callerId, address: '10.8.0.151' });
  assert.equal(again.status, 'banned');
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), (again as { sessionId: string }).sessionId);
  assert.equal(memoryRouter.active.filter((r) => r.name === user).length, 0);

  // Lifting the ban removes the router entry.
  await liftBan(deps, ban.id, 'operator');
  await removeBanFromRouter(deps, gatewayFor(memoryRouter), ban.id);
  assert.ok(!memoryRouter.has(router.banList, callerId));
});

test('approving and denying at the same moment: exactly one decision wins', async () => {
  const user = await newAccount();
  const { sessionId, token } = await promptedLogin(user);
  const results = await Promise.all([
    decideSession(deps, { token, decision: 'approve', actor: owner }),
    decideSession(deps, { token, decision: 'deny', actor: owner }),
  ]);
  const winners = results.filter((r) => r === 'approved' || r === 'denied');
  assert.equal(winners.length, 1, JSON.stringify(results));
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } });
  assert.equal(session.state, winners[0]);
});

test('expiry: early jobs re-arm, late ones expire; the Nth unconfirmed attempt in a row bans', async () => {
  const user = await newAccount();
  const callerId = '192.0.2.77';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { sessionId, token } = await promptedLogin(user, `10.8.1.${attempt}`, callerId);
    assert.equal(await expireSession(deps, sessionId), 'not-yet');
    deps.advance(60_000);
    assert.equal(await expireSession(deps, sessionId), 'expired');
    assert.equal(await expireSession(deps, sessionId), 'skipped');
    assert.equal(await decideSession(deps, { token, decision: 'approve', actor: owner }), 'already-expired');
    const bans = await db.ban.findMany({ where: { address: callerId } });
    assert.equal(bans.length, attempt === 3 ? 1 : 0, `after attempt ${attempt}`);
    await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
    assert.equal(memoryRouter.active.filter((r) => r.address === `10.8.1.${attempt}`).length, 0, 'expired session disconnected');
  }
  assert.ok(memoryRouter.has(router.banList, callerId));
  const account = await db.vpnAccount.findFirstOrThrow({ where: { username: user } });
  assert.equal(account.unconfirmedStreak, 0, 'a ban resets the streak');
});

test('an approval resets the streak of unconfirmed attempts', async () => {
  const user = await newAccount();
  const first = await promptedLogin(user, '10.8.2.1', '192.0.2.80');
  deps.advance(60_000);
  await expireSession(deps, first.sessionId);
  assert.equal((await db.vpnAccount.findFirstOrThrow({ where: { username: user } })).unconfirmedStreak, 1);
  const second = await promptedLogin(user, '10.8.2.2', '192.0.2.80');
  await decideSession(deps, { token: second.token, decision: 'approve', actor: owner });
  assert.equal((await db.vpnAccount.findFirstOrThrow({ where: { username: user } })).unconfirmedStreak, 0);
});

test('hooks are idempotent: repeated up, down before up, repeated down', async () => {
  const user = await newAccount();
  const claim = { user, callerId: '203.0.113.9', address: '10.8.3.1' };
  assert.deepEqual(await reportPppDown(deps, router, claim), { status: 'no-session' });
  const first = await reportPppUp(deps, router, claim);
  const second = await reportPppUp(deps, router, claim);
  assert.equal(second.status, 'duplicate');
  assert.equal((second as { sessionId: string }).sessionId, (first as { sessionId: string }).sessionId);
  assert.equal(await db.connectionSession.count({ where: { account: { username: user } } }), 1);
  const down = await reportPppDown(deps, router, claim);
  assert.equal(down.status, 'closed');
  assert.deepEqual(await reportPppDown(deps, router, claim), { status: 'no-session' });
});

test('down-hook closes an approved session and cleans both lists on the router', async () => {
  const user = await newAccount();
  const { sessionId, token, address, callerId } = await promptedLogin(user);
  await decideSession(deps, { token, decision: 'approve', actor: owner });
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
  assert.ok(memoryRouter.has(router.permitList, address));
  await reportPppDown(deps, router, { user, callerId, address });
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
  assert.ok(!memoryRouter.has(router.permitList, address));
  assert.ok(!memoryRouter.has(router.sandboxList, address));
  const session = await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } });
  assert.equal(session.state, 'closed');
  assert.equal(session.closeReason, 'disconnected');
});

test('an address handed to a new client never inherits the previous holder\'s permit', async () => {
  const alice = await newAccount();
  const bob = await newAccount();
  const first = await promptedLogin(alice, '10.8.4.1', '203.0.113.50');
  await decideSession(deps, { token: first.token, decision: 'approve', actor: owner });
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), first.sessionId);
  // The router reuses 10.8.4.1 for bob, and alice's down-hook got lost.
  memoryRouter.active = memoryRouter.active.filter((r) => r.name !== alice);
  memoryRouter.connect({ name: bob, address: '10.8.4.1', callerId: '203.0.113.60' });
  await memoryRouter.addToAddressList(router.sandboxList, '10.8.4.1');
  const up = await reportPppUp(deps, router, { user: bob, callerId: '203.0.113.60', address: '10.8.4.1' });
  assert.equal(up.status, 'pending');
  const old = await db.connectionSession.findUniqueOrThrow({ where: { id: first.sessionId } });
  assert.equal(old.closeReason, 'superseded');
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), first.sessionId);
  assert.ok(!memoryRouter.has(router.permitList, '10.8.4.1'), 'permit of the old holder removed');
  assert.ok(memoryRouter.has(router.sandboxList, '10.8.4.1'), 'new holder stays sandboxed');
});

test('router down during sync: the call fails, nothing is marked applied, a later sync converges', async () => {
  const user = await newAccount();
  const { sessionId, token, address } = await promptedLogin(user);
  await decideSession(deps, { token, decision: 'approve', actor: owner });
  memoryRouter.down = true;
  await assert.rejects(syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId), /link is down/);
  assert.equal((await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } })).routerEffect, 'queued');
  memoryRouter.down = false;
  await syncSessionToRouter(deps, gatewayFor(memoryRouter), sessionId);
  assert.ok(memoryRouter.has(router.permitList, address));
  assert.equal((await db.connectionSession.findUniqueOrThrow({ where: { id: sessionId } })).routerEffect, 'applied');
});

test('unknown and disabled accounts are never prompted', async () => {
  assert.deepEqual(await reportPppUp(deps, router, { user: 'nobody', callerId: '203.0.113.1', address: '10.8.5.1' }), { status: 'unknown-account' });
  const user = await newAccount();
  await db.vpnAccount.updateMany({ where: { username: user }, data: { disabled: true } });
  assert.deepEqual(await reportPppUp(deps, router, { user, callerId: '203.0.113.1', address: '10.8.5.2' }), { status: 'account-disabled' });
});
