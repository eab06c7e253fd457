// A strict stand-in for the Telegram Bot API on 127.0.0.1, for running the real telegraf
// against. It owns the HTTP server, the "world" (users, groups, bots), fault injection, the
// call log and waiting helpers; each bot's state and methods live in bot.ts. Limits, errors
// and quirks follow api.telegram.org so code that passes here behaves the same there.
//
//   const fake = await FakeTelegram.start();
//   const bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  FakeBot,
  type ButtonClick, type GroupState, type MessageRef, type ResolvedOptions, type UserDocumentOptions, type UserMediaOptions,
  type UserSendOptions, type UserSent,
  type WaitOptions, type World,
} from './bot.js';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limit.js';
import { BodyTooLargeError, MalformedBodyError, readApiParams } from './request.js';
import type { ApiCall, FakeMessage, TgChat, TgUser } from './types.js';

export { FakeBot } from './bot.js';
export type {
  ButtonClick, MessageRef, UserDocumentOptions, UserMediaOptions, UserSendOptions, UserSent, WaitOptions,
} from './bot.js';
export { BotApiError } from './errors.js';
export type { RateLimits } from './rate-limit.js';
export type * from './types.js';

export interface CreateBotOptions {
  username?: string;
  firstName?: string;
  /** A fixed token; one of Telegram's shape (`<id>:<35 chars>`) is generated otherwise. */
  token?: string;
  /** Privacy mode (Telegram's default, on): in groups only commands, replies and mentions arrive. */
  privacyMode?: boolean;
}

export interface FakeTelegramOptions {
  /** Flood limits; strict defaults from the Bot FAQ. `false` turns them all off. */
  rateLimits?: Partial<RateLimits> | false;
  /**
   * How long a callback query can be answered. Telegram does not document it; bots see
   * "query is too old" after some 10-20 s, so the strict default is 10 s.
   */
  callbackQueryTtlMs?: number;
  /** tdlib answers repeated 409 conflicts only every 3 s. */
  conflictRepeatDelayMs?: number;
  /** Pause between webhook delivery attempts after a failure. */
  webhookRetryDelayMs?: number;
  /** How long a webhook (or a file URL) may take to answer. */
  webhookTimeoutMs?: number;
  /** Largest request body; Telegram's upload limit is 50 MB (413 above it). */
  maxUploadBytes?: number;
  /** The bot created at start (`fake.bot`, `fake.token`). */
  bot?: CreateBotOptions;
}

export type Fault =
  | { code: 429; retryAfter?: number; afterEffect?: boolean }
  | { code: 500 | 502 | 503 | 504; afterEffect?: boolean }
  | { code: number; description: string; afterEffect?: boolean }
  | { network: 'close'; afterEffect?: boolean };

export interface CreateGroupOptions {
  title: string;
  type?: 'group' | 'supergroup';
  /** Public @username, making the chat addressable as "@name". */
  username?: string;
  /** A supergroup with topics; messages can carry message_thread_id. */
  isForum?: boolean;
  members?: TgUser[];
  /** Bots in the group (default: the default bot) and whether they are admins. */
  bots?: FakeBot[];
  botsAreAdmins?: boolean;
}

interface PendingFault {
  method: string;
  fault: Fault;
  remaining: number;
  botId?: number;
}

interface Waiter {
  check: () => boolean;
}

