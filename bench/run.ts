// Warden's bench: speed and memory figures, printed as a table (`npm run bench`; see
// bench/README.md). Targets are checked here and only ever WARN: the exit code is 0 unless the
// bench itself crashes (e.g. the stack does not start).
//
// 1. RouterOS client raw performance (RouterOps against a simulator of its own).
// 2. A whole deployment (test/support/stack.ts: Warden's real entry point as a child process,
//    PostgreSQL, Redis, the RouterOS simulator, the fake Telegram without flood limits), driven
//    the way routers and people do:
//    - a burst of distinct PPP up-hooks over HTTP, concurrently: hook latency and requests/s,
//      then how long until every one of those logins has its prompt in Telegram;
//    - a paced sample of logins: time from the up-hook POST to the prompt in Telegram;
//    - Approve clicks on those prompts: time until the address is in the router's permit list;
//    - Warden's RSS (and CPU time) before and after the load.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { addPerson, addPppAccount } from '../src/domain/admin.js';
import { createLinkCode } from '../src/domain/linking.js';
import { createDomainDeps } from '../src/domainDeps.js';
import { createLogger } from '../src/log.js';
import { withClient } from '../test/support/db.js';
import type { MessageRef, TgUser } from '../test/support/fake-telegram/index.js';
import { PERMIT, SANDBOX, Stack } from '../test/support/stack.js';
import { runRouterBench } from './routerBench.js';
import {
  fmtMb,
  fmtMs,
  measurementTable,
  runPaced,
  runPool,
  sleep,
  summarize,
  textTable,
  withTimeout,
  type Measurement,
} from './stats.js';
import { ListWatcher, PromptWatcher } from './watchers.js';

// ----- configuration (environment knobs, all bounded) -----

const knobProblems: string[] = [];

function numberEnv(name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    knobProblems.push(`${name}=${raw} ignored: expected ${integer ? 'a whole number' : 'a number'} in [${min}, ${max}]; using ${fallback}`);
    return fallback;
  }
  return value;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

const SCALE = numberEnv('BENCH_SCALE', 1, 0.01, 20, false);
const HOOKS = numberEnv('BENCH_HOOKS', Math.max(10, Math.round(500 * SCALE)), 1, 20_000);
const PROMPTS = numberEnv('BENCH_PROMPTS', Math.max(5, Math.round(50 * SCALE)), 1, 2_000);
const CONFIG = {
  scale: SCALE,
  hooks: HOOKS,
  concurrency: numberEnv('BENCH_CONCURRENCY', 20, 1, 200),
  prompts: PROMPTS,
  promptIntervalMs: numberEnv('BENCH_PROMPT_INTERVAL_MS', 100, 0, 10_000),
  // One login per person in the burst and the sample: per-chat send limits stay out of the way.
  persons: numberEnv('BENCH_PERSONS', clamp(Math.max(HOOKS, PROMPTS), 2, 2_000), 2, 20_000),
  backlogRounds: numberEnv('BENCH_BACKLOG_ROUNDS', clamp(Math.round(3 * SCALE), 1, 10), 0, 50),
  backlogLogins: numberEnv('BENCH_BACKLOG_LOGINS', 8, 1, 50),
  routerOps: numberEnv('BENCH_ROUTER_OPS', Math.max(20, Math.round(1000 * SCALE)), 1, 100_000),
  routerConcurrency: numberEnv('BENCH_ROUTER_CONCURRENCY', 10, 1, 100),
  waitMs: numberEnv('BENCH_WAIT_MS', 30_000, 1_000, 600_000),
  idleMs: numberEnv('BENCH_IDLE_MS', 5_000, 0, 600_000),
  timeoutS: numberEnv('BENCH_TIMEOUT_S', 900, 60, 7_200),
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
  wardenLogFile: process.env.BENCH_WARDEN_LOG,
  // Warden reads this itself (the Stack passes the environment through); shown in the header.
  sendsPerSecond: process.env.TELEGRAM_SENDS_PER_SECOND ?? '25 (default)',
};

// Targets: the promise, and the bench's own guidelines. Never fatal.
const TARGETS = {
  promptP95Ms: 1000,
  permitP95Ms: 1000,
  hookP95Ms: 250,
  routerOpP95Ms: 20,
  wardenPeakRssMb: 512,
};

