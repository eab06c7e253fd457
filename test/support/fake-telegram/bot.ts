// One bot account inside the fake Telegram: its chats and messages, update queue (long
// polling or webhook delivery), callback queries, commands and files, and the Bot API
// methods that act on them. Methods validate like the real server and answer with its error
// texts; test helpers (userSends, clickButton, ...) play the human side.

import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';
import {
  badRequest, BotApiError, conflict, forbidden, TEXT, tooManyRequests,
} from './errors.js';
import { commandEntities, formatText, type FormattedText } from './formatting.js';
import { flattenButtons, parseInlineMarkupForEdit, parseReplyMarkup } from './keyboard.js';
import { hasValidPhotoDimensions, mimeTypeFor, sniffImage } from './media.js';
import { FloodControl, type RateLimits } from './rate-limit.js';
import { ApiParams } from './request.js';
import type {
  ApiCall, BotCommand, CallbackAnswer, FakeMessage, InlineKeyboardButton, InlineKeyboardMarkup,
  MessageEntity, StoredFile, TgCallbackQuery, TgChat, TgMessage, TgUpdate, TgUser, UpdateKind,
  UploadedFile,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// What a bot needs from the surrounding fake

export interface ResolvedOptions {
  rateLimits: RateLimits | false;
  callbackQueryTtlMs: number;
  conflictRepeatDelayMs: number;
  webhookRetryDelayMs: number;
  webhookTimeoutMs: number;
  maxUploadBytes: number;
}

export type BotChatStatus = 'member' | 'administrator' | 'left' | 'kicked';

export interface GroupState {
  chat: TgChat;
  members: Set<number>;
  botStatus: Map<number, BotChatStatus>;
  topics: Map<number, string>;
}

export interface World {
  readonly options: ResolvedOptions;
  readonly users: ReadonlyMap<number, TgUser>;
  readonly groups: ReadonlyMap<number, GroupState>;
  resolveChatId(raw: string): number | undefined;
  recordCall(call: ApiCall): void;
  changed(): void;
  waitFor<T>(probe: () => T | undefined | null | false, options?: WaitOptions): Promise<T>;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Says what was awaited, for the timeout error. */
  description?: string;
}

// ---------------------------------------------------------------------------------------------
// Helper types

/** A successful result that also carries a `description`, as setWebhook answers do. */
class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

/** The HTTP client went away before the answer (an aborted long poll). */
export class ClientGoneError extends Error {}

export interface CallContext {
  signal: AbortSignal;
  viaWebhookReply: boolean;
}

export interface InvokeOutcome {
  status: number;
  body: Record<string, unknown>;
  call: ApiCall;
}

interface LongPoll {
  resolve: (updates: TgUpdate[]) => void;
  reject: (error: Error) => void;
  limit: number;
  timer: NodeJS.Timeout;
}

interface Webhook {
  url: string;
  secretToken: string;
  maxConnections: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

interface PendingCallback {
  createdAt: number;
  answer?: CallbackAnswer;
  expired: boolean;
  resolve: (answer: CallbackAnswer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface ChatLog {
  nextMessageId: number;
  messages: Map<number, FakeMessage>;
}

interface WritableChat {
  chat: TgChat;
  group?: GroupState;
}

export interface UserSendOptions {
  /** Group chat (or its id) to write in; the user's private chat with the bot by default. */
  chat?: TgChat | number;
  /** Forum topic to write in. */
  threadId?: number;
  /** Message being replied to. */
  replyTo?: FakeMessage;
}

export interface UserMediaOptions extends UserSendOptions {
  /** Up to 1024 characters, as Telegram's apps allow; /commands in it get bot_command entities. */
  caption?: string;
}

export interface UserDocumentOptions extends UserMediaOptions {
  /** The MIME type Telegram reports; guessed from the file name by default. */
  mimeType?: string;
}

export interface UserSent {
  message: FakeMessage;
  /** The update the bot receives, or null when Telegram would not deliver it (privacy mode, allowed_updates). */
  update: TgUpdate | null;
}

export interface ButtonClick {
  callbackQueryId: string;
  update: TgUpdate | null;
  /** Resolves with the bot's answerCallbackQuery; rejects once the query has expired unanswered. */
  answer: Promise<CallbackAnswer>;
}

export interface MessageRef {
  chatId: number;
  messageId: number;
}

export interface BotOptions {
  id: number;
  token: string;
  username: string;
  firstName: string;
  /** Telegram's default: in groups the bot sees only commands, replies to it and mentions of it. */
  privacyMode: boolean;
}

const ALL_UPDATE_KINDS = [
  'message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_connection',
  'business_message', 'edited_business_message', 'deleted_business_messages', 'message_reaction',
  'message_reaction_count', 'inline_query', 'chosen_inline_result', 'callback_query', 'shipping_query',
  'pre_checkout_query', 'purchased_paid_media', 'poll', 'poll_answer', 'my_chat_member', 'chat_member',
  'chat_join_request', 'chat_boost', 'removed_chat_boost',
];
// An empty allowed_updates list means "all except these", per the Bot API docs.
const NOT_DEFAULT_UPDATE_KINDS = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
const DEFAULT_UPDATE_KINDS = ALL_UPDATE_KINDS.filter((kind) => !NOT_DEFAULT_UPDATE_KINDS.has(kind));

const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);

const COMMAND_SCOPES = new Set([
  'default', 'all_private_chats', 'all_group_chats', 'all_chat_administrators', 'chat',
  'chat_administrators', 'chat_member',
]);

// Telegram keeps photos in sizes whose long side is at most these many pixels.
const PHOTO_SIZE_LIMITS = [90, 320, 800, 1280, 2560];
// Bots may download files of up to 20 MB with getFile.
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const LONG_POLL_MAX_TIMEOUT_SECONDS = 50;
// tdlib answers a woken long poll after a millisecond so updates arriving together batch up.
const LONG_POLL_WAIT_AFTER_MS = 2;

/** The largest size Telegram keeps of a picture: its own, or scaled to 2560 px on the long side. */
const largestPhotoSize = ({ width, height }: { width: number; height: number }): { width: number; height: number } => {
  const scale = Math.min(1, PHOTO_SIZE_LIMITS.at(-1)! / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
};

const unixNow = () => Math.floor(Date.now() / 1000);
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
const randomToken = (bytes: number) => randomBytes(bytes).toString('base64url');
const deepEqual = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const setMarkup = (message: FakeMessage, markup: InlineKeyboardMarkup | undefined): void => {
  if (markup === undefined) delete message.replyMarkup;
  else message.replyMarkup = markup;
};

export const isLoopbackHost = (host: string): boolean => {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
};

/** Fetches a loopback URL (only those: tests must not reach the internet). */
function fetchLoopback(url: URL, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, path: url.pathname + url.search, agent: false, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve((response.statusCode ?? 500) < 300 ? Buffer.concat(chunks) : null));
        response.on('error', () => resolve(null));
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

// ---------------------------------------------------------------------------------------------

export class FakeBot {
  readonly id: number;
  readonly token: string;
  readonly user: TgUser;
  private readonly privacyMode: boolean;

  private readonly started = new Set<number>();
  private readonly blockedBy = new Set<number>();
  /** Users whose chats the bot can address ("known" to its account, e.g. via a shared group). */
  private readonly known = new Set<number>();
  private readonly chatLogs = new Map<number, ChatLog>();

  private queue: TgUpdate[] = [];
  private nextUpdateId = 1;
  private allowedUpdates = new Set(DEFAULT_UPDATE_KINDS);
  private longPoll: LongPoll | undefined;
  private nextConflictAt = 0;

  private webhook: Webhook | undefined;
  private lastSetWebhookAt = -Infinity;
  private delivering = false;
  private readonly inFlightDeliveries = new Set<http.ClientRequest>();

  private readonly callbackQueries = new Map<string, PendingCallback>();
  private readonly commands = new Map<string, BotCommand[]>();
  private readonly files = new Map<string, StoredFile>();
  private readonly photoThumbnails = new Map<string, StoredFile[]>();
  private readonly flood: FloodControl;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private readonly handlers: Record<string, (params: ApiParams, context: CallContext) => unknown>;

  constructor(
    private readonly world: World,
    options: BotOptions,
  ) {
    this.id = options.id;
    this.token = options.token;
    this.privacyMode = options.privacyMode;
    this.user = { id: options.id, is_bot: true, first_name: options.firstName, username: options.username };
    this.flood = new FloodControl(world.options.rateLimits);
    this.handlers = {
      getMe: () => this.getMe(),
      getUpdates: (p, c) => this.getUpdates(p, c),
      setWebhook: (p) => this.setWebhook(p),
      deleteWebhook: (p) => this.deleteWebhook(p),
      getWebhookInfo: () => this.getWebhookInfo(),
      sendMessage: (p) => this.sendMessage(p),
      sendPhoto: (p) => this.sendMedia('photo', p),
      sendDocument: (p) => this.sendMedia('document', p),
      copyMessage: (p) => this.copyMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      editMessageCaption: (p) => this.editMessageCaption(p),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
      deleteMessage: (p) => this.deleteMessage(p),
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      sendChatAction: (p) => this.sendChatAction(p),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: (p) => this.getMyCommands(p),
      deleteMyCommands: (p) => this.deleteMyCommands(p),
      getChat: (p) => this.getChat(p),
      getFile: (p) => this.getFile(p),
    };
  }

  get username(): string {
    return this.user.username ?? '';
  }

  /** Canonical method name for a case-insensitive lookup (the Bot API ignores case). */
  resolveMethod(name: string): string | undefined {
    const lower = name.toLowerCase();
    return Object.keys(this.handlers).find((method) => method.toLowerCase() === lower);
  }

  // -------------------------------------------------------------------------------------------
  // Dispatch

  async invoke(method: string, params: ApiParams, context: CallContext): Promise<InvokeOutcome> {
    const call: ApiCall = {
      botId: this.id,
      method,
      params: params.summary(),
      httpStatus: 0,
      ok: false,
      at: Date.now(),
      viaWebhookReply: context.viaWebhookReply,
      injected: false,
    };
    this.world.recordCall(call);
    let status: number;
    let body: Record<string, unknown>;
    try {
      const handler = this.handlers[method];
      if (handler === undefined) throw new BotApiError(404, 'Not Found');
      const value = await handler(params, context);
      const { result, description } = value instanceof Described ? value : { result: value, description: undefined };
      status = 200;
      body = { ok: true, result, ...(description === undefined ? {} : { description }) };
      call.ok = true;
      call.result = result;
    } catch (error) {
      if (error instanceof ClientGoneError) {
        status = 499;
        body = {};
        call.description = 'client closed the connection before the answer';
      } else if (error instanceof BotApiError) {
        status = error.code;
        body = {
          ok: false,
          error_code: error.code,
          description: error.description,
          ...(error.parameters === undefined ? {} : { parameters: error.parameters }),
        };
        call.errorCode = error.code;
        call.description = error.description;
      } else {
        // A bug in the fake must fail loudly, not look like a Telegram answer.
        status = 500;
        const description = `Internal Server Error: fake-telegram failed: ${(error as Error).stack ?? String(error)}`;
        body = { ok: false, error_code: 500, description };
        call.errorCode = 500;
        call.description = description;
      }
    }
    call.httpStatus = status;
    this.world.changed();
    return { status, body, call };
  }

  // -------------------------------------------------------------------------------------------
  // Updates: queue, long polling, webhook

  private enqueue(kind: UpdateKind, payload: NonNullable<TgUpdate[UpdateKind]>): TgUpdate | null {
    // Updates of kinds outside allowed_updates are never created, as on Telegram.
    if (!this.allowedUpdates.has(kind)) return null;
    const update = { update_id: this.nextUpdateId++, [kind]: structuredClone(payload) } as TgUpdate;
    this.queue.push(update);
    const poll = this.longPoll;
    if (poll !== undefined) this.later(LONG_POLL_WAIT_AFTER_MS, () => this.finishLongPoll(poll));
    void this.pumpWebhook();
    this.world.changed();
    return update;
  }

  private applyAllowedUpdates(raw: string | undefined): void {
    if (raw === undefined || raw === '') return;
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    const kinds = list.filter((kind): kind is string => typeof kind === 'string' && ALL_UPDATE_KINDS.includes(kind));
    this.allowedUpdates = new Set(kinds.length === 0 ? DEFAULT_UPDATE_KINDS : kinds);
  }

  /** Answers a 409 now, or 3 s later when another 409 went out recently (tdlib's throttle). */
  private failWithConflict(reject: (error: Error) => void, text: string): void {
    const error = conflict(text);
    const now = Date.now();
    if (now >= this.nextConflictAt) {
      this.nextConflictAt = now + this.world.options.conflictRepeatDelayMs;
      reject(error);
    } else {
      this.later(this.world.options.conflictRepeatDelayMs, () => reject(error), false);
    }
  }

  private getUpdates(params: ApiParams, context: CallContext): TgUpdate[] | Promise<TgUpdate[]> {
    if (this.webhook !== undefined) {
      return new Promise((_, reject) => this.failWithConflict(reject, TEXT.conflictWebhookActive));
    }
    const offset = params.int('offset', 0);
    const limit = clamp(params.int('limit', 100), 1, 100);
    const timeout = clamp(params.int('timeout', 0), 0, LONG_POLL_MAX_TIMEOUT_SECONDS);
    this.applyAllowedUpdates(params.str('allowed_updates'));
    // An offset confirms every earlier update; a negative one keeps only the last -offset.
    if (offset > 0) this.queue = this.queue.filter((update) => update.update_id >= offset);
    if (offset < 0) this.queue = this.queue.slice(offset);
    this.world.changed();

    const ready = this.queue.slice(0, limit);
    if (ready.length > 0 || timeout === 0) return ready;

    // A new long poll terminates the pending one: the *older* request gets the 409.
    const previous = this.longPoll;
    if (previous !== undefined) {
      this.longPoll = undefined;
      clearTimeout(previous.timer);
      this.failWithConflict(previous.reject, TEXT.conflictOtherGetUpdates);
    }
    return new Promise<TgUpdate[]>((resolve, reject) => {
      const poll: LongPoll = {
        resolve,
        reject,
        limit,
        timer: setTimeout(() => this.finishLongPoll(poll), timeout * 1000),
      };
      this.longPoll = poll;
      context.signal.addEventListener(
        'abort',
        () => {
          if (this.longPoll === poll) {
            this.longPoll = undefined;
            clearTimeout(poll.timer);
          }
          reject(new ClientGoneError());
        },
        { once: true },
      );
      this.world.changed();
    });
  }

  private finishLongPoll(poll: LongPoll): void {
    if (this.longPoll !== poll) return;
    this.longPoll = undefined;
    clearTimeout(poll.timer);
    poll.resolve(this.queue.slice(0, poll.limit));
  }

  private setWebhook(params: ApiParams): Described {
    const rawUrl = params.str('url') ?? '';
    if (rawUrl === '') return this.deleteWebhook(params);
    const now = Date.now();
    // tdlib allows one setWebhook with a URL per second.
    if (now < this.lastSetWebhookAt + 1000) throw tooManyRequests(1);
    this.lastSetWebhookAt = now;

    const secretToken = params.str('secret_token') ?? '';
    const maxConnections = clamp(params.int('max_connections', 40), 1, 100);
    const dropPending = params.bool('drop_pending_updates');
    const hook = this.webhook;
    if (hook?.url === rawUrl && hook.secretToken === secretToken && hook.maxConnections === maxConnections && !dropPending) {
      this.applyAllowedUpdates(params.str('allowed_updates'));
      return new Described(true, 'Webhook is already set');
    }
    if (dropPending) this.queue = [];

    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl) ? rawUrl : `https://${rawUrl}`);
    } catch {
      throw badRequest(TEXT.invalidWebhookUrl);
    }
    if (secretToken.length > 256) throw badRequest(TEXT.secretTokenTooLong);
    if (!/^[A-Za-z0-9_-]*$/.test(secretToken)) throw badRequest(TEXT.secretTokenChars);
    if (url.protocol !== 'https:') throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    // Telegram also limits webhook ports to 80/88/443/8443; tests listen on random loopback ports.
    if (!isLoopbackHost(url.hostname)) {
      throw badRequest('bad webhook: the fake Telegram delivers webhooks to loopback addresses only');
    }

    const poll = this.longPoll;
    if (poll !== undefined) {
      this.longPoll = undefined;
      clearTimeout(poll.timer);
      this.failWithConflict(poll.reject, TEXT.conflictSetWebhook);
    }
    this.webhook = { url: url.href, secretToken, maxConnections };
    this.applyAllowedUpdates(params.str('allowed_updates'));
    void this.pumpWebhook();
    return new Described(true, 'Webhook was set');
  }

  private deleteWebhook(params: ApiParams): Described {
    if (params.bool('drop_pending_updates')) this.queue = [];
    if (this.webhook === undefined) return new Described(true, 'Webhook is already deleted');
    this.webhook = undefined;
    return new Described(true, 'Webhook was deleted');
  }

  private getWebhookInfo(): Record<string, unknown> {
    const hook = this.webhook;
    const info: Record<string, unknown> = {
      url: hook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.queue.length,
    };
    if (hook !== undefined) {
      info.max_connections = hook.maxConnections;
      info.ip_address = '127.0.0.1';
      if (hook.lastErrorDate !== undefined) {
        info.last_error_date = hook.lastErrorDate;
        info.last_error_message = hook.lastErrorMessage;
      }
      if (this.allowedUpdates.size !== DEFAULT_UPDATE_KINDS.length) info.allowed_updates = [...this.allowedUpdates];
    }
    return info;
  }

  /** Delivers queued updates to the webhook one at a time, in order, retrying until 2xx. */
  private async pumpWebhook(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (!this.stopped && this.webhook !== undefined && this.queue.length > 0) {
        const hook = this.webhook;
        const update = this.queue[0]!;
        const outcome = await this.deliver(hook, update);
        if (this.stopped) return;
        if (outcome.ok) {
          if (this.queue[0] === update) this.queue.shift();
          this.world.changed();
          if (outcome.reply !== undefined) await this.executeWebhookReply(outcome.reply);
        } else {
          hook.lastErrorDate = unixNow();
          hook.lastErrorMessage = outcome.error;
          this.world.changed();
          await new Promise<void>((resolve) => this.later(this.world.options.webhookRetryDelayMs, resolve));
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private deliver(
    hook: Webhook,
    update: TgUpdate,
  ): Promise<{ ok: true; reply?: { contentType: string; body: Buffer } } | { ok: false; error: string }> {
    // https URLs are delivered over plain HTTP, as if a TLS-terminating proxy sat in front of
    // the bot: tests have no certificates, and Telegram insists on https.
    const target = new URL(hook.url);
    const body = Buffer.from(JSON.stringify(update));
    return new Promise((resolve) => {
      const request = http.request(
        {
          host: target.hostname.replace(/^\[|\]$/g, ''),
          port: target.port === '' ? 443 : Number(target.port),
          path: target.pathname + target.search,
          method: 'POST',
          agent: false,
          timeout: this.world.options.webhookTimeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            ...(hook.secretToken === '' ? {} : { 'x-telegram-bot-api-secret-token': hook.secretToken }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            this.inFlightDeliveries.delete(request);
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              const replyBody = Buffer.concat(chunks);
              resolve({
                ok: true,
                ...(replyBody.length > 0 ? { reply: { contentType: response.headers['content-type'] ?? '', body: replyBody } } : {}),
              });
            } else {
              resolve({ ok: false, error: `Wrong response from the webhook: ${status} ${response.statusMessage ?? ''}`.trim() });
            }
          });
          response.on('error', () => resolve({ ok: false, error: 'Connection reset by peer' }));
        },
      );
      this.inFlightDeliveries.add(request);
      request.on('timeout', () => request.destroy(new Error('Read timeout expired')));
      request.on('error', (error: NodeJS.ErrnoException) => {
        this.inFlightDeliveries.delete(request);
        resolve({ ok: false, error: error.code === 'ECONNREFUSED' ? 'Connection refused' : error.message });
      });
      request.end(body);
    });
  }

  /** A webhook response may carry one method call, which Telegram executes without answering. */
  private async executeWebhookReply(reply: { contentType: string; body: Buffer }): Promise<void> {
    let params: ApiParams;
    let method: string | undefined;
    if (reply.contentType.startsWith('application/json')) {
      let payload: unknown;
      try {
        payload = JSON.parse(reply.body.toString('utf8'));
      } catch {
        return;
      }
      if (typeof payload !== 'object' || payload === null) return;
      const { method: name, ...rest } = payload as Record<string, unknown>;
      if (typeof name !== 'string') return;
      method = name;
      params = ApiParams.fromObject(rest);
    } else if (reply.contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://fake-telegram.invalid/', {
        method: 'POST',
        headers: { 'content-type': reply.contentType },
        body: reply.body,
      }).formData();
      const args: Record<string, unknown> = {};
      const files = new Map<string, UploadedFile>();
      for (const [key, value] of form) {
        if (typeof value === 'string') args[key] = value;
        else files.set(key, { fileName: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
      }
      method = typeof args.method === 'string' ? args.method : undefined;
      delete args.method;
      params = ApiParams.fromObject(args, files);
    } else {
      return;
    }
    const canonical = method === undefined ? undefined : this.resolveMethod(method);
    if (canonical === undefined) return;
    await this.invoke(canonical, params, { signal: new AbortController().signal, viaWebhookReply: true });
  }

  // -------------------------------------------------------------------------------------------
  // Chats and messages

  private chatLog(chatId: number): ChatLog {
    let log = this.chatLogs.get(chatId);
    if (log === undefined) {
      log = { nextMessageId: 1, messages: new Map() };
      this.chatLogs.set(chatId, log);
    }
    return log;
  }

  private privateChat(user: TgUser): TgChat {
    return {
      id: user.id,
      first_name: user.first_name,
      ...(user.last_name === undefined ? {} : { last_name: user.last_name }),
      ...(user.username === undefined ? {} : { username: user.username }),
      type: 'private',
    };
  }

  private chatJson(chatId: number): TgChat {
    const user = this.world.users.get(chatId);
    if (user !== undefined) return this.privateChat(user);
    const group = this.world.groups.get(chatId);
    if (group === undefined) throw new Error(`fake-telegram: unknown chat ${chatId}`);
    return group.chat;
  }

  private groupKind(group: GroupState): string {
    return group.chat.type === 'supergroup' ? 'supergroup' : 'group';
  }

  /**
   * Resolves chat_id like Telegram: missing -> "chat_id is empty"; unknown, or a user the bot
   * never met -> "chat not found"; a user who never pressed Start -> 403 "can't initiate";
   * blocked -> 403; a group the bot left or was removed from -> 403.
   */
  private resolveChat(params: ApiParams, access: 'read' | 'write', field = 'chat_id'): WritableChat {
    const raw = params.str(field);
    if (raw === undefined || raw === '') throw badRequest(TEXT.chatIdEmpty);
    const chatId = this.world.resolveChatId(raw);
    if (chatId === undefined) throw badRequest(TEXT.chatNotFound);
    const user = this.world.users.get(chatId);
    if (user !== undefined) {
      if (!this.known.has(user.id)) throw badRequest(TEXT.chatNotFound);
      if (access === 'write') {
        if (this.blockedBy.has(user.id)) throw forbidden(TEXT.blocked);
        if (!this.started.has(user.id)) throw forbidden(TEXT.cantInitiate);
      }
      return { chat: this.privateChat(user) };
    }
    const group = this.world.groups.get(chatId);
    const status = group?.botStatus.get(this.id);
    if (group === undefined || status === undefined) throw badRequest(TEXT.chatNotFound);
    if (status === 'kicked') throw forbidden(`bot was kicked from the ${this.groupKind(group)} chat`);
    if (status === 'left') throw forbidden(`bot is not a member of the ${this.groupKind(group)} chat`);
    return { chat: group.chat, group };
  }

  private resolveThread(target: WritableChat, params: ApiParams): number | undefined {
    const threadId = params.int('message_thread_id', 0);
    if (threadId === 0 || target.group === undefined) return undefined;
    if (target.group.chat.is_forum === true) {
      if (!target.group.topics.has(threadId)) throw badRequest(TEXT.threadNotFound);
      return threadId;
    }
    // Outside forums a thread is a reply chain rooted at an existing message.
    const root = this.chatLog(target.chat.id).messages.get(threadId);
    if (root === undefined || root.deleted) throw badRequest(TEXT.threadNotFound);
    return threadId;
  }

  private resolveReplyTo(target: WritableChat, params: ApiParams): number | undefined {
    let messageId = params.int('reply_to_message_id', 0);
    let allowWithout = params.bool('allow_sending_without_reply');
    const raw = params.str('reply_parameters');
    if (raw !== undefined && raw !== '') {
      let value: { message_id?: unknown; allow_sending_without_reply?: unknown };
      try {
        value = JSON.parse(raw) as typeof value;
      } catch {
        throw badRequest("can't parse reply parameters JSON object");
      }
      if (value.message_id === undefined) throw badRequest('can\'t find field "message_id"');
      messageId = Number(value.message_id);
      allowWithout = value.allow_sending_without_reply === true;
    }
    if (messageId === 0) return undefined;
    const replied = this.chatLog(target.chat.id).messages.get(messageId);
    if (replied === undefined || replied.deleted) {
      if (allowWithout) return undefined;
      throw badRequest(TEXT.replyNotFound);
    }
    return messageId;
  }

  private admitFlood(chat: TgChat): void {
    const wait = this.flood.admit(chat.id, chat.type !== 'private', Date.now());
    if (wait !== null) throw tooManyRequests(wait);
  }

  private isKnownUser = (id: number): boolean => this.known.has(id) || id === this.id;

  private format(raw: string | undefined, params: ApiParams, kind: 'text' | 'caption'): FormattedText | undefined {
    return formatText({
      raw,
      parseMode: params.str('parse_mode'),
      entities: params.str(kind === 'text' ? 'entities' : 'caption_entities'),
      kind,
      isKnownUser: this.isKnownUser,
    });
  }

  private storeMessage(
    chatId: number,
    content: Omit<FakeMessage, 'chatId' | 'messageId' | 'date' | 'history' | 'deleted' | 'changedAt'>,
  ): FakeMessage {
    const log = this.chatLog(chatId);
    const message: FakeMessage = {
      ...content,
      chatId,
      messageId: log.nextMessageId++,
      date: unixNow(),
      history: [],
      deleted: false,
      changedAt: Date.now(),
    };
    log.messages.set(message.messageId, message);
    this.world.changed();
    return message;
  }

  /** The Message object Telegram would return or deliver for a stored message. */
  messageJson(message: FakeMessage, withReply = true): TgMessage {
    const json: TgMessage = {
      message_id: message.messageId,
      ...(message.threadId === undefined ? {} : { message_thread_id: message.threadId }),
      from: message.from,
      chat: this.chatJson(message.chatId),
      date: message.date,
    };
    const group = this.world.groups.get(message.chatId);
    if (message.threadId !== undefined && group?.chat.is_forum === true) json.is_topic_message = true;
    if (message.editDate !== undefined) json.edit_date = message.editDate;
    if (withReply && message.replyToMessageId !== undefined) {
      const replied = this.chatLog(message.chatId).messages.get(message.replyToMessageId);
      if (replied !== undefined && !replied.deleted) json.reply_to_message = this.messageJson(replied, false);
    }
    if (message.text !== undefined) {
      json.text = message.text;
      if (message.entities.length > 0) json.entities = message.entities;
    }
    if (message.caption !== undefined) {
      json.caption = message.caption;
      if (message.captionEntities.length > 0) json.caption_entities = message.captionEntities;
    }
    const file = message.file;
    if (file !== undefined && message.kind === 'photo') {
      json.photo = [...this.thumbnailsOf(file), file].map((size) => ({
        file_id: size.fileId,
        file_unique_id: size.fileUniqueId,
        file_size: size.bytes.length,
        width: size.width ?? 0,
        height: size.height ?? 0,
      }));
    }
    if (file !== undefined && message.kind === 'document') {
      json.document = {
        file_id: file.fileId,
        file_unique_id: file.fileUniqueId,
        ...(file.fileName === undefined ? {} : { file_name: file.fileName }),
        ...(file.mimeType === undefined ? {} : { mime_type: file.mimeType }),
        file_size: file.bytes.length,
      };
    }
    if (message.replyMarkup !== undefined) json.reply_markup = message.replyMarkup;
    return structuredClone(json);
  }

  private findMessage(chatId: number, params: ApiParams): FakeMessage | undefined {
    const message = this.chatLog(chatId).messages.get(params.int('message_id', 0));
    return message === undefined || message.deleted ? undefined : message;
  }

  private requireMessageId(params: ApiParams): void {
    if (params.str('inline_message_id') !== undefined) {
      throw new BotApiError(501, 'Not Implemented: inline_message_id is not supported by the fake Telegram');
    }
    if (!params.has('message_id')) throw badRequest(TEXT.messageIdMissing);
  }

  /** Keeps the current content in the history, then applies the edit. */
  private recordEdit(message: FakeMessage, apply: (message: FakeMessage) => void): void {
    message.history.push({
      ...(message.text === undefined ? {} : { text: message.text }),
      entities: message.entities,
      ...(message.caption === undefined ? {} : { caption: message.caption }),
      captionEntities: message.captionEntities,
      ...(message.replyMarkup === undefined ? {} : { replyMarkup: message.replyMarkup }),
      replacedAt: Date.now(),
    });
    apply(message);
    message.editDate = unixNow();
    message.changedAt = Date.now();
    this.world.changed();
  }

  // -------------------------------------------------------------------------------------------
  // Bot API methods

  private getMe(): Record<string, unknown> {
    return {
      ...this.user,
      can_join_groups: true,
      can_read_all_group_messages: !this.privacyMode,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    };
  }

  private sendMessage(params: ApiParams): TgMessage {
    const formatted = this.format(params.str('text'), params, 'text')!;
    const markup = parseReplyMarkup(params.str('reply_markup'));
    const target = this.resolveChat(params, 'write');
    const threadId = this.resolveThread(target, params);
    const replyToMessageId = this.resolveReplyTo(target, params);
    this.admitFlood(target.chat);
    const message = this.storeMessage(target.chat.id, {
      fromBot: true,
      from: this.user,
      kind: 'text',
      text: formatted.text,
      entities: formatted.entities,
      captionEntities: [],
      ...(markup.kind === 'inline' ? { replyMarkup: markup.markup } : {}),
      ...(threadId === undefined ? {} : { threadId }),
      ...(replyToMessageId === undefined ? {} : { replyToMessageId }),
    });
    return this.messageJson(message);
  }

  private async sendMedia(kind: 'photo' | 'document', params: ApiParams): Promise<TgMessage> {
    const input = this.inputFile(params, kind);
    if (input === undefined) throw badRequest(kind === 'photo' ? TEXT.noPhoto : TEXT.noDocument);
    const caption = this.format(params.str('caption'), params, 'caption');
    const markup = parseReplyMarkup(params.str('reply_markup'));
    const target = this.resolveChat(params, 'write');
    const threadId = this.resolveThread(target, params);
    const replyToMessageId = this.resolveReplyTo(target, params);
    // Telegram processes the upload before sending, so a rejected file costs no flood budget.
    const file = await this.materialize(input, kind);
    this.admitFlood(target.chat);
    const message = this.storeMessage(target.chat.id, {
      fromBot: true,
      from: this.user,
      kind,
      entities: [],
      ...(caption === undefined ? {} : { caption: caption.text }),
      captionEntities: caption?.entities ?? [],
      file,
      ...(markup.kind === 'inline' ? { replyMarkup: markup.markup } : {}),
      ...(threadId === undefined ? {} : { threadId }),
      ...(replyToMessageId === undefined ? {} : { replyToMessageId }),
    });
    return this.messageJson(message);
  }

  /**
   * copyMessage: a new message with the original's content (text, or the same photo/document
   * file_ids and caption) and no link to it. `caption`, when given (even empty), replaces the
   * caption of a media message. Answers a MessageId, not a Message.
   */
  private copyMessage(params: ApiParams): { message_id: number } {
    const rawFrom = params.str('from_chat_id');
    // Unverified wording: tdlib's get_required_string_arg.
    if (rawFrom === undefined || rawFrom === '') throw badRequest('Parameter "from_chat_id" is required');
    const replaceCaption = params.str('caption') !== undefined;
    const caption = replaceCaption ? this.format(params.str('caption'), params, 'caption') : undefined;
    const markup = parseReplyMarkup(params.str('reply_markup'));
    const target = this.resolveChat(params, 'write');
    const source = this.resolveChat(params, 'read', 'from_chat_id');
    const original = this.findMessage(source.chat.id, params);
    if (original === undefined) throw badRequest(TEXT.messageToCopyNotFound);
    const threadId = this.resolveThread(target, params);
    const replyToMessageId = this.resolveReplyTo(target, params);
    this.admitFlood(target.chat);
    const isMedia = original.kind !== 'text';
    const message = this.storeMessage(target.chat.id, {
      fromBot: true,
      from: this.user,
      kind: original.kind,
      ...(original.text === undefined ? {} : { text: original.text }),
      entities: original.entities,
      ...(isMedia && replaceCaption
        ? { ...(caption === undefined ? {} : { caption: caption.text }), captionEntities: caption?.entities ?? [] }
        : { ...(original.caption === undefined ? {} : { caption: original.caption }), captionEntities: original.captionEntities }),
      ...(original.file === undefined ? {} : { file: original.file }),
      ...(markup.kind === 'inline' ? { replyMarkup: markup.markup } : {}),
      ...(threadId === undefined ? {} : { threadId }),
      ...(replyToMessageId === undefined ? {} : { replyToMessageId }),
    });
    return { message_id: message.messageId };
  }

  private inputFile(
    params: ApiParams,
    field: string,
  ): { upload: UploadedFile } | { url: string } | { fileId: string } | undefined {
    const reference = params.str(field);
    const upload = params.file(field) ?? (reference?.startsWith('attach://') ? params.file(reference.slice(9)) : undefined);
    if (upload !== undefined) return { upload };
    if (reference === undefined || reference === '' || reference.startsWith('attach://')) return undefined;
    if (/^https?:\/\//i.test(reference)) return { url: reference };
    return { fileId: reference };
  }

  private async materialize(
    input: { upload: UploadedFile } | { url: string } | { fileId: string },
    kind: 'photo' | 'document',
  ): Promise<StoredFile> {
    if ('fileId' in input) {
      const stored = this.files.get(input.fileId);
      if (stored === undefined) throw badRequest(TEXT.wrongFileId);
      // Unverified wording: Telegram refuses a file_id of another media type.
      if (stored.kind !== kind) throw badRequest('type of file mismatch');
      return stored;
    }
    let bytes: Buffer;
    let fileName: string;
    if ('url' in input) {
      const url = new URL(input.url);
      const fetched = isLoopbackHost(url.hostname) ? await fetchLoopback(url, this.world.options.webhookTimeoutMs) : null;
      if (fetched === null) throw badRequest(TEXT.urlContentFailed);
      bytes = fetched;
      fileName = url.pathname.split('/').pop() || 'file';
    } else {
      bytes = input.upload.bytes;
      fileName = input.upload.fileName;
    }
    if (bytes.length === 0) throw badRequest(TEXT.fileEmpty);
    let width: number | undefined;
    let height: number | undefined;
    if (kind === 'photo') {
      const image = sniffImage(bytes);
      if (image === null) throw badRequest(TEXT.imageProcessFailed);
      if (!hasValidPhotoDimensions(image)) throw badRequest(TEXT.photoInvalidDimensions);
      ({ width, height } = largestPhotoSize(image));
    }
    return this.storeFile({
      kind,
      bytes,
      fileName,
      ...(kind === 'document' ? { mimeType: mimeTypeFor(fileName) } : {}),
      ...(width === undefined || height === undefined ? {} : { width, height }),
      fromUser: false,
    });
  }

  /** Registers bytes under a new file_id (ids of files from users and from bots differ, as on Telegram). */
  private storeFile(input: {
    kind: 'photo' | 'document';
    bytes: Buffer;
    fileName: string;
    mimeType?: string | undefined;
    width?: number;
    height?: number;
    fromUser: boolean;
  }): StoredFile {
    const serial = this.files.size + 1;
    const extension = /\.([a-z0-9]+)$/i.exec(input.fileName)?.[1] ?? (input.kind === 'photo' ? 'jpg' : 'dat');
    const origin = input.fromUser ? 'AxkBAA' : 'AxkDAA';
    const stored: StoredFile = {
      fileId: `${input.kind === 'photo' ? 'AgACAgIA' : 'BQACAgIA'}${origin}${randomToken(40)}`,
      fileUniqueId: `AQAD${randomToken(9)}`,
      kind: input.kind,
      bytes: input.bytes,
      filePath: `${input.kind === 'photo' ? 'photos' : 'documents'}/file_${serial}.${extension}`,
      ...(input.kind === 'document' ? { fileName: input.fileName } : {}),
      ...(input.kind === 'document' && input.mimeType !== undefined ? { mimeType: input.mimeType } : {}),
      ...(input.width === undefined ? {} : { width: input.width, height: input.height }),
    };
    this.files.set(stored.fileId, stored);
    return stored;
  }

  /**
   * The smaller sizes Telegram keeps of a photo (long side 90, 320, 800, 1280, 2560 px, each
   * below the picture's own), smallest first, made once per photo. The fake does not re-encode:
   * every size carries the original bytes under its own file_id.
   */
  private thumbnailsOf(file: StoredFile): StoredFile[] {
    let thumbnails = this.photoThumbnails.get(file.fileId);
    if (thumbnails !== undefined) return thumbnails;
    const width = file.width ?? 0;
    const height = file.height ?? 0;
    const longSide = Math.max(width, height);
    thumbnails = PHOTO_SIZE_LIMITS.filter((limit) => limit < longSide).map((limit) => {
      const scale = limit / longSide;
      return this.storeFile({
        kind: 'photo',
        bytes: file.bytes,
        fileName: 'thumbnail.jpg',
        width: Math.max(1, Math.round(width * scale)),
        height: Math.max(1, Math.round(height * scale)),
        fromUser: file.fileId.startsWith('AgACAgIAAxkBAA'),
      });
    });
    this.photoThumbnails.set(file.fileId, thumbnails);
    return thumbnails;
  }

  private editMessageText(params: ApiParams): TgMessage {
    const formatted = this.format(params.str('text'), params, 'text')!;
    const markup = parseInlineMarkupForEdit(params.str('reply_markup'));
    this.requireMessageId(params);
    const target = this.resolveChat(params, 'write');
    const message = this.findMessage(target.chat.id, params);
    if (message === undefined) throw badRequest(TEXT.messageToEditNotFound);
    if (!message.fromBot) throw badRequest(TEXT.messageCantBeEdited);
    if (message.kind !== 'text') throw badRequest(TEXT.noTextToEdit);
    if (
      message.text === formatted.text &&
      deepEqual(message.entities, formatted.entities) &&
      deepEqual(message.replyMarkup, markup)
    ) {
      throw badRequest(TEXT.notModified);
    }
    this.admitFlood(target.chat);
    // Omitting reply_markup removes the inline keyboard, as on Telegram.
    this.recordEdit(message, (edited) => {
      edited.text = formatted.text;
      edited.entities = formatted.entities;
      setMarkup(edited, markup);
    });
    return this.messageJson(message);
  }

  private editMessageCaption(params: ApiParams): TgMessage {
    const caption = this.format(params.str('caption'), params, 'caption');
    const markup = parseInlineMarkupForEdit(params.str('reply_markup'));
    this.requireMessageId(params);
    const target = this.resolveChat(params, 'write');
    const message = this.findMessage(target.chat.id, params);
    if (message === undefined) throw badRequest(TEXT.messageToEditNotFound);
    if (!message.fromBot) throw badRequest(TEXT.messageCantBeEdited);
    if (message.kind === 'text') throw badRequest(TEXT.noCaptionToEdit);
    if (
      message.caption === caption?.text &&
      deepEqual(message.captionEntities, caption?.entities ?? []) &&
      deepEqual(message.replyMarkup, markup)
    ) {
      throw badRequest(TEXT.notModified);
    }
    this.admitFlood(target.chat);
    this.recordEdit(message, (edited) => {
      if (caption === undefined) delete edited.caption;
      else edited.caption = caption.text;
      edited.captionEntities = caption?.entities ?? [];
      setMarkup(edited, markup);
    });
    return this.messageJson(message);
  }

  private editMessageReplyMarkup(params: ApiParams): TgMessage {
    const markup = parseInlineMarkupForEdit(params.str('reply_markup'));
    this.requireMessageId(params);
    const target = this.resolveChat(params, 'write');
    const message = this.findMessage(target.chat.id, params);
    if (message === undefined) throw badRequest(TEXT.messageToEditNotFound);
    if (!message.fromBot) throw badRequest(TEXT.messageCantBeEdited);
    if (deepEqual(message.replyMarkup, markup)) throw badRequest(TEXT.notModified);
    this.admitFlood(target.chat);
    this.recordEdit(message, (edited) => setMarkup(edited, markup));
    return this.messageJson(message);
  }

  private deleteMessage(params: ApiParams): boolean {
    const target = this.resolveChat(params, 'write');
    const message = this.findMessage(target.chat.id, params);
    if (message === undefined) throw badRequest(TEXT.messageToDeleteNotFound);
    const isAdmin = target.group?.botStatus.get(this.id) === 'administrator';
    if (!message.fromBot && target.group !== undefined && !isAdmin) throw badRequest(TEXT.messageCantBeDeleted);
    message.deleted = true;
    message.changedAt = Date.now();
    this.world.changed();
    return true;
  }

  private answerCallbackQuery(params: ApiParams): boolean {
    const pending = this.callbackQueries.get(params.str('callback_query_id') ?? '');
    const now = Date.now();
    if (
      pending === undefined ||
      pending.answer !== undefined ||
      pending.expired ||
      now - pending.createdAt > this.world.options.callbackQueryTtlMs
    ) {
      throw badRequest(TEXT.queryTooOld);
    }
    const text = params.str('text');
    if (text !== undefined && [...text].length > 200) throw badRequest(TEXT.callbackAnswerTooLong);
    const url = params.str('url');
    const answer: CallbackAnswer = {
      ...(text === undefined || text === '' ? {} : { text }),
      showAlert: params.bool('show_alert'),
      ...(url === undefined || url === '' ? {} : { url }),
      cacheTime: params.int('cache_time', 0),
      answeredAfterMs: now - pending.createdAt,
    };
    pending.answer = answer;
    clearTimeout(pending.timer);
    this.timers.delete(pending.timer);
    pending.resolve(answer);
    return true;
  }

  private sendChatAction(params: ApiParams): boolean {
    if (!CHAT_ACTIONS.has(params.str('action') ?? '')) throw badRequest(TEXT.wrongChatAction);
    const target = this.resolveChat(params, 'write');
    this.resolveThread(target, params);
    return true;
  }

  private commandsKey(params: ApiParams): string {
    let scope: { type?: unknown; chat_id?: unknown; user_id?: unknown } = { type: 'default' };
    const raw = params.str('scope');
    if (raw !== undefined && raw !== '') {
      try {
        scope = JSON.parse(raw) as typeof scope;
      } catch {
        throw badRequest("can't parse BotCommandScope JSON object");
      }
    }
    if (typeof scope.type !== 'string' || !COMMAND_SCOPES.has(scope.type)) {
      throw badRequest('unsupported bot command scope type specified');
    }
    const language = params.str('language_code') ?? '';
    if (language !== '' && !/^[a-z]{2}$/.test(language)) throw badRequest('invalid language code specified');
    return JSON.stringify([scope.type, scope.chat_id ?? null, scope.user_id ?? null, language]);
  }

  private setMyCommands(params: ApiParams): boolean {
    let list: unknown;
    try {
      list = JSON.parse(params.str('commands') ?? '');
    } catch {
      throw badRequest("can't parse commands JSON object");
    }
    if (!Array.isArray(list)) throw badRequest('field "commands" must be of type Array');
    if (list.length > 100) throw badRequest('too many commands specified');
    const commands = list.map((item): BotCommand => {
      const { command, description } = (item ?? {}) as { command?: unknown; description?: unknown };
      if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof description !== 'string' || description.trim() === '' || [...description].length > 256) {
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
      return { command, description };
    });
    const key = this.commandsKey(params);
    if (commands.length === 0) this.commands.delete(key);
    else this.commands.set(key, commands);
    return true;
  }

  private getMyCommands(params: ApiParams): BotCommand[] {
    return structuredClone(this.commands.get(this.commandsKey(params)) ?? []);
  }

  private deleteMyCommands(params: ApiParams): boolean {
    this.commands.delete(this.commandsKey(params));
    return true;
  }

  private getChat(params: ApiParams): Record<string, unknown> {
    const target = this.resolveChat(params, 'read');
    return { ...target.chat, accent_color_id: 0, max_reaction_count: 11 };
  }

  private getFile(params: ApiParams): Record<string, unknown> {
    const file = this.files.get(params.str('file_id') ?? '');
    if (file === undefined) throw badRequest('invalid file_id');
    if (file.bytes.length > MAX_DOWNLOAD_BYTES) throw badRequest(TEXT.fileTooBig);
    return { file_id: file.fileId, file_unique_id: file.fileUniqueId, file_size: file.bytes.length, file_path: file.filePath };
  }

  // -------------------------------------------------------------------------------------------
  // The human side, for tests

  /** A user writes `text`. In the private chat this means the user started the bot. */
  userSends(user: TgUser, text: string, options: UserSendOptions = {}): UserSent {
    return this.userPosts(user, { kind: 'text', text, entities: commandEntities(text), captionEntities: [] }, options);
  }

  /**
   * A user sends a picture (PNG, JPEG, GIF, WebP or BMP bytes), optionally with a caption and as
   * a reply. Telegram keeps the picture in sizes (90, 320, 800, 1280 and 2560 px on the long
   * side, up to the picture's own): `photo` lists them smallest first, each with its own
   * file_id; the largest is the original. Any of them works with getFile and sendPhoto.
   */
  userSendsPhoto(user: TgUser, bytes: Buffer, options: UserMediaOptions = {}): UserSent {
    const image = sniffImage(bytes);
    if (image === null || !hasValidPhotoDimensions(image)) {
      throw new Error('fake-telegram: these bytes are not a picture Telegram accepts as a photo; send them with userSendsDocument');
    }
    const file = this.storeFile({ kind: 'photo', bytes, fileName: `photo.${image.format}`, ...largestPhotoSize(image), fromUser: true });
    return this.userPosts(user, { kind: 'photo', file, entities: [], ...this.userCaption(options.caption) }, options);
  }

  /** A user sends a file as a document (any bytes), optionally with a caption and as a reply. */
  userSendsDocument(user: TgUser, bytes: Buffer, fileName: string, options: UserDocumentOptions = {}): UserSent {
    if (bytes.length === 0) throw new Error('fake-telegram: Telegram apps do not send empty files');
    const file = this.storeFile({ kind: 'document', bytes, fileName, mimeType: options.mimeType ?? mimeTypeFor(fileName), fromUser: true });
    return this.userPosts(user, { kind: 'document', file, entities: [], ...this.userCaption(options.caption) }, options);
  }

  private userCaption(caption: string | undefined): { caption?: string; captionEntities: MessageEntity[] } {
    if (caption === undefined || caption === '') return { captionEntities: [] };
    if ([...caption].length > 1024) throw new Error('fake-telegram: captions are limited to 1024 characters in Telegram apps');
    return { caption, captionEntities: commandEntities(caption) };
  }

  private userPosts(
    user: TgUser,
    content: Pick<FakeMessage, 'kind' | 'text' | 'entities' | 'caption' | 'captionEntities' | 'file'>,
    options: UserSendOptions,
  ): UserSent {
    const chatId = options.chat === undefined ? user.id : typeof options.chat === 'number' ? options.chat : options.chat.id;
    const group = this.world.groups.get(chatId);
    if (chatId === user.id) {
      // Writing to a bot you blocked means pressing "Restart", which unblocks it.
      if (this.blockedBy.has(user.id)) this.setBlocked(user, false);
      this.started.add(user.id);
    } else {
      if (group === undefined) throw new Error(`fake-telegram: ${user.first_name} cannot write to unknown chat ${chatId}`);
      if (!group.members.has(user.id)) {
        throw new Error(`fake-telegram: ${user.first_name} is not a member of "${group.chat.title ?? chatId}"`);
      }
      if (options.threadId !== undefined && group.chat.is_forum === true && !group.topics.has(options.threadId)) {
        throw new Error(`fake-telegram: no forum topic ${options.threadId} in "${group.chat.title ?? chatId}"`);
      }
    }
    if (options.replyTo !== undefined && (options.replyTo.chatId !== chatId || options.replyTo.deleted)) {
      throw new Error(`fake-telegram: message ${options.replyTo.messageId} is not in chat ${chatId} (or was deleted); it cannot be replied to there`);
    }
    this.known.add(user.id);
    const message = this.storeMessage(chatId, {
      fromBot: false,
      from: user,
      ...content,
      ...(options.threadId === undefined ? {} : { threadId: options.threadId }),
      ...(options.replyTo === undefined ? {} : { replyToMessageId: options.replyTo.messageId }),
    });
    const [visibleText, visibleEntities] =
      content.kind === 'text' ? [content.text ?? '', content.entities] : [content.caption ?? '', content.captionEntities];
    const delivered = group === undefined || this.seesGroupMessage(group, visibleText, visibleEntities, options.replyTo);
    return { message, update: delivered ? this.enqueue('message', this.messageJson(message)) : null };
  }

  private seesGroupMessage(group: GroupState, text: string, entities: MessageEntity[], replyTo?: FakeMessage): boolean {
    const status = group.botStatus.get(this.id);
    if (status !== 'member' && status !== 'administrator') return false;
    if (!this.privacyMode || status === 'administrator') return true;
    const command = entities.find((entity) => entity.type === 'bot_command');
    if (command !== undefined) {
      const addressee = /@(\w+)$/.exec(text.slice(0, command.length))?.[1];
      return addressee === undefined || addressee.toLowerCase() === this.username.toLowerCase();
    }
    if (replyTo?.fromBot === true && replyTo.from.id === this.id) return true;
    return text.toLowerCase().includes(`@${this.username.toLowerCase()}`);
  }

  /**
   * A user presses an inline button: `button` is its callback_data or its text. Only buttons
   * present in the message's *current* keyboard can be pressed.
   */
  async clickButton(user: TgUser, target: FakeMessage | MessageRef, button: string): Promise<ButtonClick> {
    const message = this.chatLog(target.chatId).messages.get(target.messageId);
    if (message === undefined || message.deleted) {
      throw new Error(`fake-telegram: message ${target.messageId} in chat ${target.chatId} does not exist (deleted?)`);
    }
    if (!message.fromBot || message.from.id !== this.id) {
      throw new Error(`fake-telegram: message ${target.messageId} was not sent by @${this.username}`);
    }
    const group = this.world.groups.get(message.chatId);
    const canSee = group === undefined ? message.chatId === user.id : group.members.has(user.id);
    if (!canSee) throw new Error(`fake-telegram: ${user.first_name} cannot see message ${message.messageId}`);

    const buttons = flattenButtons(message.replyMarkup);
    const found: InlineKeyboardButton | undefined =
      buttons.find((candidate) => candidate.callback_data === button) ?? buttons.find((candidate) => candidate.text === button);
    if (found === undefined) {
      const available = buttons.map((b) => (b.callback_data === undefined ? b.text : `${b.text} [${b.callback_data}]`));
      throw new Error(
        `fake-telegram: no button "${button}" in message ${message.messageId}; current buttons: ${available.join(', ') || 'none'}`,
      );
    }
    if (found.callback_data === undefined) {
      throw new Error(`fake-telegram: button "${found.text}" is not a callback button`);
    }

    this.known.add(user.id);
    const callbackQueryId = BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()).toString();
    let resolveAnswer!: (answer: CallbackAnswer) => void;
    let rejectAnswer!: (error: Error) => void;
    const answer = new Promise<CallbackAnswer>((resolve, reject) => {
      resolveAnswer = resolve;
      rejectAnswer = reject;
    });
    // Tests that ignore the answer must not crash on its expiry; awaiting it still rejects.
    answer.catch(() => undefined);
    const ttl = this.world.options.callbackQueryTtlMs;
    const pending: PendingCallback = {
      createdAt: Date.now(),
      expired: false,
      resolve: resolveAnswer,
      reject: rejectAnswer,
      timer: this.later(ttl, () => {
        pending.expired = true;
        rejectAnswer(new Error(`fake-telegram: callback query ${callbackQueryId} ("${found.callback_data}") was not answered within ${ttl} ms`));
        this.world.changed();
      }),
    };
    this.callbackQueries.set(callbackQueryId, pending);

    const query: TgCallbackQuery = {
      id: callbackQueryId,
      from: user,
      message: this.messageJson(message),
      chat_instance: BigInt.asIntN(64, createHash('sha256').update(`${this.id}:${message.chatId}`).digest().readBigUInt64BE()).toString(),
      data: found.callback_data,
    };
    return { callbackQueryId, update: this.enqueue('callback_query', query), answer };
  }

  /** The user blocks (or unblocks) the bot; the bot gets a my_chat_member update as on Telegram. */
  setBlocked(user: TgUser, blocked: boolean): void {
    if (this.blockedBy.has(user.id) === blocked) return;
    if (blocked) this.blockedBy.add(user.id);
    else this.blockedBy.delete(user.id);
    this.known.add(user.id);
    const [oldStatus, newStatus] = blocked ? ['member', 'kicked'] : ['kicked', 'member'];
    this.enqueue('my_chat_member', {
      chat: this.privateChat(user),
      from: user,
      date: unixNow(),
      old_chat_member: { status: oldStatus, user: this.user },
      new_chat_member: { status: newStatus, user: this.user },
    });
  }

  /** Makes a user addressable by the bot without a private chat (e.g. they share a group). */
  meet(user: TgUser): void {
    this.known.add(user.id);
  }

  hasStarted(user: TgUser): boolean {
    return this.started.has(user.id);
  }

  /** The bot's messages in a chat (current content), oldest first, deleted ones left out. */
  messagesIn(chatId: number): FakeMessage[] {
    return this.allMessagesIn(chatId).filter((message) => message.fromBot && !message.deleted);
  }

  /** Every message in a chat, from users too, including deleted ones. */
  allMessagesIn(chatId: number): FakeMessage[] {
    return [...this.chatLog(chatId).messages.values()].sort((a, b) => a.messageId - b.messageId);
  }

  message(chatId: number, messageId: number): FakeMessage | undefined {
    return this.chatLog(chatId).messages.get(messageId);
  }

  /**
   * Waits until a message in the chat satisfies `predicate`. Current messages count unless
   * `onlyNew` is set, in which case only messages sent or edited after the call do.
   */
  waitForMessage(
    chatId: number,
    predicate: (message: FakeMessage) => boolean = () => true,
    options: WaitOptions & { onlyNew?: boolean; includeUserMessages?: boolean } = {},
  ): Promise<FakeMessage> {
    const since = options.onlyNew === true ? Date.now() : -Infinity;
    return this.world.waitFor(
      () =>
        this.allMessagesIn(chatId).find(
          (message) =>
            !message.deleted &&
            (message.fromBot || options.includeUserMessages === true) &&
            message.changedAt >= since &&
            predicate(message),
        ),
      { description: `a message in chat ${chatId} matching ${predicate.toString()}`, ...options },
    );
  }

  /** Updates waiting for getUpdates or webhook delivery. */
  pendingUpdates(): TgUpdate[] {
    return structuredClone(this.queue);
  }

  get isLongPolling(): boolean {
    return this.longPoll !== undefined;
  }

  get webhookUrl(): string | undefined {
    return this.webhook?.url;
  }

  /** Ids of callback queries the bot has not answered, whether still answerable or expired. */
  unansweredCallbackQueries(): string[] {
    return [...this.callbackQueries.entries()].filter(([, query]) => query.answer === undefined).map(([id]) => id);
  }

  commandsFor(scope: Record<string, unknown> = { type: 'default' }, languageCode = ''): BotCommand[] {
    return this.getMyCommands(ApiParams.fromObject({ scope, language_code: languageCode }));
  }

  file(fileId: string): StoredFile | undefined {
    return this.files.get(fileId);
  }

  fileByPath(filePath: string): StoredFile | undefined {
    return [...this.files.values()].find((file) => file.filePath === filePath);
  }

  // -------------------------------------------------------------------------------------------

  /** Timers are unref'd by default so a forgotten fake never keeps the test process alive. */
  private later(ms: number, run: () => void, unref = true): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) run();
    }, ms);
    if (unref) timer.unref();
    this.timers.add(timer);
    return timer;
  }

  shutdown(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.longPoll !== undefined) clearTimeout(this.longPoll.timer);
    this.longPoll = undefined;
    for (const request of this.inFlightDeliveries) request.destroy();
    this.inFlightDeliveries.clear();
  }
}