// Telegram answers 502/503/504 from its front proxy as HTML, not JSON.
const PROXY_PAGES: Record<number, string> = {
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

const TOKEN_SHAPE = /^\d+:[A-Za-z0-9_-]+$/;

const BOT_API_METHODS_NOT_MODELLED = new Set([
  'logout', 'close', 'forwardmessage', 'forwardmessages', 'copymessages', 'sendaudio',
  'sendvideo', 'sendanimation', 'sendvoice', 'sendvideonote', 'sendpaidmedia', 'sendmediagroup',
  'sendlocation', 'sendvenue', 'sendcontact', 'sendpoll', 'senddice', 'setmessagereaction',
  'getuserprofilephotos', 'banchatmember', 'unbanchatmember', 'restrictchatmember', 'promotechatmember',
  'exportchatinvitelink', 'createchatinvitelink', 'setchatphoto', 'deletechatphoto', 'setchattitle',
  'setchatdescription', 'pinchatmessage', 'unpinchatmessage', 'unpinallchatmessages', 'leavechat',
  'getchatadministrators', 'getchatmembercount', 'getchatmember', 'createforumtopic', 'editforumtopic',
  'closeforumtopic', 'reopenforumtopic', 'deleteforumtopic', 'setmyname', 'getmyname', 'setmydescription',
  'getmydescription', 'setmyshortdescription', 'getmyshortdescription', 'setchatmenubutton',
  'getchatmenubutton', 'editmessagemedia', 'editmessagelivelocation', 'stopmessagelivelocation', 'stoppoll',
  'deletemessages', 'sendsticker', 'answerinlinequery', 'sendinvoice', 'answerprecheckoutquery',
]);

export class FakeTelegram implements World {
  readonly options: ResolvedOptions;
  readonly users = new Map<number, TgUser>();
  readonly groups = new Map<number, GroupState>();
  /** The bot created at start; the helpers below act on it unless given another bot. */
  readonly bot: FakeBot;

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly botsByToken = new Map<string, FakeBot>();
  private readonly callLog: ApiCall[] = [];
  private readonly waiters = new Set<Waiter>();
  private faults: PendingFault[] = [];
  private readonly delays = new Map<string, number>();
  private nextUserId = 100_000_001;
  private nextBotId = 7_000_000_001;
  private nextGroupId = 1;
  private stopped = false;
  private port = 0;

  private constructor(options: FakeTelegramOptions) {
    const rateLimits = options.rateLimits === false ? false : { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    this.options = {
      rateLimits,
      callbackQueryTtlMs: options.callbackQueryTtlMs ?? 10_000,
      conflictRepeatDelayMs: options.conflictRepeatDelayMs ?? 3_000,
      webhookRetryDelayMs: options.webhookRetryDelayMs ?? 250,
      webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
      maxUploadBytes: options.maxUploadBytes ?? 50 * 1024 * 1024,
    };
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.sendJson(response, 500, { ok: false, error_code: 500, description: String(error) });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.bot = this.createBot(options.bot);
  }

  static async start(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
    const fake = new FakeTelegram(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** Pass as `telegram.apiRoot` to telegraf (no trailing slash, no path). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Token of the default bot. */
  get token(): string {
    return this.bot.token;
  }

  /** Stops the server, drops every connection and cancels all timers. Stop the bots first. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const bot of this.botsByToken.values()) bot.shutdown();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  // -------------------------------------------------------------------------------------------
  // The world

  /** Registers another bot; pass a token string or options. Requests with its token are served. */
  createBot(tokenOrOptions: string | CreateBotOptions = {}): FakeBot {
    const options = typeof tokenOrOptions === 'string' ? { token: tokenOrOptions } : tokenOrOptions;
    const id = options.token === undefined ? this.nextBotId++ : Number(options.token.split(':')[0]);
    const token = options.token ?? `${id}:AA${randomBytes(33).toString('base64url').slice(0, 33)}`;
    if (!TOKEN_SHAPE.test(token)) throw new Error(`fake-telegram: "${token}" is not shaped like a bot token`);
    if (this.botsByToken.has(token)) throw new Error('fake-telegram: a bot with this token already exists');
    const bot = new FakeBot(this, {
      id,
      token,
      username: options.username ?? `warden_test_${this.botsByToken.size + 1}_bot`,
      firstName: options.firstName ?? 'Warden Test',
      privacyMode: options.privacyMode ?? true,
    });
    this.botsByToken.set(token, bot);
    return bot;
  }

  createUser(info: { first_name: string; last_name?: string; username?: string; language_code?: string }): TgUser {
    const user: TgUser = { id: this.nextUserId++, is_bot: false, ...info };
    this.users.set(user.id, user);
    return user;
  }

  createGroup(options: CreateGroupOptions): TgChat {
    const type = options.isForum === true ? 'supergroup' : (options.type ?? 'supergroup');
    const serial = this.nextGroupId++;
    // Supergroup ids look like -100xxxxxxxxxx, basic group ids like -4xxxxxxxxx.
    const id = type === 'supergroup' ? -(1_002_000_000_000 + serial) : -(4_000_000_000 + serial);
    const chat: TgChat = {
      id,
      type,
      title: options.title,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.isForum === true ? { is_forum: true as const } : {}),
    };
    const bots = options.bots ?? [this.bot];
    const group: GroupState = {
      chat,
      members: new Set((options.members ?? []).map((member) => member.id)),
      botStatus: new Map(bots.map((bot) => [bot.id, options.botsAreAdmins === true ? 'administrator' : 'member'])),
      topics: new Map(),
    };
    this.groups.set(id, group);
    // A bot in a group can address its members (it has met them), though not DM them unasked.
    for (const bot of bots) for (const member of options.members ?? []) bot.meet(member);
    return chat;
  }

  /** Creates a topic in a forum supergroup and returns its message_thread_id. */
  createForumTopic(chat: TgChat, name: string): number {
    const group = this.requireGroup(chat);
    if (group.chat.is_forum !== true) throw new Error(`fake-telegram: "${chat.title}" is not a forum`);
    const threadId = 1000 + group.topics.size * 7 + 3;
    group.topics.set(threadId, name);
    return threadId;
  }

  addMember(chat: TgChat, user: TgUser): void {
    const group = this.requireGroup(chat);
    group.members.add(user.id);
    for (const [botId] of group.botStatus) this.botById(botId)?.meet(user);
  }

  /** E.g. 'kicked' to simulate the bot being removed from a group. */
  setBotStatus(chat: TgChat, status: 'member' | 'administrator' | 'left' | 'kicked', bot: FakeBot = this.bot): void {
    this.requireGroup(chat).botStatus.set(bot.id, status);
  }

  blockBot(user: TgUser, bot: FakeBot = this.bot): void {
    bot.setBlocked(user, true);
  }

  unblockBot(user: TgUser, bot: FakeBot = this.bot): void {
    bot.setBlocked(user, false);
  }

  resolveChatId(raw: string): number | undefined {
    if (raw.startsWith('@')) {
      const name = raw.slice(1).toLowerCase();
      // Only public groups/channels resolve by username; users never do.
      return [...this.groups.values()].find((group) => group.chat.username?.toLowerCase() === name)?.chat.id;
    }
    return /^-?\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
  }

  private requireGroup(chat: TgChat): GroupState {
    const group = this.groups.get(chat.id);
    if (group === undefined) throw new Error(`fake-telegram: unknown group ${chat.id}`);
    return group;
  }

  private botById(id: number): FakeBot | undefined {
    return [...this.botsByToken.values()].find((bot) => bot.id === id);
  }

  // -------------------------------------------------------------------------------------------
  // Shortcuts for the default bot

  userSends(user: TgUser, text: string, options?: UserSendOptions): UserSent {
    return this.bot.userSends(user, text, options);
  }

  userSendsPhoto(user: TgUser, bytes: Buffer, options?: UserMediaOptions): UserSent {
    return this.bot.userSendsPhoto(user, bytes, options);
  }

  userSendsDocument(user: TgUser, bytes: Buffer, fileName: string, options?: UserDocumentOptions): UserSent {
    return this.bot.userSendsDocument(user, bytes, fileName, options);
  }

  clickButton(user: TgUser, message: FakeMessage | MessageRef, button: string): Promise<ButtonClick> {
    return this.bot.clickButton(user, message, button);
  }

  messagesIn(chatId: number): FakeMessage[] {
    return this.bot.messagesIn(chatId);
  }

  waitForMessage(
    chatId: number,
    predicate?: (message: FakeMessage) => boolean,
    options?: WaitOptions & { onlyNew?: boolean; includeUserMessages?: boolean },
  ): Promise<FakeMessage> {
    return this.bot.waitForMessage(chatId, predicate, options);
  }

  fileBytes(fileId: string): Buffer {
    for (const bot of this.botsByToken.values()) {
      const file = bot.file(fileId);
      if (file !== undefined) return file.bytes;
    }
    throw new Error(`fake-telegram: no file ${fileId}`);
  }

  // -------------------------------------------------------------------------------------------
  // Observation

  /** Every Bot API call so far, all bots, in arrival order. */
  get calls(): readonly ApiCall[] {
    return this.callLog;
  }

  callsTo(method: string, bot?: FakeBot): ApiCall[] {
    const lower = method.toLowerCase();
    return this.callLog.filter((call) => call.method.toLowerCase() === lower && (bot === undefined || call.botId === bot.id));
  }

  recordCall(call: ApiCall): void {
    this.callLog.push(call);
  }

  /** Re-evaluates `probe` whenever the fake's state changes; resolves with its first truthy value. */
  waitFor<T>(probe: () => T | undefined | null | false, options: WaitOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          let value: T | undefined | null | false;
          try {
            value = probe();
          } catch (error) {
            finish();
            reject(error as Error);
            return true;
          }
          if (value === undefined || value === null || value === false) return false;
          finish();
          resolve(value);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const recent = this.callLog
          .slice(-8)
          .map((call) => `${call.method} -> ${call.httpStatus}${call.description === undefined ? '' : ` ${call.description}`}`)
          .join('; ');
        reject(new Error(`fake-telegram: timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}; last calls: ${recent || 'none'}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  /** Waits for a completed Bot API call to `method` (any bot) that satisfies `predicate`. */
  waitForCall(method: string, predicate: (call: ApiCall) => boolean = () => true, options: WaitOptions = {}): Promise<ApiCall> {
    const lower = method.toLowerCase();
    return this.waitFor(
      () => this.callLog.find((call) => call.method.toLowerCase() === lower && call.httpStatus !== 0 && predicate(call)),
      { description: `a ${method} call`, ...options },
    );
  }

  changed(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  // -------------------------------------------------------------------------------------------
  // Fault injection

  /**
   * The next `times` calls of `method` ('*' for any) fail with `fault` instead of being
   * processed; with `afterEffect` the call takes effect and only its answer is replaced (a
   * message delivered whose response got lost).
   */
  failNext(method: string, fault: Fault, times = 1, bot?: FakeBot): void {
    this.faults.push({ method: method.toLowerCase(), fault, remaining: times, ...(bot === undefined ? {} : { botId: bot.id }) });
  }

  /** Drops every fault still queued by failNext() and every delay: the service is healthy again. */
  clearFaults(): void {
    this.faults = [];
    this.delays.clear();
  }

  /** Delays every answer (or those of one method) by `ms`; 0 removes the delay. */
  setDelay(ms: number, method = '*'): void {
    if (ms <= 0) this.delays.delete(method.toLowerCase());
    else this.delays.set(method.toLowerCase(), ms);
  }

  /** Drops every open connection, long polls included, as a network blip would. */
  disconnectAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private takeFault(bot: FakeBot, method: string): Fault | undefined {
    const lower = method.toLowerCase();
    const pending = this.faults.find(
      (fault) => (fault.method === '*' || fault.method === lower) && (fault.botId === undefined || fault.botId === bot.id),
    );
    if (pending === undefined) return undefined;
    pending.remaining--;
    if (pending.remaining <= 0) this.faults = this.faults.filter((fault) => fault !== pending);
    return pending.fault;
  }

  private respondWithFault(request: http.IncomingMessage, response: http.ServerResponse, fault: Fault, call: ApiCall): void {
    call.injected = true;
    if ('network' in fault) {
      call.httpStatus = 0;
      call.description = 'connection closed by fault injection';
      request.socket.destroy();
      this.changed();
      return;
    }
    const code = fault.code;
    call.httpStatus = code;
    call.errorCode = code;
    if (code === 429) {
      const retryAfter = 'retryAfter' in fault && fault.retryAfter !== undefined ? fault.retryAfter : 1;
      call.description = `Too Many Requests: retry after ${retryAfter}`;
      this.sendJson(response, 429, { ok: false, error_code: 429, description: call.description, parameters: { retry_after: retryAfter } });
    } else if (PROXY_PAGES[code] !== undefined) {
      call.description = `${code} ${PROXY_PAGES[code]}`;
      const page = `<html>\r\n<head><title>${call.description}</title></head>\r\n<body>\r\n<center><h1>${call.description}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n`;
      response.writeHead(code, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      response.end(page);
    } else {
      call.description = 'description' in fault ? fault.description : 'Internal Server Error';
      this.sendJson(response, code, { ok: false, error_code: code, description: call.description });
    }
    this.changed();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private sendJson(response: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  /** Answers and logs a request refused before reaching a bot (unknown token or method). */
  private reject(response: http.ServerResponse, botId: number, method: string, status: number, description: string): void {
    this.recordCall({
      botId,
      method,
      params: {},
      httpStatus: status,
      ok: false,
      errorCode: status,
      description,
      at: Date.now(),
      viaWebhookReply: false,
      injected: false,
    });
    this.sendJson(response, status, { ok: false, error_code: status, description });
    this.changed();
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const aborted = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) aborted.abort();
    });
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');

    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download !== null) {
      const file = this.botsByToken.get(decodeURIComponent(download[1]!))?.fileByPath(decodeURIComponent(download[2]!));
      if (file === undefined) return this.sendJson(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
      response.writeHead(200, { 'content-type': file.mimeType ?? 'application/octet-stream', 'content-length': file.bytes.length });
      response.end(file.bytes);
      return;
    }

    const route = /^\/bot([^/]*)\/([^/]*)$/.exec(url.pathname);
    const token = route === null ? undefined : decodeURIComponent(route[1]!);
    const bot = token === undefined ? undefined : this.botsByToken.get(token);
    const methodName = route === null ? url.pathname : decodeURIComponent(route[2]!);
    if (route === null || token === undefined || bot === undefined) {
      request.resume();
      // A well-formed token that no bot has is "Unauthorized"; anything else is "Not Found".
      const unauthorized = token !== undefined && TOKEN_SHAPE.test(token);
      return this.reject(response, 0, methodName, unauthorized ? 401 : 404, unauthorized ? 'Unauthorized' : 'Not Found');
    }

    const method = bot.resolveMethod(methodName);
    if (method === undefined) {
      request.resume();
      if (BOT_API_METHODS_NOT_MODELLED.has(methodName.toLowerCase())) {
        // A real method the fake does not model: fail loudly rather than pretend.
        return this.reject(response, bot.id, methodName, 501, `Not Implemented: fake-telegram does not model ${methodName}`);
      }
      return this.reject(response, bot.id, methodName, 404, 'Not Found');
    }

    let params;
    try {
      params = await readApiParams(request, url.searchParams, this.options.maxUploadBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        response.setHeader('connection', 'close');
        return this.sendJson(response, 413, { ok: false, error_code: 413, description: 'Request Entity Too Large' });
      }
      if (error instanceof MalformedBodyError) {
        return this.sendJson(response, 400, { ok: false, error_code: 400, description: `Bad Request: ${error.message}` });
      }
      throw error;
    }

    const delay = this.delays.get(method.toLowerCase()) ?? this.delays.get('*') ?? 0;
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        // A dropped connection or a stopped fake ends the wait: a long delay must not keep the
        // test process alive after stop().
        const timer = setTimeout(resolve, delay);
        aborted.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
    if (this.stopped || aborted.signal.aborted) return;

    const fault = this.takeFault(bot, method);
    if (fault !== undefined && fault.afterEffect !== true) {
      const call: ApiCall = {
        botId: bot.id,
        method,
        params: params.summary(),
        httpStatus: 0,
        ok: false,
        at: Date.now(),
        viaWebhookReply: false,
        injected: true,
      };
      this.recordCall(call);
      return this.respondWithFault(request, response, fault, call);
    }

    const outcome = await bot.invoke(method, params, { signal: aborted.signal, viaWebhookReply: false });
    if (aborted.signal.aborted || this.stopped) return;
    if (fault !== undefined) return this.respondWithFault(request, response, fault, outcome.call);
    this.sendJson(response, outcome.status, outcome.body);
  }
}