// ----- time bounds, progress, clean-up -----

const benchStart = performance.now();
const deadline = benchStart + CONFIG.timeoutS * 1000;
const remaining = () => Math.max(1_000, deadline - performance.now());
const budget = (ms: number) => Math.min(ms, remaining());

function progress(text: string): void {
  process.stderr.write(`[bench +${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${text}\n`);
}

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  })();
  return cleaning;
}

// The last line of defence against a hang: clean up and leave (this counts as a crash).
const watchdog = setTimeout(() => {
  progress(`gave up: the bench ran longer than BENCH_TIMEOUT_S=${CONFIG.timeoutS} s plus a minute`);
  void withTimeout(cleanUp(), 30_000, 'clean-up')
    .catch(() => undefined)
    .finally(() => process.exit(1));
}, CONFIG.timeoutS * 1000 + 60_000);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    void withTimeout(cleanUp(), 30_000, 'clean-up')
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });
}

// ----- helpers -----

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function dotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface ProcSample {
  rssBytes?: number;
  hwmBytes?: number;
  cpuSeconds?: number;
}

/** VmRSS, VmHWM (peak RSS) and user+system CPU time of a process, from /proc (Linux). */
function procSample(pid: number | undefined): ProcSample {
  if (pid === undefined) return {};
  const sample: ProcSample = {};
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    const rss = kb('VmRSS');
    const hwm = kb('VmHWM');
    if (rss !== undefined) sample.rssBytes = rss;
    if (hwm !== undefined) sample.hwmBytes = hwm;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks)) sample.cpuSeconds = ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    // not Linux, or the process is gone
  }
  return sample;
}

interface MemoryRow {
  when: string;
  warden: ProcSample;
  benchRss: number;
  benchHeap: number;
  benchCpuSeconds: number;
}

async function redisInfo(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  } finally {
    redis.disconnect();
  }
}

