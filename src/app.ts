// Composition root: builds Warden's parts for the configured roles and starts them.
//   api    — HTTP hooks from routers (and the Telegram webhook in webhook mode)
//   worker — BullMQ workers: router verification and sync, timeouts, chat notifications, and the
//            WireGuard poll's clock (it enqueues; the workers read the routers)
//   bots   — receives chat updates (Telegram polling)
// Every role relays the outbox, because every role writes decisions into it.
import type { FastifyInstance } from 'fastify';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createDb, type Db } from './db/client.js';
import { MigrationError, migrateDatabase } from './db/migrate.js';
import { SecretBox } from './crypto/secretBox.js';
import { OutboxRelay, enqueueAfterCommit } from './jobs/outbox.js';
import { closeQueues, createQueues, startWorkers, type QueueSettings } from './jobs/runtime.js';
import { createJobHandlers } from './jobs/handlers.js';
import { startWireguardPolling } from './jobs/wireguardPolling.js';
import { sessionsOwingRouterWork } from './domain/routerSync.js';
import type { RouterGateway } from './domain/ports.js';
import { createDomainDeps } from './domainDeps.js';
import type { ChatChannels } from './domain/notifications.js';
import { buildServer } from './api/server.js';
import { RouterOps, RouterPool } from './router/index.js';
import { TelegramBot } from '../bots/telegram/bot.js';
import { TelegramSupportRelay } from '../bots/telegram/supportRelay.js';
import { DiscordSupportRelay } from '../bots/discord/supportRelay.js';
import cron from 'node-cron';
import type { ChatPlatform } from './generated/prisma/enums.js';
import { defaultKbDir, KnowledgeBase } from './support/knowledgeBase.js';
import type { SupportContext } from './support/commands.js';
import type { SupportRelays, SupportSettings } from './support/desk.js';
import { DiscordBot } from '../bots/discord/bot.js';
import { createDiscordRest, DiscordChannel } from '../bots/discord/channel.js';

export interface RunningWarden {
  /** The HTTP address when the api role runs (e.g. http://127.0.0.1:8080). */
  url: string | null;
  stop(): Promise<void>;
}

