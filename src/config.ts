// Configuration: read once from the environment (and an optional .env file), validated, typed.
// Every variable is documented in .env.example; a bad value stops start-up with a message that
// names the variable, instead of failing later in the middle of a login.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';
import cron from 'node-cron';
import type { Policy } from './domain/ports.js';

export const ROLES = ['api', 'worker', 'bots'] as const;
export type Role = (typeof ROLES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    WARDEN_ROLES: z
      .string()
      .default('api,worker,bots')
      .transform((s, ctx) => {
        const roles = s.split(',').map((r) => r.trim()).filter(Boolean);
        for (const r of roles) {
          if (!(ROLES as readonly string[]).includes(r)) {
            ctx.addIssue({ code: 'custom', message: `unknown role "${r}" (allowed: ${ROLES.join(', ')})` });
          }
        }
        return [...new Set(roles)] as Role[];
      }),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .default('postgresql://postgres@127.0.0.1:5432/warden'),
    WARDEN_AUTO_MIGRATE: bool.default(true),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').default('redis://127.0.0.1:6379'),
    WARDEN_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).default('warden'),
    HTTP_HOST: z.string().default('0.0.0.0'),
    HTTP_PORT: positiveInt(0, 65535).default(8080),
    WARDEN_PUBLIC_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
    TRUST_PROXY: bool.default(false),
    WARDEN_SECRET_KEY: z.string().optional(),
    WARDEN_SECRET_KEY_FILE: z.string().default('./data/secret.key'),
    APPROVAL_TIMEOUT_SECONDS: positiveInt(5, 3600).default(60),
    MAX_UNCONFIRMED_ATTEMPTS: positiveInt(1, 100).default(5),
    BAN_DURATION_MINUTES: positiveInt(1, 60 * 24 * 30).default(30),
    LINK_CODE_TTL_HOURS: positiveInt(1, 24 * 30).default(24),
    WARDEN_TIMEZONE: z
      .string()
      .default('UTC')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown IANA time zone'),
    ROUTER_CALL_TIMEOUT_MS: positiveInt(200, 120_000).default(5000),
    ROUTER_JOB_ATTEMPTS: positiveInt(1, 1000).default(40),
    TELEGRAM_BOT_TOKEN: z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'does not look like a bot token from @BotFather (123456:ABC...)')
      .optional(),
    TELEGRAM_MODE: z.enum(['polling', 'webhook']).default('polling'),
    TELEGRAM_API_ROOT: z.url({ protocol: /^https?$/ }).default('https://api.telegram.org'),
    TELEGRAM_WEBHOOK_URL: z.url({ protocol: /^https$|^http$/ }).optional(),
    TELEGRAM_WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16-256 characters of A-Z a-z 0-9 _ -')
      .optional(),
    TELEGRAM_SENDS_PER_SECOND: positiveInt(1, 30).default(25),
    TELEGRAM_BOT_USERNAME: z.string().regex(/^[A-Za-z0-9_]{5,32}$/, 'a bot username without @').optional(),
    DISCORD_BOT_TOKEN: z.string().regex(/^[A-Za-z0-9._-]{20,200}$/, 'does not look like a Discord bot token').optional(),
    DISCORD_API_ROOT: z.url({ protocol: /^https?$/ }).default('https://discord.com/api'),
    DISCORD_GATEWAY_LOCK_SECONDS: positiveInt(3, 300).default(15),
    WARDEN_ADMINS: z
      .string()
      .default('')
      .transform((s, ctx) => {
        const admins = s.split(',').map((a) => a.trim()).filter(Boolean);
        for (const a of admins) {
          if (!/^(telegram|discord):\d{1,25}$/.test(a)) ctx.addIssue({ code: 'custom', message: `"${a}" is not platform:user-id (e.g. telegram:123456789)` });
        }
        return admins;
      }),
    DEVICE_LIMIT: positiveInt(1, 100).default(3),
    SIGNUP_REQUESTS_PER_HOUR: positiveInt(1, 1000).default(10),
    INVITE_TTL_HOURS: positiveInt(1, 24 * 365).default(72),
    WIREGUARD_POLL_SECONDS: positiveInt(2, 600).default(15),
    WIREGUARD_IDLE_SECONDS: positiveInt(60, 3600).default(180),
    SUPPORT_TELEGRAM_CHAT_ID: z.string().regex(/^-\d{1,20}$/, 'a Telegram group id (negative number, e.g. -1001234567890)').optional(),
    SUPPORT_DISCORD_CHANNEL_ID: z.string().regex(/^\d{5,25}$/, 'a Discord channel id').optional(),
    SUPPORT_MEMBERS: z
      .string()
      .default('')
      .transform((s, ctx) => {
        const members = s.split(',').map((a) => a.trim()).filter(Boolean);
        for (const m of members) {
          if (!/^(telegram|discord):\d{1,25}$/.test(m)) ctx.addIssue({ code: 'custom', message: `"${m}" is not platform:user-id` });
        }
        return members;
      }),
    SUPPORT_REMIND_MINUTES: z.coerce.number().min(0.05).max(10_080).default(30),
    SUPPORT_REMIND_CRON: z.string().default('* * * * *').refine((v) => cron.validate(v), 'not a valid cron expression (node-cron syntax)'),
    SUPPORT_MESSAGES_PER_MINUTE: positiveInt(1, 600).default(6),
    KB_DIR: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.TELEGRAM_MODE === 'webhook' && env.TELEGRAM_BOT_TOKEN) {
      if (!env.TELEGRAM_WEBHOOK_URL) {
        ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_URL'], message: 'required when TELEGRAM_MODE=webhook' });
      }
      if (!env.TELEGRAM_WEBHOOK_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'required when TELEGRAM_MODE=webhook' });
      }
    }
  });

