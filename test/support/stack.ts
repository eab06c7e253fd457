// A whole Warden deployment for end-to-end tests: a fresh database, the RouterOS simulator, the
// fake Telegram Bot API, Warden started from its real entry point, set up with its real CLI.
// `routerUp`/`routerDown` play what the router's PPP profile scripts do.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { RouterOsSimulator, type RouterOsSimulatorOptions } from './routeros-sim/index.js';
import { FakeTelegram, type FakeMessage, type FakeTelegramOptions } from './fake-telegram/index.js';
import { FakeDiscord, type FakeDiscordOptions } from './fake-discord/index.js';
import { DiscordUser, TelegramUser, type ChatUser, type Platform } from './chatDrivers.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { eventually, runCliOk, startWardenProcess, type WardenProcess } from './wardenProcess.js';

export const SANDBOX = 'warden-sandbox';
export const PERMIT = 'warden-permit';
export const BANNED = 'warden-banned';

export interface StackOptions {
  env?: Record<string, string>;
  router?: RouterOsSimulatorOptions;
  telegram?: FakeTelegramOptions;
  /** Also run a fake Discord and give Warden a Discord bot token. */
  discord?: FakeDiscordOptions | true;
}

export interface Login {
  user: string;
  callerId: string;
  address: string;
}

export class Stack {
  readonly removedByRouterApi: Login[] = [];
  /** When false, sessions Warden disconnects do not trigger the on-down hook (a lost hook). */
  playDownHooks = true;
  /** Logs of Warden processes replaced by restartWarden(), kept for the log file written on stop. */
  private readonly earlierLogs: string[] = [];