async function waitForDatabase(config: Config, logger: Logger): Promise<void> {
  // At start-up the database may still be coming up (docker compose, reboot). Keep trying:
  // crashing in a loop helps nobody, and no client is let through meanwhile.
  let delay = 1000;
  for (;;) {
    try {
      if (config.autoMigrate) {
        await migrateDatabase(config.databaseUrl, { logger });
      }
      return;
    } catch (err) {
      const message = (err as Error).message;
      // A tampered or failed migration needs a human; only connection trouble is worth retrying.
      if (err instanceof MigrationError && err.code !== 'LOCK_TIMEOUT') throw err;
      logger.warn({ err: message, retryInMs: delay }, 'database not ready; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

export function routerGateway(pool: RouterPool, linkWaitMs: number): RouterGateway {
  return {
    async forRouter(routerId) {
      const client = await pool.get(routerId);
      // A link that is (re)connecting gets a moment to come up before the job fails and backs off.
      await client.waitForUp(linkWaitMs).catch(() => {});
      return new RouterOps(client);
    },
  };
}

function routerPoolFor(db: Db, box: SecretBox, config: Config, logger: Logger): RouterPool {
  return new RouterPool({
    loadEndpoint: async (routerId: string) => {
      const router = await db.router.findUnique({ where: { id: routerId } });
      if (!router) throw new Error(`router ${routerId} no longer exists`);
      return {
        name: router.name,
        host: router.apiHost,
        port: router.apiPort,
        tls: router.apiTls,
        user: router.apiUser,
        password: box.open(router.apiPasswordEnc),
      };
    },
    logger: logger.child({ component: 'router' }),
    clientOptions: { callTimeoutMs: config.router.callTimeoutMs },
  });
}

export async function startWarden(config: Config, logger: Logger): Promise<RunningWarden> {
  const roles = new Set(config.roles);
  logger.info({ roles: [...roles] }, 'starting Warden');
  await waitForDatabase(config, logger);

  const db = createDb(config.databaseUrl);
  const box = new SecretBox(config.secretKey);
  const settings: QueueSettings = {
    attempts: { router: config.router.jobAttempts, timers: 20, notify: 15 },
    concurrency: { router: 4, timers: 4, notify: 4 },
    notifyPerSecond: config.telegram.enabled ? config.telegram.sendsPerSecond : 25,
  };
  const queues = createQueues(config.redisUrl, config.queuePrefix, settings);
  const relay = new OutboxRelay(db, queues, logger.child({ component: 'outbox' }));
  const deps = createDomainDeps(config, db, { logger, afterCommit: () => relay.kick() });

  const stops: Array<() => Promise<void>> = [];
  const channels: ChatChannels = {};

  // The support desk: where tickets go, who answers them, and the knowledge base (bots answer
  // FAQs; workers relay tickets). The knowledge base reloads itself when its files change.
  const supportPlatforms: ChatPlatform[] = [
    ...(config.telegram.enabled && config.support.telegramChatId ? (['telegram'] as const) : []),
    ...(config.discord.enabled && config.support.discordChannelId ? (['discord'] as const) : []),
  ];
  const supportSettings: SupportSettings = {
    platforms: supportPlatforms,
    members: config.support.members,
    remindAfterMs: config.support.remindAfterMs,
    messagesPerMinute: config.support.messagesPerMinute,
  };
  const kb = roles.has('bots')
    ? await KnowledgeBase.load(defaultKbDir(config.support.kbDir ?? undefined), { logger: logger.child({ component: 'kb' }), watch: true }).catch((err: unknown) => {
        logger.warn({ err: (err as Error).message }, 'knowledge base not loaded; questions go straight to support');
        return null;
      })
    : null;
  if (kb) stops.push(() => kb.close());
  const supportContext: SupportContext = { deps, settings: supportSettings, kb };
  const supportRelays: SupportRelays = {};

  let telegram: TelegramBot | null = null;
  if (config.telegram.enabled) {
    telegram = new TelegramBot(config.telegram, deps, logger, { context: supportContext, groupChatId: config.support.telegramChatId });
    channels.telegram = telegram.channel;
    if (config.support.telegramChatId) supportRelays.telegram = new TelegramSupportRelay(telegram.channel, config.support.telegramChatId);
  }
  let discord: DiscordBot | null = null;
  if (config.discord.enabled) {
    const rest = createDiscordRest(config.discord.token, config.discord.apiRoot);
    channels.discord = new DiscordChannel(rest);
    if (config.support.discordChannelId) supportRelays.discord = new DiscordSupportRelay(rest, config.support.discordChannelId);
    if (roles.has('bots')) {
      const lockRedis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      lockRedis.on('error', () => {}); // a lost lock is reported by the bot
      discord = new DiscordBot(config.discord, deps, logger, lockRedis, `${config.queuePrefix}:discord:gateway-lock`, {
        context: supportContext,
        channelId: config.support.discordChannelId,
      });
      stops.push(async () => void lockRedis.disconnect());
    }
  }
  if (!channels.telegram && !channels.discord) {
    logger.warn('no chat platform configured (TELEGRAM_BOT_TOKEN and DISCORD_BOT_TOKEN are empty): logins stay sandboxed until one is');
  }

  let workers: Worker[] = [];
  let pool: RouterPool | null = null;
  if (roles.has('worker')) {
    pool = routerPoolFor(db, box, config, logger);
    const handlers = createJobHandlers(deps, routerGateway(pool, config.router.callTimeoutMs), channels, {
      relays: supportRelays,
      settings: supportSettings,
    });
    // Support reminders: node-cron only enqueues (one job per tick: instances ticking at the same
    // second collapse into it); a worker does the check.
    const reminders = cron.schedule(config.support.remindCron, () => {
      const slot = String(Math.floor(Date.now() / 1000));
      queues.timers
        .add('support.remind', { slot }, { jobId: `support-remind-${slot}`, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 600 } })
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not enqueue the support reminder check'));
    });
    stops.push(async () => void (await reminders.stop()));
    workers = startWorkers({ redisUrl: config.redisUrl, prefix: config.queuePrefix, handlers, settings, logger: logger.child({ component: 'jobs' }) });
    // When a router link comes back, re-queue everything still owed to it: nothing decided while
    // it was away is lost.
    pool.onUp((routerId: string) => {
      void (async () => {
        const owed = await sessionsOwingRouterWork(db, routerId);
        const unverified = await db.connectionSession.findMany({
          where: { routerId, state: 'pending', verifiedAt: null },
          select: { id: true },
        });
        for (const sessionId of owed) await enqueueAfterCommit(db, 'session.routerSync', { sessionId });
        for (const { id } of unverified) await enqueueAfterCommit(db, 'session.verify', { sessionId: id });
        if (owed.length + unverified.length) {
          logger.info({ routerId, resync: owed.length, reverify: unverified.length }, 'router link up; re-queued owed work');
          relay.kick();
        }
      })().catch((err: unknown) => logger.error({ err, routerId }, 'could not re-queue router work'));
    });
    // WireGuard has no connect/disconnect hook: poll every router's peers (one job per router
    // and poll slot, however many worker instances run this).
    const wireguardPolling = startWireguardPolling({
      db,
      queue: queues.router,
      pollMs: config.wireguardPollMs,
      logger: logger.child({ component: 'wireguard-poll' }),
    });
    stops.push(async () => {
      wireguardPolling.stop();
      await Promise.all(workers.map((w) => w.close().catch(() => {})));
      await pool?.closeAll();
    });
  }

  relay.start();

  const healthRedis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  healthRedis.on('error', () => {}); // reported by /healthz
  stops.push(async () => void healthRedis.disconnect());

  let app: FastifyInstance | null = null;
  let url: string | null = null;
  if (roles.has('api')) {
    app = buildServer({
      deps,
      logger,
      trustProxy: config.http.trustProxy,
      probes: [
        { name: 'database', check: () => db.$queryRaw`SELECT 1` },
        { name: 'redis', check: () => healthRedis.ping() },
      ],
      extraRoutes: telegram ? [(a) => telegram!.registerWebhookRoute(a)] : [],
    });
    url = await app.listen({ host: config.http.host, port: config.http.port });
    logger.info({ url }, 'HTTP API listening');
  }

  if (telegram && roles.has('bots')) telegram.start();
  discord?.start();

  return {
    url,
    async stop() {
      logger.info('stopping Warden');
      await telegram?.stop();
      await discord?.stop();
      await app?.close();
      for (const stop of stops) await stop();
      await relay.stop();
      await closeQueues(queues);
      await db.$disconnect();
    },
  };
}