/** Deletes the bench's own BullMQ keys (`<prefix>:*`); the Stack leaves them behind. */
async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    for (let round = 0; round < 10_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

// ----- the report -----

interface Target {
  name: string;
  value: number | undefined;
  limit: number;
  unit: string;
  source: string;
}

interface Report {
  machine: string[];
  measurements: Measurement[];
  memory: MemoryRow[];
  targets: Target[];
  notes: string[];
  crashed?: unknown;
}

function printReport(report: Report): void {
  const out: string[] = [];
  out.push('', '=== Warden bench ===', ...report.machine, '');
  out.push('Targets (WARN never fails the run)');
  const targetRows = [['', 'target', 'measured', 'limit', 'source']];
  for (const t of report.targets) {
    const status = t.value === undefined ? 'WARN' : t.value <= t.limit ? 'PASS' : 'WARN';
    const shown = t.value === undefined ? 'no data' : t.unit === 'MB' ? `${t.value.toFixed(1)} MB` : t.unit === 'ms' ? `${fmtMs(t.value)} ms` : `${t.value} ${t.unit}`;
    targetRows.push([status, t.name, shown, `<= ${t.limit} ${t.unit}`, t.source]);
  }
  out.push(textTable(targetRows, new Set([2])), '');
  out.push('Figures (latency of successful attempts; "per s" = successes / wall time; "-" for paced runs)');
  out.push(measurementTable(report.measurements), '');
  if (report.memory.length > 0) {
    out.push('Memory and CPU, cumulative CPU time (Warden = the child process the Stack started; bench = this process: simulator, fake Telegram, HTTP client)');
    const first = report.memory[0]!;
    const rows = [['when', 'Warden RSS MB', 'Warden peak RSS MB', 'Warden CPU s', 'bench RSS MB', 'bench heap MB', 'bench CPU s']];
    for (const m of report.memory) {
      rows.push([
        m.when,
        fmtMb(m.warden.rssBytes),
        fmtMb(m.warden.hwmBytes),
        m.warden.cpuSeconds?.toFixed(1) ?? '-',
        fmtMb(m.benchRss),
        fmtMb(m.benchHeap),
        m.benchCpuSeconds.toFixed(1),
      ]);
    }
    const last = report.memory.at(-1)!;
    if (report.memory.length > 1 && first.warden.rssBytes !== undefined && last.warden.rssBytes !== undefined) {
      const growth = last.warden.rssBytes - first.warden.rssBytes;
      rows.push(['growth (last - first)', `${growth >= 0 ? '+' : ''}${fmtMb(growth)}`, '', '', '', '', '']);
    }
    out.push(textTable(rows, new Set([1, 2, 3, 4, 5, 6])), '');
  }
  if (report.notes.length > 0) out.push('Notes', ...report.notes.map((n) => `  - ${n}`), '');
  if (report.crashed !== undefined) out.push(`CRASHED: ${errorText(report.crashed)}`, '');
  process.stdout.write(out.join('\n') + '\n');
}

// ----- the Warden phases -----

interface Person {
  name: string;
  account: string;
  user: TgUser;
}

interface BenchLogin {
  user: string;
  callerId: string;
  address: string;
  owner: Person;
}

/**
 * People, each with one PPP account and a linked Telegram user. The records are made with the
 * same domain functions the CLI runs (a CLI child process per call would take minutes for
 * hundreds of people); linking goes through the bot, as a person does it: `/start CODE`.
 */
async function addLinkedPeople(stack: Stack, count: number): Promise<Person[]> {
  const config = loadConfig({ ...stack.env, WARDEN_ENV_FILE: 'none' });
  const db = createDb(stack.env.DATABASE_URL!);
  const deps = createDomainDeps(config, db, { logger: createLogger('warn') });
  const persons: Person[] = [];
  try {
    await mapLimit(range(count), 8, async (i) => {
      const name = `Bench${i + 1}`;
      const account = name.toLowerCase();
      const { id } = await addPerson(deps, name);
      await addPppAccount(deps, { routerName: 'office', username: account, owner: id });
      const { code } = await createLinkCode(deps, id);
      const user = stack.telegram.createUser({ first_name: name, username: account });
      stack.telegram.userSends(user, `/start ${code}`);
      await stack.telegram.waitForMessage(user.id, (m) => /Linked/.test(m.text ?? ''), { timeoutMs: 60_000 });
      persons[i] = { name, account, user };
    });
  } finally {
    await db.$disconnect();
  }
  return persons;
}

async function benchWarden(report: Report): Promise<void> {
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  progress('starting the stack (database, simulator, fake Telegram, Warden)');
  const t0 = performance.now();
  const stack = await Stack.start({
    telegram: { rateLimits: false },
    env: {
      WARDEN_QUEUE_PREFIX: prefix,
      LOG_LEVEL: CONFIG.logLevel,
      // Nothing may expire, get banned or time out on its own while the bench runs.
      APPROVAL_TIMEOUT_SECONDS: '3600',
      MAX_UNCONFIRMED_ATTEMPTS: '100',
      ROUTER_CALL_TIMEOUT_MS: '5000',
    },
  });
  const watcher = new PromptWatcher(stack.telegram, remaining());
  const permits = new ListWatcher(stack.router, PERMIT);
  cleanups.push(async () => {
    progress('cleaning up: Warden, fake Telegram, simulator, database, Redis keys');
    permits.stop();
    await watcher.stop();
    if (CONFIG.wardenLogFile) {
      try {
        writeFileSync(CONFIG.wardenLogFile, stack.warden.logs());
      } catch (err) {
        progress(`could not write ${CONFIG.wardenLogFile}: ${errorText(err)}`);
      }
    }
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['stop Warden', () => stack.warden.stop()],
      ['stop the fake Telegram', () => stack.telegram.stop()],
      ['stop the RouterOS simulator', () => stack.router.stop()],
      ['drop the database', () => stack.database.drop()],
      ['delete Redis keys', () => deleteRedisKeys(redisUrl, prefix)],
    ];
    for (const [what, step] of steps) {
      try {
        await withTimeout(step(), 30_000, what);
      } catch (err) {
        progress(`clean-up: could not ${what}: ${errorText(err)}`);
      }
    }
  });
  const startedMs = performance.now() - t0;
  const pid = stack.warden.child.pid;
  try {
    const [pgVersion, redisVersion] = await Promise.all([
      withClient(stack.env.DATABASE_URL!, async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?'),
      redisInfo(redisUrl),
    ]);
    report.machine.push(`services: PostgreSQL ${pgVersion}, Redis ${redisVersion}; Warden pid ${pid}`);
  } catch (err) {
    report.notes.push(`could not read service versions: ${errorText(err)}`);
  }

  progress(`setting up ${CONFIG.persons} people, each with a PPP account and a linked Telegram user`);
  const t1 = performance.now();
  const persons = await addLinkedPeople(stack, CONFIG.persons);
  const setupMs = performance.now() - t1;
  report.machine.push(`setup: stack up in ${(startedMs / 1000).toFixed(1)} s; ${persons.length} linked people in ${(setupMs / 1000).toFixed(1)} s`);

  let loginSeq = 0;
  const nextLogin = (owner: Person): BenchLogin => {
    const k = ++loginSeq;
    // Distinct session addresses (10.64/10) and caller addresses (198.18/15, the benchmarking range).
    return { user: owner.account, callerId: dotted(0xc6_12_00_00 + k), address: dotted(0x0a_40_00_00 + k), owner };
  };
  // What the router does before it calls the up-hook: the session exists and is sandboxed.
  const routerSide = (login: BenchLogin) => {
    stack.router.connectPpp({ name: login.user, service: 'l2tp', callerId: login.callerId, address: login.address });
    stack.router.addAddressListEntry({ list: SANDBOX, address: login.address, comment: `warden:sandbox:${login.user}` });
  };
  const postUp = async (login: BenchLogin) => {
    const res = await stack.hook('up', {
      user: login.user,
      callerId: login.callerId,
      address: login.address,
      localAddress: '10.8.0.1',
      interface: `<l2tp-${login.user}>`,
      service: 'l2tp',
    });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 202 || body.status !== 'pending') throw new Error(`up-hook answered ${res.status} ${JSON.stringify(body)}`);
  };
  const memory = (when: string) => {
    const usage = process.memoryUsage();
    const cpu = process.cpuUsage();
    report.memory.push({ when, warden: procSample(pid), benchRss: usage.rss, benchHeap: usage.heapUsed, benchCpuSeconds: (cpu.user + cpu.system) / 1e6 });
  };
  const errorNote = (figure: string, err: unknown) => report.notes.push(`${figure}: first error: ${errorText(err)}`);
  memory('idle, after start and setup');

  // --- 1. Hook API throughput: a burst of distinct up-hooks (one per person, as when everyone
  // reconnects after a router reboot), then how long until each of them has its prompt ---
  progress(`hook burst: ${CONFIG.hooks} up-hooks, ${CONFIG.concurrency} at a time`);
  const burst = range(CONFIG.hooks).map((i) => nextLogin(persons[i % persons.length]!));
  for (const login of burst) routerSide(login);
  const sentAt = new Map<string, number>();
  const burstStart = performance.now();
  const { firstError: hookError, ...hookFigure } = await runPool(
    `1 hook POST /ppp/up (burst, ${CONFIG.concurrency} concurrent)`,
    { count: burst.length, concurrency: CONFIG.concurrency, budgetMs: budget(30_000 + burst.length * 100) },
    async (i) => {
      const login = burst[i]!;
      const start = performance.now();
      await postUp(login);
      sentAt.set(login.address, start);
    },
  );
  report.measurements.push(hookFigure);
  if (hookError !== undefined) errorNote(hookFigure.name, hookError);
  memory('right after the hook burst');

  progress(`waiting for the ${sentAt.size} prompts of the burst`);
  const drainBudget = budget(30_000 + sentAt.size * 200);
  const drained = await Promise.allSettled([...sentAt.keys()].map((address) => watcher.waitFor(address, drainBudget)));
  const burstPrompt: number[] = [];
  let lastPromptAt = burstStart;
  for (const [address, start] of sentAt) {
    const seen = watcher.seen.get(address);
    if (!seen) continue;
    burstPrompt.push(seen.at - start);
    lastPromptAt = Math.max(lastPromptAt, seen.at);
  }
  report.measurements.push({
    name: '1 hook → prompt delivered (burst; per s = prompts/s)',
    count: burst.length,
    errors: burst.length - burstPrompt.length,
    samples: burstPrompt,
    wallMs: lastPromptAt - burstStart,
  });
  const drainFailure = drained.find((r) => r.status === 'rejected');
  if (drainFailure?.status === 'rejected') errorNote('1 hook → prompt (burst)', drainFailure.reason);
  memory('after the burst prompts were delivered');
  // Let per-chat send allowances and queues settle before timing single logins.
  await sleep(3_000);

  // --- 2. Login-to-prompt latency: a sample of logins by different people, paced ---
  progress(`prompt latency: ${CONFIG.prompts} logins by different people, one every ${CONFIG.promptIntervalMs} ms`);
  const sample = range(CONFIG.prompts).map((i) => nextLogin(persons[i % persons.length]!));
  const paced = await runPaced({ count: sample.length, intervalMs: CONFIG.promptIntervalMs, budgetMs: budget(60_000 + sample.length * 500) }, async (i) => {
    const login = sample[i]!;
    routerSide(login);
    const start = performance.now();
    await postUp(login);
    const hookMs = performance.now() - start;
    try {
      const seen = await watcher.waitFor(login.address, CONFIG.waitMs);
      return { login, hookMs, prompt: { promptMs: seen.at - start, ref: seen.ref } };
    } catch (err) {
      return { login, hookMs, promptError: err };
    }
  });
  const hooked = paced.results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const prompted = hooked.flatMap((h) => (h.prompt ? [{ login: h.login, ...h.prompt }] : []));
  const pacedFailure = paced.results.find((r) => r.status === 'rejected');
  const promptFailure = hooked.find((h) => h.promptError !== undefined)?.promptError;
  report.measurements.push({
    name: `2 hook POST /ppp/up (paced, 1 per ${CONFIG.promptIntervalMs} ms)`,
    count: sample.length,
    errors: sample.length - hooked.length,
    samples: hooked.map((h) => h.hookMs),
    wallMs: paced.wallMs,
    paced: true,
  });
  report.measurements.push({
    name: '2 login → prompt delivered (paced)',
    count: sample.length,
    errors: sample.length - prompted.length,
    samples: prompted.map((p) => p.promptMs),
    wallMs: paced.wallMs,
    paced: true,
  });
  if (pacedFailure?.status === 'rejected') errorNote('2 hook POST (paced)', pacedFailure.reason);
  if (promptFailure !== undefined) errorNote('2 login → prompt', promptFailure);

  // --- 3. Click-to-permit latency: Approve on each of those prompts, clicks paced ---
  progress(`click to permit: ${prompted.length} Approve clicks, one every ${CONFIG.promptIntervalMs} ms`);
  const approveButton = (ref: MessageRef) => {
    const message = stack.telegram.bot.message(ref.chatId, ref.messageId);
    const button = message?.replyMarkup?.inline_keyboard.flat().find((b) => /Approve/.test(b.text));
    if (!button) throw new Error(`prompt ${ref.messageId} in chat ${ref.chatId} has no Approve button`);
    return button.callback_data ?? button.text;
  };
  const clicks = await runPaced({ count: prompted.length, intervalMs: CONFIG.promptIntervalMs, budgetMs: budget(60_000 + prompted.length * 500) }, async (i) => {
    const { login, ref } = prompted[i]!;
    const button = approveButton(ref);
    const start = performance.now();
    const click = await stack.telegram.clickButton(login.owner.user, ref, button);
    const [answer, permit, edit] = await Promise.allSettled([
      click.answer.then((a) => {
        if (!/Approved/.test(a.text ?? '')) throw new Error(`click answered "${a.text ?? ''}"`);
        return performance.now() - start;
      }),
      permits.waitFor(login.address, CONFIG.waitMs).then((at) => at - start),
      stack.telegram
        .waitFor(() => /Approved/.test(stack.telegram.bot.message(ref.chatId, ref.messageId)?.text ?? '') && performance.now(), {
          timeoutMs: CONFIG.waitMs,
          description: `prompt ${ref.messageId} edited to Approved`,
        })
        .then((at) => at - start),
    ]);
    return { answer, permit, edit };
  });
  type ClickResult = { answer: PromiseSettledResult<number>; permit: PromiseSettledResult<number>; edit: PromiseSettledResult<number> };
  const clickFigure = (name: string, pick: (r: ClickResult) => PromiseSettledResult<number>): Measurement => {
    const samples: number[] = [];
    let firstError: unknown;
    for (const r of clicks.results) {
      const settled = r.status === 'fulfilled' ? pick(r.value) : r;
      if (settled.status === 'fulfilled') samples.push(settled.value);
      else firstError ??= settled.reason;
    }
    if (firstError !== undefined) errorNote(name, firstError);
    return { name, count: prompted.length, errors: prompted.length - samples.length, samples, wallMs: clicks.wallMs, paced: true };
  };
  report.measurements.push(clickFigure('3 click Approve → callback answered', (r) => r.answer));
  report.measurements.push(clickFigure('3 click Approve → address in permit list', (r) => r.permit));
  report.measurements.push(clickFigure('3 click Approve → prompt edited "Approved"', (r) => r.edit));

  // --- 2b. One person's backlog vs. everyone else: K quick logins by one person (Telegram
  // allows ~1 message/s per chat), then one login by somebody else; time that other prompt ---
  progress(`backlog: ${CONFIG.backlogRounds} rounds of ${CONFIG.backlogLogins} quick logins by one person, then one by another`);
  const backlogSamples: number[] = [];
  let backlogError: unknown;
  const backlogStart = performance.now();
  await sleep(3_000);
  for (let round = 0; round < CONFIG.backlogRounds && remaining() > 60_000; round++) {
    // People from the end of the list: the sample and the clicks did not touch their chats.
    const fromEnd = (k: number) => persons[persons.length - 1 - (k % persons.length)]!;
    const busy = fromEnd(2 * round);
    const other = fromEnd(2 * round + 1);
    const busyLogins = range(CONFIG.backlogLogins).map(() => nextLogin(busy));
    const otherLogin = nextLogin(other);
    try {
      for (const login of [...busyLogins, otherLogin]) routerSide(login);
      await Promise.all(busyLogins.map(postUp));
      const start = performance.now();
      await postUp(otherLogin);
      const seen = await watcher.waitFor(otherLogin.address, CONFIG.waitMs);
      backlogSamples.push(seen.at - start);
      // Let the busy chat's backlog drain so rounds do not overlap.
      await Promise.all(busyLogins.map((login) => watcher.waitFor(login.address, CONFIG.waitMs)));
      await sleep(3_000);
    } catch (err) {
      backlogError ??= err;
    }
  }
  report.measurements.push({
    name: `2 other person's login → prompt, one chat ${CONFIG.backlogLogins} behind`,
    count: CONFIG.backlogRounds,
    errors: CONFIG.backlogRounds - backlogSamples.length,
    samples: backlogSamples,
    wallMs: performance.now() - backlogStart,
    paced: true,
  });
  if (backlogError !== undefined) errorNote('2 backlog', backlogError);
  memory('end, after all load');
  if (CONFIG.idleMs > 0) {
    progress(`idle for ${CONFIG.idleMs} ms before the last memory reading`);
    await sleep(budget(CONFIG.idleMs));
    memory(`after ${(CONFIG.idleMs / 1000).toFixed(0)} s idle`);
  }

  const hook = summarize(hookFigure);
  const prompt = summarize(report.measurements.find((m) => m.name.startsWith('2 login'))!);
  const permit = summarize(report.measurements.find((m) => m.name.includes('permit list'))!);
  const peak = Math.max(...report.memory.map((m) => m.warden.hwmBytes ?? 0));
  report.targets.unshift(
    { name: 'login → prompt p95 (paced)', value: prompt.p95, limit: TARGETS.promptP95Ms, unit: 'ms', source: 'issue: "within a second"' },
    { name: 'click Approve → permit p95', value: permit.p95, limit: TARGETS.permitP95Ms, unit: 'ms', source: 'bench guideline (same bar as the prompt)' },
    { name: `hook POST p95 at ${CONFIG.concurrency} concurrent`, value: hook.p95, limit: TARGETS.hookP95Ms, unit: 'ms', source: 'bench guideline' },
    { name: 'Warden peak RSS (VmHWM)', value: peak > 0 ? peak / (1024 * 1024) : undefined, limit: TARGETS.wardenPeakRssMb, unit: 'MB', source: 'bench guideline (small VPS)' },
  );
  const sends = Number(process.env.TELEGRAM_SENDS_PER_SECOND ?? 25);
  if (Number.isFinite(sends) && sends > 0) {
    report.notes.push(
      `1: Warden sends at most TELEGRAM_SENDS_PER_SECOND=${sends} messages/s in all, so ${burst.length} burst prompts need at least ${(burst.length / sends).toFixed(1)} s; ` +
        'their latency is mostly that queue.',
    );
  }
  if (report.measurements.some((m) => m.errors > 0 && !m.name.startsWith('4'))) {
    const tail = stack.warden.logs().trimEnd().split('\n').slice(-30).join('\n');
    process.stderr.write(`\n--- last lines of Warden's log (there were errors) ---\n${tail}\n---\n`);
  }
}

