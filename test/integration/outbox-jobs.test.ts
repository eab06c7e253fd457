// The outbox and the job runtime against real PostgreSQL and a real Redis server that the test
// starts and kills: jobs written while Redis is down are relayed once it is back, nothing lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createDb, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { enqueueAfterCommit, OutboxRelay } from '../../src/jobs/outbox.js';
import { closeQueues, createQueues, startWorkers, type JobHandlers, type QueueSettings } from '../../src/jobs/runtime.js';
import { JOB_QUEUES, type JobName } from '../../src/jobs/types.js';

const logger = pino({ level: 'silent' });
let database: TestDatabase;
let db: Db;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createServer();
      socket.once('error', () => resolve(true));
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const settings: QueueSettings = {
  attempts: { router: 3, timers: 3, notify: 3 },
  concurrency: { router: 1, timers: 1, notify: 1 },
  notifyPerSecond: 25,
};

before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
});

after(async () => {
  await db.$disconnect();
  await database.drop();
});

async function undispatched(): Promise<number> {
  return db.outboxJob.count({ where: { dispatchedAt: null } });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('jobs written while Redis is down wait in the outbox and run once Redis is back', async () => {
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let redis = await startRedis(port);
  const queues = createQueues(redisUrl, prefix, settings);
  const relay = new OutboxRelay(db, queues, logger, 100);
  const seen: string[] = [];
  const handlers = Object.fromEntries(
    (Object.keys(JOB_QUEUES) as JobName[]).map((name) => [
      name,
      { run: async (payload: { sessionId?: string }) => void seen.push(`${name}:${payload.sessionId}`) },
    ]),
  ) as unknown as JobHandlers;
  const workers = startWorkers({ redisUrl, prefix, handlers, settings, logger });
  try {
    relay.start();
    await stopRedis(redis);
    await db.$transaction(async (tx) => {
      await enqueueAfterCommit(tx, 'session.verify', { sessionId: 'a' });
      await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: 'b' });
    });
    relay.kick();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await undispatched(), 2, 'nothing is marked dispatched while Redis is down');
    assert.deepEqual(seen, []);

    redis = await startRedis(port);
    await until('both jobs to run', () => seen.length === 2, 30_000);
    assert.deepEqual(seen.sort(), ['session.routerSync:b', 'session.verify:a']);
    assert.equal(await undispatched(), 0);
  } finally {
    await relay.stop();
    await Promise.all(workers.map((w) => w.close()));
    await closeQueues(queues);
    await stopRedis(redis);
  }
});

test('a delayed job does not run before its time; retryLater does not use up attempts; final failures are reported', async () => {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redisUrl, prefix, settings);
  const relay = new OutboxRelay(db, queues, logger, 100);
  const events: Array<{ what: string; at: number }> = [];
  let promptCalls = 0;
  const finalFailures: string[] = [];
  const handlers: JobHandlers = {
    'session.expire': { run: async ({ sessionId }) => void events.push({ what: `expire:${sessionId}`, at: Date.now() }) },
    'session.prompt': {
      run: async (_payload, ctx) => {
        promptCalls++;
        if (promptCalls <= 2) return ctx.retryLater(200); // e.g. Telegram said retry_after
        events.push({ what: `prompt after ${promptCalls} calls, attemptsMade=${ctx.job.attemptsMade}`, at: Date.now() });
      },
    },
    'session.routerSync': {
      run: async () => {
        throw new Error('router unreachable');
      },
      onFinalFailure: async ({ sessionId }, err) => void finalFailures.push(`${sessionId}:${err.message}`),
    },
    'session.verify': { run: async () => {} },
    'session.notifyOutcome': { run: async () => {} },
    'ban.lift': { run: async () => {} },
    'device.provision': { run: async () => {} },
    'device.deliver': { run: async () => {} },
    'device.deprovision': { run: async () => {} },
    'device.removePeer': { run: async () => {} },
    'signup.notifyAdmins': { run: async () => {} },
    'signup.notifyOutcome': { run: async () => {} },
    'support.relay': { run: async () => {} },
    'support.remind': { run: async () => {} },
    'router.watchWireguard': { run: async () => {} },
  };
  const workers = startWorkers({ redisUrl, prefix, handlers, settings, logger });
  try {
    relay.start();
    const queuedAt = Date.now();
    await enqueueAfterCommit(db, 'session.expire', { sessionId: 'late' }, { runAt: new Date(queuedAt + 1500) });
    await enqueueAfterCommit(db, 'session.prompt', { sessionId: 'p' });
    await enqueueAfterCommit(db, 'session.routerSync', { sessionId: 'doomed' });
    relay.kick();
    await until('the delayed job', () => events.some((e) => e.what === 'expire:late'));
    const expire = events.find((e) => e.what === 'expire:late')!;
    assert.ok(expire.at >= queuedAt + 1500, `ran ${expire.at - queuedAt} ms after queueing`);
    await until('the prompt', () => events.some((e) => e.what.startsWith('prompt')));
    assert.ok(events.some((e) => e.what === 'prompt after 3 calls, attemptsMade=0'), JSON.stringify(events));
    await until('the final failure', () => finalFailures.length === 1, 30_000);
    assert.deepEqual(finalFailures, ['doomed:router unreachable']);
  } finally {
    await relay.stop();
    await Promise.all(workers.map((w) => w.close()));
    await closeQueues(queues);
  }
});

test('start-up refuses a job without a handler', () => {
  assert.throws(
    () => startWorkers({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'x', handlers: {} as JobHandlers, settings, logger }),
    /job "session.verify" has no handler/,
  );
});
