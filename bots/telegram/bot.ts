// The Telegram bot: features wired together, polling or webhook, and the ChatChannel the
// domain uses to send prompts. Polling is for a single instance (Telegram allows one poller per
// token); webhook mode lets several instances share the load behind the API.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Telegraf, TelegramError, type Context } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { TelegramConfig } from '../../src/config.js';
import type { DomainDeps } from '../../src/domain/ports.js';
import type { Logger } from '../../src/log.js';
import { TelegramChannel } from './channel.js';
import { approvalFeature } from './features/approval.js';
import { devicesFeature } from './features/devices.js';
import { adminFeature } from './features/admin.js';
import { supportFeature } from './features/support.js';
import type { SupportContext } from '../../src/support/commands.js';
import { linkFeature } from './features/link.js';
import { statusFeature } from './features/status.js';
import { HELP_TEXT } from '../../src/messaging/texts.js';

type EnabledTelegram = Extract<TelegramConfig, { enabled: true }>;

export const WEBHOOK_PATH = '/telegram/webhook';

export class TelegramBot {
  readonly bot: Telegraf<Context>;
  readonly channel: TelegramChannel;
  private stopping = false;
  private pollingLoop: Promise<void> | null = null;
  private readonly logger: Logger;

  constructor(
    private readonly config: EnabledTelegram,
    deps: DomainDeps,
    logger: Logger,
    support: { context: SupportContext; groupChatId: string | null } | null = null,
  ) {
    this.logger = logger.child({ component: 'telegram' });
    this.bot = new Telegraf(config.token, {
      telegram: { apiRoot: config.apiRoot, webhookReply: false },
      handlerTimeout: 30_000,
    });
    this.channel = new TelegramChannel(this.bot.telegram);
    // Answers sent from handlers (replies, callback answers, edits) go straight to the Bot API, not
    // through a job; a chat that just received a configuration may be at its rate limit, so wait
    // out short 429s here rather than lose the answer.
    this.bot.use((ctx, next) => {
      const callApi = ctx.telegram.callApi.bind(ctx.telegram);
      ctx.telegram.callApi = (async (method: never, payload: never, options?: never) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await callApi(method, payload, options);
          } catch (err) {
            const retryAfter = err instanceof TelegramError && err.code === 429 ? (err.parameters?.retry_after ?? 1) : null;
            // Queued sends to the same chat compete for the same slots; a little jitter and a few
            // more tries keep the answer from losing every round.
            if (retryAfter === null || retryAfter > 10 || attempt >= 10) throw err;
            await new Promise((r) => setTimeout(r, retryAfter * 1000 + Math.random() * 300));
          }
        }
      }) as typeof ctx.telegram.callApi;
      return next();
    });
    this.bot.use(linkFeature(deps));
    this.bot.use(statusFeature(deps));
    this.bot.use(approvalFeature(deps) as never);
    this.bot.use(devicesFeature(deps));
    this.bot.use(adminFeature(deps));
    if (support) this.bot.use(supportFeature(support.context, support.groupChatId));
    this.bot.on('callback_query', (ctx) => ctx.answerCbQuery('Sorry, this button is no longer valid.'));
    this.bot.on('message', async (ctx) => {
      if (ctx.chat.type === 'private') await ctx.reply(`I did not understand that.\n\n${HELP_TEXT}`);
    });
    // Without this, one failing handler would stop polling for everyone.
    this.bot.catch((err, ctx) => {
      this.logger.error({ err, updateId: ctx.update.update_id }, 'telegram update handler failed');
    });
  }

  /** Starts receiving updates. Never throws: Telegram being down must not stop Warden. */
  start(): void {
    this.pollingLoop = this.config.mode.kind === 'polling' ? this.runPolling() : this.runWebhookRegistration();
  }

  private async retrying(what: string, fn: () => Promise<void>): Promise<void> {
    let delay = 1000;
    while (!this.stopping) {
      try {
        await fn();
        if (this.stopping) return;
        delay = 1000;
      } catch (err) {
        if (this.stopping) return;
        this.logger.warn({ err: (err as Error).message, retryInMs: delay }, `${what} failed; retrying`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 60_000);
    }
  }

  private runPolling(): Promise<void> {
    return this.retrying('telegram polling', async () => {
      await this.bot.launch({ allowedUpdates: ['message', 'callback_query'] }, () => {
        this.logger.info({ bot: this.bot.botInfo?.username }, 'telegram bot polling');
        void this.registerCommands();
      });
    });
  }

  private runWebhookRegistration(): Promise<void> {
    const mode = this.config.mode as Extract<EnabledTelegram['mode'], { kind: 'webhook' }>;
    return this.retrying('telegram webhook registration', async () => {
      this.bot.botInfo ??= await this.bot.telegram.getMe();
      await this.bot.telegram.setWebhook(mode.url, { secret_token: mode.secret, allowed_updates: ['message', 'callback_query'] });
      this.logger.info({ url: mode.url }, 'telegram webhook registered');
      await this.registerCommands();
      this.stopping = true; // registration done; leave the retry loop
    }).finally(() => {
      this.stopping = false;
    });
  }

  private async registerCommands(): Promise<void> {
    await this.bot.telegram
      .setMyCommands([
        { command: 'status', description: 'Your VPN accounts and recent sessions' },
        { command: 'link', description: 'Link this chat with a code from your operator' },
        { command: 'prompts', description: 'on|off: whether login prompts come to this chat' },
        { command: 'signup', description: 'Join with an invite code, or ask an admin' },
        { command: 'devices', description: 'Your devices' },
        { command: 'adddevice', description: 'wireguard|ppp NAME: add a device' },
        { command: 'config', description: 'NAME: send a configuration again' },
        { command: 'rotate', description: 'NAME: new keys or password' },
        { command: 'remove', description: 'NAME: delete a device' },
        { command: 'support', description: 'Talk to the support team' },
        { command: 'faq', description: 'Frequent questions' },
        { command: 'ticket', description: 'Your support ticket' },
        { command: 'close', description: 'Close your support ticket' },
        { command: 'help', description: 'What this bot does' },
      ])
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'setMyCommands failed'));
  }

  /** Fastify route for webhook mode; checks Telegram's secret token header in constant time. */
  registerWebhookRoute(app: FastifyInstance): void {
    if (this.config.mode.kind !== 'webhook') return;
    const expected = Buffer.from(this.config.mode.secret);
    app.post(WEBHOOK_PATH, { bodyLimit: 1024 * 1024 }, async (request, reply) => {
      const presented = Buffer.from(String(request.headers['x-telegram-bot-api-secret-token'] ?? ''));
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        return reply.code(401).send({ error: 'unauthorized', message: 'bad secret token' });
      }
      await this.bot.handleUpdate(request.body as Update);
      return reply.code(200).send({ ok: true });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    try {
      this.bot.stop('shutdown');
    } catch {
      // not running
    }
    await Promise.race([this.pollingLoop, new Promise((r) => setTimeout(r, 2000))]);
  }
}