// ----- main -----

async function main(): Promise<number> {
  const cpus = os.cpus();
  const report: Report = {
    machine: [
      `date: ${new Date().toISOString()}`,
      `machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}; ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; ${os.type()} ${os.release()} ${os.arch()}`,
      `node ${process.version}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine skews the figures)`,
      `config: BENCH_SCALE=${CONFIG.scale}; hooks ${CONFIG.hooks} at ${CONFIG.concurrency} concurrent; prompt sample ${CONFIG.prompts} paced every ${CONFIG.promptIntervalMs} ms; ` +
        `${CONFIG.persons} linked people; backlog ${CONFIG.backlogRounds} x ${CONFIG.backlogLogins} logins; router ops ${CONFIG.routerOps} per op and mode (1 and ${CONFIG.routerConcurrency} callers); ` +
        `Warden LOG_LEVEL=${CONFIG.logLevel}, TELEGRAM_SENDS_PER_SECOND=${CONFIG.sendsPerSecond}`,
    ],
    measurements: [],
    memory: [],
    targets: [],
    notes: [...knobProblems],
  };
  let exitCode = 0;
  try {
    progress(`RouterOS client: ${CONFIG.routerOps} calls per operation, sequential and ${CONFIG.routerConcurrency} callers`);
    const router = await runRouterBench({
      ops: CONFIG.routerOps,
      concurrency: CONFIG.routerConcurrency,
      pppSessions: 200,
      budgetMs: budget(120_000),
      progress,
    });
    for (const m of router.measurements) report.measurements.push({ ...m, name: `4 RouterOps.${m.name}` });
    if (router.firstError !== undefined) report.notes.push(`4 RouterOps: first error: ${errorText(router.firstError)}`);
    const worstSequential = Math.max(...router.measurements.filter((m) => m.name.includes('sequential')).map((m) => summarize(m).p95 ?? Infinity));
    report.targets.push({
      name: 'RouterOps p95, sequential (worst op)',
      value: Number.isFinite(worstSequential) ? worstSequential : undefined,
      limit: TARGETS.routerOpP95Ms,
      unit: 'ms',
      source: 'bench guideline (loopback simulator)',
    });

    await benchWarden(report);
    // Sections in reading order: Warden figures 1-3, then the router client (4); the sort is stable.
    report.measurements.sort((a, b) => Number(a.name[0]) - Number(b.name[0]));
  } catch (err) {
    report.crashed = err;
    exitCode = 1;
    process.stderr.write(`\nbench crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    await withTimeout(cleanUp(), 120_000, 'clean-up').catch((err: unknown) => progress(errorText(err)));
  }
  report.machine.push(
    `total bench time ${((performance.now() - benchStart) / 1000).toFixed(1)} s; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  printReport(report);
  return exitCode;
}

const code = await main();
process.exitCode = code;
clearTimeout(watchdog);
// Everything is closed; if some handle still keeps the loop alive, do not hang the caller.
setTimeout(() => {
  progress('a handle is still open after clean-up; exiting anyway');
  process.exit(code);
}, 5_000).unref();