type Env = z.infer<typeof EnvSchema>;

export type TelegramConfig =
  | { enabled: false }
  | {
      enabled: true;
      token: string;
      apiRoot: string;
      sendsPerSecond: number;
      mode: { kind: 'polling' } | { kind: 'webhook'; url: string; secret: string };
    };

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  roles: Role[];
  databaseUrl: string;
  autoMigrate: boolean;
  redisUrl: string;
  queuePrefix: string;
  http: { host: string; port: number; trustProxy: boolean; publicUrl: string };
  secretKey: Buffer;
  policy: Policy;
  support: {
    telegramChatId: string | null;
    discordChannelId: string | null;
    /** Who may answer and close tickets ("telegram:123"); admins always may. */
    members: string[];
    remindAfterMs: number;
    /** node-cron schedule of the reminder check (it only enqueues; a worker does the check). */
    remindCron: string;
    messagesPerMinute: number;
    kbDir: string | null;
  };
  /** Chat identities allowed to run admin commands and decide signup requests ("telegram:123"). */
  admins: string[];
  wireguardPollMs: number;
  router: { callTimeoutMs: number; jobAttempts: number };
  telegram: TelegramConfig;
  discord: { enabled: false } | { enabled: true; token: string; apiRoot: string; lockTtlMs: number };
  /** For printing t.me deep links in the CLI. */
  telegramBotUsername: string | null;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Loads the secret key that encrypts router credentials at rest. Without an explicit key a
 * random one is created once in WARDEN_SECRET_KEY_FILE (mode 0600), so `npm start` works out of
 * the box and no shared default key ever exists.
 */