  private constructor(
    readonly database: TestDatabase,
    readonly router: RouterOsSimulator,
    readonly telegram: FakeTelegram,
    readonly discordFake: FakeDiscord | null,
    readonly env: Record<string, string>,
    public warden: WardenProcess,
    readonly hookToken: string,
  ) {}

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const database = await createTestDatabase();
    const router = await RouterOsSimulator.start({
      users: [{ name: 'warden', password: 'router-secret', group: 'warden' }],
      ...opts.router,
    });
    const telegram = await FakeTelegram.start(opts.telegram);
    const discord = opts.discord ? await FakeDiscord.start(opts.discord === true ? {} : opts.discord) : null;
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      WARDEN_QUEUE_PREFIX: `e2e${randomBytes(4).toString('hex')}`,
      WARDEN_SECRET_KEY: randomBytes(32).toString('base64'),
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      APPROVAL_TIMEOUT_SECONDS: '6',
      ROUTER_CALL_TIMEOUT_MS: '2000',
      ...(discord ? { DISCORD_BOT_TOKEN: discord.token, DISCORD_API_ROOT: discord.restRoot, DISCORD_GATEWAY_LOCK_SECONDS: '3' } : {}),
      ...opts.env,
    };
    const added = await runCliOk(['router', 'add', 'office', '--host', '127.0.0.1', '--port', String(router.port), '--user', 'warden', '--password-env', 'ROUTER_PASSWORD'], {
      ...env,
      ROUTER_PASSWORD: 'router-secret',
    });
    const hookToken = /hook token[^:]*: (\S+)/.exec(added)?.[1];
    if (!hookToken) throw new Error(`no token in: ${added}`);
    const warden = await startWardenProcess(env);
    const stack = new Stack(database, router, telegram, discord, env, warden, hookToken);
    // Like the real router: disconnecting a session through the API runs the profile's on-down script.
    router.on('ppp-removed', (session) => {
      const login = { user: session.name, callerId: session.callerId, address: session.address };
      stack.removedByRouterApi.push(login);
      if (stack.playDownHooks) void stack.runOnDownScript(login).catch(() => {});
    });
    return stack;
  }

  async stop(): Promise<void> {
    await this.warden.stop();
    // Keep Warden's own log of the run for whoever has to read a failure.
    mkdirSync('.tmp', { recursive: true });
    writeFileSync(`.tmp/${this.env.WARDEN_QUEUE_PREFIX}.log`, [...this.earlierLogs, this.warden.logs()].join('\n--- warden restarted ---\n'));
    await this.telegram.stop();
    await this.discordFake?.stop();
    await this.router.stop();
    await this.database.drop();
  }

  async restartWarden(env: Record<string, string> = {}): Promise<void> {
    await this.warden.stop();
    this.earlierLogs.push(this.warden.logs());
    this.warden = await startWardenProcess({ ...this.env, ...env });
  }

  cli(args: string[]): Promise<string> {
    return runCliOk(args, this.env);
  }

  /** Adds a person with a PPP account and a linked Telegram user; returns the Telegram user. */
  async addLinkedPerson(name: string, account: string) {
    await this.cli(['person', 'add', name]);
    await this.cli(['account', 'add', '--router', 'office', '--user', account, '--owner', name]);
    const codeOut = await this.cli(['link-code', name]);
    const code = /link code for .*: (\S+)/.exec(codeOut)?.[1];
    if (!code) throw new Error(`no link code in: ${codeOut}`);
    const user = this.telegram.createUser({ first_name: name, username: name.toLowerCase() });
    this.telegram.userSends(user, `/start ${code}`);
    await this.waitForMessage(user.id, (m) => /Linked/.test(m.text ?? ''));
    return user;
  }

  /** Calls a PPP hook; `baseUrl` sends it to another Warden instance than the stack's own. */
  /** Adds a person with a PPP account and links their chat user on `platform`. */
  async addChatUser(platform: Platform, name: string, account: string): Promise<ChatUser> {
    await this.cli(['person', 'add', name]);
    await this.cli(['account', 'add', '--router', 'office', '--user', account, '--owner', name]);
    const codeOut = await this.cli(['link-code', name]);
    const code = /link code for .*: (\S+)/.exec(codeOut)?.[1];
    if (!code) throw new Error(`no link code in: ${codeOut}`);
    if (platform === 'discord' && !this.discordFake) throw new Error('stack started without Discord');
    const user = platform === 'telegram' ? new TelegramUser(this.telegram, name) : new DiscordUser(this.discordFake!, name);
    const answer = await user.link(code);
    if (!/Linked/.test(answer)) throw new Error(`linking ${name} on ${platform} failed: ${answer}`);
    return user;
  }

  hook(event: 'up' | 'down', body: unknown, opts: { token?: string; router?: string; rawBody?: string; contentType?: string; baseUrl?: string } = {}) {
    return fetch(`${opts.baseUrl ?? this.warden.url}/hooks/v1/routers/${opts.router ?? 'office'}/ppp/${event}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token ?? this.hookToken}`, 'content-type': opts.contentType ?? 'application/json' },
      body: opts.rawBody ?? JSON.stringify(body),
    });
  }

  private hookBody(login: Login) {
    return { ...login, localAddress: '10.8.0.1', interface: `<l2tp-${login.user}>`, service: 'l2tp' };
  }

  /** A client connects: the router adds the session, sandboxes it and calls the up-hook. */
  async routerUp(login: Login, opts: { baseUrl?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    this.router.connectPpp({ name: login.user, service: 'l2tp', callerId: login.callerId, address: login.address });
    if (!this.router.addressList(SANDBOX).some((e) => e.address === login.address)) {
      this.router.addAddressListEntry({ list: SANDBOX, address: login.address, comment: `warden:sandbox:${login.user}` });
    }
    const res = await this.hook('up', this.hookBody(login), opts);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** What the on-down script does: drop the local list entries, then call the down-hook. */
  async runOnDownScript(login: Login): Promise<Response> {
    for (const entry of this.router.addressList()) {
      if ((entry.list === SANDBOX || entry.list === PERMIT) && entry.address === login.address) {
        this.router.removeAddressListEntry(entry.id);
      }
    }
    return this.hook('down', this.hookBody(login));
  }

  /** The client disconnects by itself. */
  async routerDown(login: Login): Promise<Response> {
    const session = this.router.pppActive().find((s) => s.name === login.user && s.address === login.address);
    if (session) this.router.disconnectPpp(session.id);
    return this.runOnDownScript(login);
  }

  inList(list: string, address: string): boolean {
    return this.router.addressList(list).some((e) => e.address === address);
  }

  isConnected(login: Login): boolean {
    return this.router.pppActive().some((s) => s.name === login.user && s.address === login.address);
  }

  waitForMessage(chatId: number, predicate: (m: FakeMessage) => boolean, timeoutMs = 15_000): Promise<FakeMessage> {
    return eventually(`a message in chat ${chatId}`, () => this.telegram.messagesIn(chatId).find((m) => m.fromBot && predicate(m)), timeoutMs);
  }

  /** The prompt for a login, once Warden has verified it and asked the owner. */
  waitForPrompt(chatId: number, login: Login, timeoutMs = 15_000): Promise<FakeMessage> {
    return this.waitForMessage(chatId, (m) => (m.text ?? '').includes(`session address ${login.address}`), timeoutMs);
  }

  /** The current version of a message (it may have been edited since it was captured). */
  current(message: FakeMessage): FakeMessage {
    const now = this.telegram.messagesIn(message.chatId).find((m) => m.messageId === message.messageId);
    if (!now) throw new Error('message vanished');
    return now;
  }

  waitForEdit(message: FakeMessage, pattern: RegExp, timeoutMs = 15_000): Promise<FakeMessage> {
    return eventually(`message ${message.messageId} to show ${pattern}`, () => {
      const now = this.current(message);
      return pattern.test(now.text ?? '') ? now : undefined;
    }, timeoutMs);
  }
}
