// Platform-neutral messaging against PostgreSQL and Redis: where prompts go for a person with
// several linked chats, and the Redis lock that lets exactly one instance hold the Discord gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDb, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { gatewayFor, MemoryChat, MemoryRouter, testDeps } from '../support/fakes.js';
import { SecretBox } from '../../src/crypto/secretBox.js';
import { addPerson, addPppAccount, addRouter } from '../../src/domain/admin.js';
import { reportPppUp, verifySession } from '../../src/domain/connections.js';
import { setPromptDelivery } from '../../src/domain/linking.js';
import { sendSessionPrompt } from '../../src/domain/notifications.js';
import { GatewayLock } from '../../bots/discord/gatewayLock.js';

let database: TestDatabase;
let db: Db;
let deps: ReturnType<typeof testDeps>;

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  deps = testDeps(db);
  await addRouter(deps, new SecretBox(randomBytes(32)), { name: 'office', apiHost: '127.0.0.1', apiPort: 8728, apiTls: false, apiUser: 'w', apiPassword: 'p' });
});

after(async () => {
  await db.$disconnect();
  await database.drop();
});

test('a person with Telegram and Discord chooses where prompts go; the last chat cannot be switched off', async () => {
  const { id } = await addPerson(deps, 'Dana');
  await addPppAccount(deps, { routerName: 'office', username: 'dana', owner: id });
  await db.chatIdentity.create({ data: { personId: id, platform: 'telegram', externalId: 't-1', chatId: 't-1' } });
  await db.chatIdentity.create({ data: { personId: id, platform: 'discord', externalId: 'd-1', chatId: 'dm-1' } });
  const telegram = new MemoryChat();
  const discord = new MemoryChat('discord');
  const router = new MemoryRouter();
  const router0 = await db.router.findUniqueOrThrow({ where: { name: 'office' } });

  async function prompt(address: string) {
    router.connect({ name: 'dana', address, callerId: '198.51.100.1' });
    const up = await reportPppUp(deps, router0, { user: 'dana', callerId: '198.51.100.1', address });
    const sessionId = (up as { sessionId: string }).sessionId;
    await verifySession(deps, gatewayFor(router), sessionId);
    return sendSessionPrompt(deps, { telegram, discord }, sessionId);
  }

  assert.equal(await prompt('10.9.0.1'), 'sent');
  assert.equal(telegram.messages.size, 1);
  assert.equal(discord.messages.size, 1, 'both linked chats get the prompt by default');

  assert.equal(await setPromptDelivery(deps, { platform: 'telegram', externalId: 't-1', enabled: false }), 'off');
  await prompt('10.9.0.2');
  assert.equal(telegram.messages.size, 1, 'telegram switched off');
  assert.equal(discord.messages.size, 2);

  assert.equal(await setPromptDelivery(deps, { platform: 'discord', externalId: 'd-1', enabled: false }), 'last-chat');
  assert.equal(await setPromptDelivery(deps, { platform: 'telegram', externalId: 't-1', enabled: true }), 'on');
  assert.equal(await setPromptDelivery(deps, { platform: 'discord', externalId: 'd-1', enabled: false }), 'off');
  assert.equal(await setPromptDelivery(deps, { platform: 'discord', externalId: 'nobody', enabled: true }), 'not-linked');
});

test('gateway lock: exactly one holder; when it dies another takes over', async () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const key = `test:${randomBytes(4).toString('hex')}:gateway-lock`;
  const events: string[] = [];
  const redisA = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const redisB = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redisA.on('error', () => {});
  redisB.on('error', () => {});
  await Promise.all([new Promise((r) => redisA.once('ready', r)), new Promise((r) => redisB.once('ready', r))]);
  const a = new GatewayLock(redisA, key, 600, () => events.push('A up'), () => events.push('A lost'));
  const b = new GatewayLock(redisB, key, 600, () => events.push('B up'), () => events.push('B lost'));
  try {
    a.start();
    await new Promise((r) => setTimeout(r, 100));
    b.start();
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(events, ['A up'], 'B stands by while A renews');
    assert.equal(a.isHeld && !b.isHeld, true);

    // A's process dies: its connection is gone and it never releases the lock.
    redisA.disconnect();
    const deadline = Date.now() + 5000;
    while (!b.isHeld && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(b.isHeld, 'B took over');
    assert.deepEqual(events, ['A up', 'A lost', 'B up']);
  } finally {
    await a.stop();
    await b.stop();
    redisA.disconnect();
    redisB.disconnect();
  }
});