function loadSecretKey(env: Env, problems: string[]): Buffer {
  const decode = (raw: string, origin: string): Buffer => {
    const key = Buffer.from(raw.trim(), 'base64');
    if (key.length !== 32) problems.push(`${origin}: must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
    return key;
  };
  if (env.WARDEN_SECRET_KEY) return decode(env.WARDEN_SECRET_KEY, 'WARDEN_SECRET_KEY');
  const file = resolve(env.WARDEN_SECRET_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return decode(readFileSync(file, 'utf8'), `WARDEN_SECRET_KEY_FILE (${file})`);
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // WARDEN_ENV_FILE=none disables .env loading (tests use it so a developer's .env never leaks in).
  const envFile = source.WARDEN_ENV_FILE ?? '.env';
  if (source === process.env && envFile !== 'none' && existsSync(envFile)) {
    loadDotenv({ path: envFile, quiet: true });
  }
  // Empty strings mean "not set", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  const secretKey = loadSecretKey(env, problems);
  if (problems.length) throw new ConfigError(problems);

  const telegram: TelegramConfig = env.TELEGRAM_BOT_TOKEN
    ? {
        enabled: true,
        token: env.TELEGRAM_BOT_TOKEN,
        apiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
        sendsPerSecond: env.TELEGRAM_SENDS_PER_SECOND,
        mode:
          env.TELEGRAM_MODE === 'webhook'
            ? { kind: 'webhook', url: env.TELEGRAM_WEBHOOK_URL!, secret: env.TELEGRAM_WEBHOOK_SECRET! }
            : { kind: 'polling' },
      }
    : { enabled: false };

  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    roles: env.WARDEN_ROLES,
    databaseUrl: env.DATABASE_URL,
    autoMigrate: env.WARDEN_AUTO_MIGRATE,
    redisUrl: env.REDIS_URL,
    queuePrefix: env.WARDEN_QUEUE_PREFIX,
    http: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      trustProxy: env.TRUST_PROXY,
      publicUrl: env.WARDEN_PUBLIC_URL.replace(/\/+$/, ''),
    },
    secretKey,
    policy: {
      approvalTimeoutMs: env.APPROVAL_TIMEOUT_SECONDS * 1000,
      maxUnconfirmedAttempts: env.MAX_UNCONFIRMED_ATTEMPTS,
      banDurationMs: env.BAN_DURATION_MINUTES * 60_000,
      linkCodeTtlMs: env.LINK_CODE_TTL_HOURS * 3_600_000,
      timeZone: env.WARDEN_TIMEZONE,
      deviceLimit: env.DEVICE_LIMIT,
      signupRequestsPerHour: env.SIGNUP_REQUESTS_PER_HOUR,
      inviteTtlMs: env.INVITE_TTL_HOURS * 3_600_000,
      wireguardIdleMs: env.WIREGUARD_IDLE_SECONDS * 1000,
    },
    admins: env.WARDEN_ADMINS,
    support: {
      telegramChatId: env.SUPPORT_TELEGRAM_CHAT_ID ?? null,
      discordChannelId: env.SUPPORT_DISCORD_CHANNEL_ID ?? null,
      members: env.SUPPORT_MEMBERS,
      remindAfterMs: Math.round(env.SUPPORT_REMIND_MINUTES * 60_000),
      remindCron: env.SUPPORT_REMIND_CRON,
      messagesPerMinute: env.SUPPORT_MESSAGES_PER_MINUTE,
      kbDir: env.KB_DIR ?? null,
    },
    wireguardPollMs: env.WIREGUARD_POLL_SECONDS * 1000,
    router: { callTimeoutMs: env.ROUTER_CALL_TIMEOUT_MS, jobAttempts: env.ROUTER_JOB_ATTEMPTS },
    telegram,
    telegramBotUsername: env.TELEGRAM_BOT_USERNAME ?? null,
    discord: env.DISCORD_BOT_TOKEN
      ? {
          enabled: true,
          token: env.DISCORD_BOT_TOKEN,
          apiRoot: env.DISCORD_API_ROOT.replace(/\/+$/, ''),
          lockTtlMs: env.DISCORD_GATEWAY_LOCK_SECONDS * 1000,
        }
      : { enabled: false },
  };
}
