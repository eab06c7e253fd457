// A strict stand-in for Discord (REST API v10 and the gateway) on 127.0.0.1, for running the
// real discord.js against. It owns the HTTP server, the "world" (users, DM channels, messages,
// commands, interactions), fault injection, the call log and waiting helpers; the gateway
// protocol lives in gateway.ts and payload rules in validation.ts. Limits, error codes and
// quirks follow discord.com so code that passes here behaves the same there.
//
//   const fake = await FakeDiscord.start();
//   const client = new Client({ intents, partials: [Partials.Channel], rest: { api: fake.restRoot } });
//   await client.login(fake.token);

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DiscordApiError, ERR, FIELD, invalidFormBody } from './errors.js';
import { Gateway, INTENTS } from './gateway.js';
import { BodyTooLargeError, readBody, type ParsedBody, type UploadedFile } from './request.js';
import { botToken, interactionToken, isoTimestamp, Snowflakes } from './snowflake.js';
import type {
  ActionRow,
  ApiCall,
  ApplicationCommand,
  ButtonComponent,
  DiscordUser,
  DmChannel,
  FakeAttachment,
  FakeMessage,
  GatewayEvent,
  SessionInfo,
} from './types.js';
import {
  imageSize,
  MESSAGE_FLAGS,
  numberComponents,
  validateCommandList,
  validateMessage,
  validateSingleCommand,
  type CommandInput,
  type MessageInput,
} from './validation.js';

export { DiscordApiError } from './errors.js';
export type { ErrorTree, FieldError } from './errors.js';
export { INTENTS } from './gateway.js';
export { MESSAGE_FLAGS } from './validation.js';
export type * from './types.js';

export interface FakeDiscordOptions {
  /** HELLO's heartbeat_interval; Discord sends 41250. Keep it small in tests of heartbeats. */
  heartbeatIntervalMs?: number;
  /** How long past the interval a silent gateway connection survives (then 4009). */
  heartbeatGraceMs?: number;
  /** How long a disconnected gateway session can be resumed. */
  resumeWindowMs?: number;
  /** After op 7, how long the fake waits for the client to close before dropping the socket. */
  reconnectCloseDelayMs?: number;
  /** Discord's 3 s to acknowledge an interaction; shorten it to test late acknowledgements quickly. */
  interactionAckWindowMs?: number;
  /** How long an interaction token works for edits and follow-ups (15 min on Discord). */
  interactionTokenTtlMs?: number;
  /** Privileged intents switched on in the developer portal (all off, as for a new app). */
  privilegedIntents?: { guildMembers?: boolean; guildPresences?: boolean; messageContent?: boolean };
  /** Largest file a bot may upload: 10 MiB (413 / 40005 above it). */
  maxUploadBytes?: number;
  bot?: { username?: string; token?: string };
  application?: { name?: string };
}

/**
 * A fault for `failNext`. 429 answers carry Discord's body and headers (`retry_after` in
 * seconds, `X-RateLimit-*`, `Retry-After`); `global` makes it the global limit.
 * `afterEffect` performs the request and replaces only the answer (work done, answer lost).
 */
export type Fault =
  | { status: 429; retryAfter?: number; global?: boolean; scope?: 'user' | 'shared' }
  | { status: 500 | 502 | 503 | 504; afterEffect?: boolean }
  | { status: number; code: number; message: string; afterEffect?: boolean }
  | { network: 'close'; afterEffect?: boolean };

export interface WaitOptions {
  timeoutMs?: number;
  description?: string;
}

export interface InteractionAck {
  /** Interaction callback type: 4 reply, 5 deferred reply, 6 deferred update, 7 update. */
  type: number;
  data: unknown;
  at: number;
}

export interface InteractionHandle {
  interactionId: string;
  token: string;
  /**
   * Settles with the bot's callback; rejects if none arrives within the acknowledgement
   * window (Discord then shows "This interaction failed").
   */
  acknowledged: Promise<InteractionAck>;
}

export interface InteractionRecord {
  id: string;
  /** 2 application command, 3 message component. */
  type: 2 | 3;
  userId: string;
  channelId: string;
  /** The message whose button was clicked. */
  messageId?: string;
  commandName?: string;
  customId?: string;
  createdAt: number;
  ack?: InteractionAck;
  /** The message `@original` refers to: the reply (4/5) or the clicked message (6/7). */
  originalMessageId?: string;
}

export type SlashOptionValue = string | number | boolean;

interface InteractionState extends InteractionRecord {
  token: string;
  acknowledged: Promise<InteractionAck>;
  /** Type 5 and not yet edited: the first follow-up edits the loading message instead. */
  loadingReply: boolean;
  resolveAck: (ack: InteractionAck) => void;
  rejectAck: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

interface PendingFault {
  method: string;
  path: RegExp;
  fault: Fault;
  remaining: number;
}

interface Waiter {
  check: () => boolean;
}

interface Reply {
  status: number;
  body?: unknown;
}

interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: ParsedBody;
}

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  keys: string[];
  auth: boolean;
  handler: (context: RequestContext) => Reply;
}

const DEFAULT_ACK_WINDOW_MS = 3_000;
const DEFAULT_TOKEN_TTL_MS = 15 * 60_000;
const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;
/** What a bot may do in a DM with it: the docs list these for bot DMs. */
const DM_APP_PERMISSIONS = String((1n << 14n) | (1n << 15n) | (1n << 17n) | (1n << 18n));
const APPLICATION_FLAG = { presenceLimited: 1 << 13, membersLimited: 1 << 15, messageContentLimited: 1 << 19 } as const;
const COMMAND_OPTION_TYPE = { SUB_COMMAND: 1, SUB_COMMAND_GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, NUMBER: 10 } as const;

/** `:name` segments match one path segment; `*` anything. Used for routes and fault patterns. */
function compileTemplate(template: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      if (segment === '*') return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), keys };
}

const clone = <T>(value: T): T => structuredClone(value);

export class FakeDiscord {
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: DiscordUser;

  private readonly options: Required<Omit<FakeDiscordOptions, 'privilegedIntents' | 'bot' | 'application'>> & {
    privilegedIntents: number;
    applicationName: string;
  };
  private readonly server: http.Server;
  private readonly gateway: Gateway;
  private readonly sockets = new Set<Socket>();
  private readonly snowflakes = new Snowflakes();
  private readonly ownerUser: DiscordUser;
  private readonly verifyKey = randomBytes(32).toString('hex');
  private readonly routes: Route[] = [];
  private readonly users = new Map<string, DiscordUser>();
  private readonly dmsClosed = new Set<string>();
  private readonly dmByUser = new Map<string, DmChannel>();
  private readonly channels = new Map<string, DmChannel>();
  private readonly messagesByChannel = new Map<string, FakeMessage[]>();
  private readonly messages = new Map<string, FakeMessage>();
  private readonly commandScopes = new Map<string, ApplicationCommand[]>();
  private readonly guilds = new Map<string, { id: string; name: string }>();
  private readonly interactionStates = new Map<string, InteractionState>();
  private readonly interactionsByToken = new Map<string, InteractionState>();
  private readonly callLog: ApiCall[] = [];
  private readonly waiters = new Set<Waiter>();
  private faults: PendingFault[] = [];
  private sessionStartRemaining = 1000;
  private stopped = false;
  private port = 0;

  private constructor(options: FakeDiscordOptions) {
    const privileged = options.privilegedIntents ?? {};
    this.options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      heartbeatGraceMs: options.heartbeatGraceMs ?? 10_000,
      resumeWindowMs: options.resumeWindowMs ?? 120_000,
      reconnectCloseDelayMs: options.reconnectCloseDelayMs ?? 5_000,
      interactionAckWindowMs: options.interactionAckWindowMs ?? DEFAULT_ACK_WINDOW_MS,
      interactionTokenTtlMs: options.interactionTokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
      maxUploadBytes: options.maxUploadBytes ?? DEFAULT_UPLOAD_LIMIT,
      privilegedIntents:
        (privileged.guildMembers === true ? INTENTS.GUILD_MEMBERS : 0) |
        (privileged.guildPresences === true ? INTENTS.GUILD_PRESENCES : 0) |
        (privileged.messageContent === true ? INTENTS.MESSAGE_CONTENT : 0),
      applicationName: options.application?.name ?? 'Warden Test',
    };
    const botId = this.snowflakes.next();
    this.applicationId = botId;
    this.botUser = {
      ...this.userShape(botId, options.bot?.username ?? 'Warden Test', null),
      discriminator: '4821',
      bot: true,
    };
    this.token = options.bot?.token ?? botToken(botId);
    this.ownerUser = this.userShape(this.snowflakes.next(), 'warden-owner', 'Warden Owner');

    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.sendJson(response, 500, { message: `fake-discord crashed: ${String(error)}`, code: 0 });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    const resumeUrl = (): string => `ws://127.0.0.1:${this.port}/gateway/resume`;
    this.gateway = new Gateway(
      {
        token: this.token,
        botUser: this.botUser,
        applicationId: this.applicationId,
        applicationFlags: this.applicationFlags,
        get resumeGatewayUrl() {
          return resumeUrl();
        },
        noteIdentify: () => {
          this.sessionStartRemaining = Math.max(0, this.sessionStartRemaining - 1);
        },
        changed: () => this.changed(),
      },
      {
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        heartbeatGraceMs: this.options.heartbeatGraceMs,
        resumeWindowMs: this.options.resumeWindowMs,
        privilegedIntents: this.options.privilegedIntents,
        reconnectCloseDelayMs: this.options.reconnectCloseDelayMs,
      },
    );
    this.server.on('upgrade', (request, socket, head) => this.gateway.handleUpgrade(request, socket, head));
    this.registerRoutes();
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** Pass as `rest.api` to discord.js: requests then go to `${restRoot}/v10/...`. */
  get restRoot(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** The gateway URL `GET /gateway/bot` hands out. */
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  /** Stops the server, drops every connection and cancels all timers. Destroy clients first. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const state of this.interactionStates.values()) clearTimeout(state.timer);
    this.gateway.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  // -------------------------------------------------------------------------------------------
  // The world

  createUser(info: { username: string; global_name?: string; locale?: string }): DiscordUser {
    const user: DiscordUser = {
      ...this.userShape(this.snowflakes.next(), info.username, info.global_name ?? null),
      ...(info.locale === undefined ? {} : { locale: info.locale }),
    };
    this.users.set(user.id, user);
    return user;
  }

  /** The user turns off DMs from the bot: sends answer 403 / 50007 from now on. */
  closeDms(user: DiscordUser): void {
    this.dmsClosed.add(user.id);
  }

  openDms(user: DiscordUser): void {
    this.dmsClosed.delete(user.id);
  }

  /** The DM channel between the bot and the user, once either side opened it. */
  dmChannelOf(user: DiscordUser): DmChannel | undefined {
    return this.dmByUser.get(user.id);
  }

  /**
   * A server the app is installed in with the `applications.commands` scope only (no bot
   * member, so no GUILD_CREATE): guild commands can be registered there.
   */
  createGuild(name: string): { id: string; name: string } {
    const guild = { id: this.snowflakes.next(), name };
    this.guilds.set(guild.id, guild);
    return guild;
  }

  /** Messages in a channel, oldest first; the bot's only unless `includeUserMessages`. */
  messagesIn(channelId: string, options: { includeUserMessages?: boolean; includeDeleted?: boolean } = {}): FakeMessage[] {
    return (this.messagesByChannel.get(channelId) ?? []).filter(
      (message) =>
        (options.includeUserMessages === true || message.author.id === this.botUser.id) &&
        (options.includeDeleted === true || !message.deleted),
    );
  }

  message(id: string): FakeMessage | undefined {
    return this.messages.get(id);
  }

  /** Waits for a bot message in the channel that satisfies `predicate` (first one by default). */
  waitForMessage(channelId: string, predicate: (message: FakeMessage) => boolean = () => true, options: WaitOptions = {}): Promise<FakeMessage> {
    return this.waitFor(() => this.messagesIn(channelId).find(predicate), { description: `a message in channel ${channelId}`, ...options });
  }

  /** Commands registered globally, or in a guild created with `createGuild`. */
  commands(guildId?: string): ApplicationCommand[] {
    return clone(this.commandScopes.get(guildId ?? 'global') ?? []);
  }

  /** The user writes a DM to the bot (MESSAGE_CREATE to sessions with DIRECT_MESSAGES). */
  userSends(user: DiscordUser, content: string): FakeMessage {
    const channel = this.openDm(user);
    const message = this.storeMessage(channel, user, { content }, [], { type: 0 });
    return message;
  }

  // -------------------------------------------------------------------------------------------
  // Interactions

  /**
   * The user clicks a button (by custom_id, or by label when no custom_id matches) on a bot
   * message in their DM. Only buttons present and enabled in the message's current components
   * can be clicked; link buttons open a URL and create no interaction.
   */
  async clickButton(user: DiscordUser, message: FakeMessage | { id: string } | string, customIdOrLabel: string): Promise<InteractionHandle> {
    const id = typeof message === 'string' ? message : message.id;
    const current = this.messages.get(id);
    if (current === undefined || current.deleted) throw new Error(`fake-discord: no message ${id} to click on`);
    const channel = this.channels.get(current.channelId);
    if (channel === undefined || channel.recipients[0]?.id !== user.id) {
      throw new Error(`fake-discord: ${user.username} cannot see message ${id} (not in their DM with the bot)`);
    }
    if (current.author.id !== this.botUser.id) throw new Error('fake-discord: only the bot’s messages carry its buttons');
    const buttons = current.components.flatMap((row) => row.components);
    let button: ButtonComponent | undefined = buttons.find((candidate) => candidate.custom_id === customIdOrLabel);
    if (button === undefined) {
      const byLabel = buttons.filter((candidate) => candidate.label === customIdOrLabel);
      if (byLabel.length > 1) throw new Error(`fake-discord: several buttons are labelled "${customIdOrLabel}"; click by custom_id`);
      button = byLabel[0];
    }
    if (button === undefined) {
      const available = buttons.map((candidate) => `${candidate.label ?? '(no label)'} [${candidate.custom_id ?? candidate.url ?? ''}]`).join(', ');
      throw new Error(`fake-discord: message ${id} has no button "${customIdOrLabel}" (buttons now: ${available || 'none'})`);
    }
    if (button.disabled === true) throw new Error(`fake-discord: button "${customIdOrLabel}" is disabled`);
    if (button.style === 5 || button.custom_id === undefined) throw new Error(`fake-discord: "${customIdOrLabel}" is a link button; it creates no interaction`);

    const state = this.newInteraction({ type: 3, userId: user.id, channelId: channel.id, messageId: current.id, customId: button.custom_id });
    return this.dispatchInteraction(state, {
      ...this.interactionBase(state, user, channel),
      data: { custom_id: button.custom_id, component_type: 2, ...(button.id === undefined ? {} : { id: button.id }) },
      message: this.messageToApi(current),
    });
  }

  /**
   * The user runs a registered global slash command in their DM with the bot. `name` may be
   * `"command"` or `"command subcommand"`; options are checked against the registration.
   */
  async runSlashCommand(user: DiscordUser, name: string, options: Record<string, SlashOptionValue> = {}): Promise<InteractionHandle> {
    const [commandName = '', subcommandName] = name.trim().split(/\s+/);
    const registered = this.commandScopes.get('global') ?? [];
    const command = registered.find((candidate) => candidate.type === 1 && candidate.name === commandName);
    if (command === undefined) {
      const names = registered.filter((candidate) => candidate.type === 1).map((candidate) => `/${candidate.name}`);
      throw new Error(`fake-discord: no global slash command /${commandName} is registered (registered: ${names.join(', ') || 'none'})`);
    }
    if (command.contexts !== null ? !command.contexts.includes(1) : !command.dm_permission) {
      throw new Error(`fake-discord: /${commandName} is not available in DMs with the bot (contexts/dm_permission)`);
    }
    let optionDefinitions = command.options ?? [];
    let wrap = (values: unknown[]): unknown[] => values;
    const subcommand = optionDefinitions.find((option) => option.type === COMMAND_OPTION_TYPE.SUB_COMMAND && option.name === subcommandName);
    if (subcommandName !== undefined) {
      if (subcommand === undefined) throw new Error(`fake-discord: /${commandName} has no subcommand ${subcommandName}`);
      optionDefinitions = subcommand.options ?? [];
      wrap = (values) => [{ type: COMMAND_OPTION_TYPE.SUB_COMMAND, name: subcommandName, options: values }];
    } else if (optionDefinitions.some((option) => option.type === COMMAND_OPTION_TYPE.SUB_COMMAND)) {
      throw new Error(`fake-discord: /${commandName} needs a subcommand`);
    }
    const values: unknown[] = [];
    const resolvedUsers: Record<string, DiscordUser> = {};
    for (const [optionName, value] of Object.entries(options)) {
      const definition = optionDefinitions.find((option) => option.name === optionName);
      if (definition === undefined) throw new Error(`fake-discord: /${name} has no option ${optionName}`);
      const ok =
        (definition.type === COMMAND_OPTION_TYPE.STRING && typeof value === 'string') ||
        (definition.type === COMMAND_OPTION_TYPE.INTEGER && Number.isInteger(value)) ||
        (definition.type === COMMAND_OPTION_TYPE.NUMBER && typeof value === 'number') ||
        (definition.type === COMMAND_OPTION_TYPE.BOOLEAN && typeof value === 'boolean') ||
        (definition.type === COMMAND_OPTION_TYPE.USER && typeof value === 'string' && this.users.has(value));
      if (!ok) throw new Error(`fake-discord: option ${optionName} of /${name} (type ${definition.type}) cannot take ${JSON.stringify(value)}`);
      if (definition.choices !== undefined && !definition.choices.some((choice) => choice.value === value)) {
        throw new Error(`fake-discord: ${JSON.stringify(value)} is not a choice of option ${optionName}`);
      }
      if (definition.type === COMMAND_OPTION_TYPE.USER) resolvedUsers[value as string] = this.users.get(value as string)!;
      values.push({ type: definition.type, name: optionName, value });
    }
    for (const definition of optionDefinitions) {
      if (definition.required === true && !(definition.name in options)) throw new Error(`fake-discord: /${name} requires option ${definition.name}`);
    }
    const channel = this.openDm(user);
    const state = this.newInteraction({ type: 2, userId: user.id, channelId: channel.id, commandName });
    const dataOptions = wrap(values);
    return this.dispatchInteraction(state, {
      ...this.interactionBase(state, user, channel),
      data: {
        id: command.id,
        name: command.name,
        type: 1,
        ...(dataOptions.length > 0 ? { options: dataOptions } : {}),
        ...(Object.keys(resolvedUsers).length > 0 ? { resolved: { users: resolvedUsers } } : {}),
      },
    });
  }

  /** Every interaction created so far, with its acknowledgement. */
  get interactions(): InteractionRecord[] {
    return [...this.interactionStates.values()].map((state) => ({
      id: state.id,
      type: state.type,
      userId: state.userId,
      channelId: state.channelId,
      createdAt: state.createdAt,
      ...(state.messageId === undefined ? {} : { messageId: state.messageId }),
      ...(state.commandName === undefined ? {} : { commandName: state.commandName }),
      ...(state.customId === undefined ? {} : { customId: state.customId }),
      ...(state.ack === undefined ? {} : { ack: state.ack }),
      ...(state.originalMessageId === undefined ? {} : { originalMessageId: state.originalMessageId }),
    }));
  }

  private newInteraction(record: Omit<InteractionRecord, 'id' | 'createdAt'>): InteractionState {
    const id = this.snowflakes.next();
    let resolveAck!: (ack: InteractionAck) => void;
    let rejectAck!: (error: Error) => void;
    const acknowledged = new Promise<InteractionAck>((resolve, reject) => {
      resolveAck = resolve;
      rejectAck = reject;
    });
    // Tests that never look at `acknowledged` must not see an unhandled rejection.
    acknowledged.catch(() => undefined);
    const state: InteractionState = {
      ...record,
      id,
      token: interactionToken(id),
      createdAt: Date.now(),
      loadingReply: false,
      acknowledged,
      resolveAck,
      rejectAck,
    };
    return state;
  }

  private interactionBase(state: InteractionState, user: DiscordUser, channel: DmChannel): Record<string, unknown> {
    return {
      id: state.id,
      application_id: this.applicationId,
      type: state.type,
      token: state.token,
      version: 1,
      user: this.publicUser(user),
      channel_id: channel.id,
      channel: this.channelToApi(channel),
      locale: user.locale ?? 'en-US',
      app_permissions: DM_APP_PERMISSIONS,
      entitlements: [],
      authorizing_integration_owners: { '0': '0' },
      context: 1,
      attachment_size_limit: this.options.maxUploadBytes,
    };
  }

  private dispatchInteraction(state: InteractionState, payload: Record<string, unknown>): InteractionHandle {
    const delivered = this.gateway.dispatch('INTERACTION_CREATE', payload, { dm: true });
    if (delivered === 0) {
      throw new Error('fake-discord: no gateway session is live, so Discord would show "This interaction failed"');
    }
    this.interactionStates.set(state.id, state);
    this.interactionsByToken.set(state.token, state);
    state.timer = setTimeout(() => {
      if (state.ack === undefined) {
        state.rejectAck(new Error(`fake-discord: interaction ${state.id} was not acknowledged within ${this.options.interactionAckWindowMs} ms`));
        this.changed();
      }
    }, this.options.interactionAckWindowMs);
    state.timer.unref();
    this.changed();
    return {
      interactionId: state.id,
      token: state.token,
      acknowledged: state.acknowledged,
    };
  }

  // -------------------------------------------------------------------------------------------
  // The gateway, from the test's side

  /** Sends op 7 RECONNECT: the client should close and resume on resume_gateway_url. */
  gatewayReconnect(): number {
    return this.gateway.requestReconnect();
  }

  /** Destroys every gateway socket without a close frame. Sessions stay resumable. */
  dropGateway(): number {
    return this.gateway.drop();
  }

  /** Sends op 9 INVALID SESSION; with `resumable` false (Discord's usual) the sessions end. */
  invalidateSession(resumable = false): number {
    return this.gateway.invalidateSessions(resumable);
  }

  get sessions(): SessionInfo[] {
    return this.gateway.sessionInfo;
  }

  get gatewayLog(): readonly GatewayEvent[] {
    return this.gateway.log;
  }

  /** True once some session is connected (identified or resumed) right now. */
  get gatewayConnected(): boolean {
    return this.gateway.sessionInfo.some((session) => session.state === 'connected');
  }

  // -------------------------------------------------------------------------------------------
  // Observation

  /** Every REST request so far, in arrival order. */
  get calls(): readonly ApiCall[] {
    return this.callLog;
  }

  callsTo(method: string, path: string | RegExp): ApiCall[] {
    const regex = typeof path === 'string' ? compileTemplate(path).regex : path;
    return this.callLog.filter((call) => (method === '*' || call.method === method.toUpperCase()) && regex.test(call.path));
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
        finish();
        const recent = this.callLog
          .slice(-8)
          .map((call) => `${call.method} ${call.path} -> ${call.status}${call.errorCode === undefined ? '' : ` (${call.errorCode})`}`)
          .join('; ');
        reject(new Error(`fake-discord: timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}; last calls: ${recent || 'none'}`));
      }, timeoutMs);
      // State changes in the fake re-check at once; the poll catches conditions on test-side
      // state (handler results) that no fake event announces.
      const poll = setInterval(() => waiter.check(), 20);
      const finish = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(waiter);
      };
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  // -------------------------------------------------------------------------------------------
  // Fault injection

  /**
   * The next `times` requests matching `method` ('*' for any) and `path` (below /api/v10;
   * a template like '/channels/:id/messages', '*' wildcards, or a RegExp) fail with `fault`.
   */
  failNext(method: string, path: string | RegExp, fault: Fault, times = 1): void {
    const regex = typeof path === 'string' ? compileTemplate(path).regex : path;
    this.faults.push({ method: method.toUpperCase(), path: regex, fault, remaining: times });
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const pending = this.faults.find((fault) => (fault.method === '*' || fault.method === method) && fault.path.test(path));
    if (pending === undefined) return undefined;
    pending.remaining--;
    if (pending.remaining <= 0) this.faults = this.faults.filter((fault) => fault !== pending);
    return pending.fault;
  }

  private respondWithFault(request: http.IncomingMessage, response: http.ServerResponse, fault: Fault, call: ApiCall, route: string): void {
    call.injected = true;
    if ('network' in fault) {
      call.status = 0;
      request.socket.destroy();
      return;
    }
    call.status = fault.status;
    if (fault.status === 429) {
      const retryAfter = 'retryAfter' in fault && fault.retryAfter !== undefined ? fault.retryAfter : 1;
      const global = 'global' in fault && fault.global === true;
      const headers: Record<string, string> = { 'retry-after': String(Math.ceil(retryAfter)) };
      if (global) {
        headers['x-ratelimit-global'] = 'true';
        headers['x-ratelimit-scope'] = 'global';
      } else {
        headers['x-ratelimit-limit'] = '5';
        headers['x-ratelimit-remaining'] = '0';
        headers['x-ratelimit-reset'] = (Date.now() / 1000 + retryAfter).toFixed(3);
        headers['x-ratelimit-reset-after'] = retryAfter.toFixed(3);
        headers['x-ratelimit-bucket'] = Buffer.from(`${request.method} ${route}`).toString('hex').slice(0, 32);
        headers['x-ratelimit-scope'] = 'scope' in fault && fault.scope !== undefined ? fault.scope : 'user';
      }
      call.errorMessage = 'You are being rate limited.';
      this.sendJson(response, 429, { message: 'You are being rate limited.', retry_after: retryAfter, global }, headers);
      return;
    }
    if ('code' in fault) {
      call.errorCode = fault.code;
      call.errorMessage = fault.message;
      this.sendJson(response, fault.status, { message: fault.message, code: fault.code });
      return;
    }
    if (fault.status === 500) {
      call.errorCode = 0;
      call.errorMessage = '500: Internal Server Error';
      this.sendJson(response, 500, { message: '500: Internal Server Error', code: 0 });
      return;
    }
    // 502-504 come from Discord's edge (Cloudflare) as an HTML page, not JSON.
    const page = `<html><head><title>${fault.status} ${http.STATUS_CODES[fault.status] ?? ''}</title></head><body><center><h1>${fault.status} ${
      http.STATUS_CODES[fault.status] ?? ''
    }</h1></center><hr><center>cloudflare</center></body></html>`;
    response.writeHead(fault.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
    response.end(page);
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (status === 204) {
      response.writeHead(204, headers);
      response.end();
      return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    response.end(text);
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = (request.method ?? 'GET').toUpperCase();

    const cdn = /^\/attachments\/(\d+)\/(\d+)\/([^/]+)$/.exec(url.pathname);
    if (cdn !== null && method === 'GET') return this.serveAttachment(response, cdn[2]!);

    const versioned = /^\/api\/v(\d+)(\/.*)$/.exec(url.pathname);
    const path = versioned === null ? url.pathname : versioned[2]!;
    const readablePath = path
      .split('/')
      .map((segment) => {
        try {
          return decodeURIComponent(segment);
        } catch {
          return segment;
        }
      })
      .join('/');
    const call: ApiCall = { method, path: readablePath, query: Object.fromEntries(url.searchParams), body: undefined, files: [], status: 0, injected: false, at: Date.now() };
    this.callLog.push(call);
    const fail = (error: DiscordApiError): void => {
      call.status = error.status;
      call.errorCode = error.code;
      call.errorMessage = error.apiMessage;
      this.sendJson(response, error.status, error.body);
      this.changed();
    };

    if (versioned === null) {
      request.resume();
      return fail(ERR.notFound());
    }
    if (versioned[1] !== '10') {
      request.resume();
      return fail(ERR.notModelled(`API v${versioned[1]} (only v10)`));
    }
    const candidates = this.routes.filter((candidate) => candidate.regex.test(path));
    const route = candidates.find((candidate) => candidate.method === method);
    if (route === undefined) {
      request.resume();
      return fail(candidates.length > 0 ? ERR.methodNotAllowed() : ERR.notFound());
    }
    call.route = route.template;
    if (route.auth && request.headers.authorization !== `Bot ${this.token}`) {
      request.resume();
      return fail(ERR.unauthorized());
    }

    let body: ParsedBody;
    try {
      body = await readBody(request, this.options.maxUploadBytes * 10 + 1024 * 1024);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        response.setHeader('connection', 'close');
        return fail(ERR.entityTooLarge());
      }
      if (error instanceof DiscordApiError) return fail(error);
      throw error;
    }
    call.body = body.json;
    call.files = body.files.map((file) => ({ field: file.field, filename: file.filename, contentType: file.contentType, size: file.bytes.length }));
    if (this.stopped) return;

    const fault = this.takeFault(method, path);
    if (fault !== undefined && !('afterEffect' in fault && fault.afterEffect === true)) {
      this.respondWithFault(request, response, fault, call, route.template);
      this.changed();
      return;
    }

    const match = route.regex.exec(path)!;
    const params = Object.fromEntries(route.keys.map((key, index) => [key, decodeURIComponent(match[index + 1]!)]));
    let reply: Reply;
    try {
      reply = route.handler({ params, query: url.searchParams, body });
    } catch (error) {
      if (error instanceof DiscordApiError) return fail(error);
      throw error;
    }
    if (fault !== undefined) {
      this.respondWithFault(request, response, fault, call, route.template);
      this.changed();
      return;
    }
    call.status = reply.status;
    this.sendJson(response, reply.status, reply.body);
    this.changed();
  }

  private serveAttachment(response: http.ServerResponse, attachmentId: string): void {
    for (const message of this.messages.values()) {
      const attachment = message.attachments.find((candidate) => candidate.id === attachmentId);
      if (attachment === undefined) continue;
      response.writeHead(200, { 'content-type': attachment.content_type ?? 'application/octet-stream', 'content-length': attachment.bytes.length });
      response.end(attachment.bytes);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('Not Found');
  }

  private route(method: string, template: string, handler: Route['handler'], auth = true): void {
    const { regex, keys } = compileTemplate(template);
    this.routes.push({ method, template, regex, keys, auth, handler });
  }

  private registerRoutes(): void {
    this.route('GET', '/gateway', () => ({ status: 200, body: { url: this.gatewayUrl } }), false);
    this.route('GET', '/gateway/bot', () => ({
      status: 200,
      body: {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: this.sessionStartRemaining, reset_after: 86_400_000, max_concurrency: 1 },
      },
    }));

    this.route('GET', '/users/@me', () => ({ status: 200, body: { ...this.publicUser(this.botUser), verified: true, mfa_enabled: false, email: null } }));
    this.route('POST', '/users/@me/channels', ({ body }) => this.createDm(body.json));
    this.route('GET', '/users/:user', ({ params }) => {
      const user = params.user === this.botUser.id ? this.botUser : this.users.get(params.user!);
      if (user === undefined) throw ERR.unknownUser();
      return { status: 200, body: this.publicUser(user) };
    });
    this.route('GET', '/applications/@me', () => ({ status: 200, body: this.applicationToApi() }));

    this.route('GET', '/channels/:channel', ({ params }) => ({ status: 200, body: this.channelToApi(this.requireChannel(params.channel!)) }));
    this.route('GET', '/channels/:channel/messages', ({ params, query }) => {
      const channel = this.requireChannel(params.channel!);
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50)));
      const visible = (this.messagesByChannel.get(channel.id) ?? []).filter((message) => !message.deleted && !message.ephemeral);
      return { status: 200, body: visible.slice(-limit).reverse().map((message) => this.messageToApi(message)) };
    });
    this.route('POST', '/channels/:channel/messages', ({ params, body }) => {
      const channel = this.requireChannel(params.channel!);
      const recipient = channel.recipients[0]!;
      const input = validateMessage(body.json);
      if (this.dmsClosed.has(recipient.id)) throw ERR.dmsClosed();
      const message = this.storeMessage(channel, this.botUser, input, body.files, { type: 0 });
      return { status: 200, body: this.messageToApi(message) };
    });
    this.route('GET', '/channels/:channel/messages/:message', ({ params }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      return { status: 200, body: this.messageToApi(message) };
    });
    this.route('PATCH', '/channels/:channel/messages/:message', ({ params, body }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      if (message.author.id !== this.botUser.id) throw ERR.cannotEditOthers();
      this.editMessage(message, validateMessage(body.json), body.files);
      return { status: 200, body: this.messageToApi(message) };
    });
    this.route('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      if (message.author.id !== this.botUser.id) throw ERR.missingAccess();
      this.deleteMessage(message);
      return { status: 204 };
    });
    this.route('POST', '/channels/:channel/typing', ({ params }) => {
      this.requireChannel(params.channel!);
      return { status: 204 };
    });

    this.route('POST', '/interactions/:interaction/:token/callback', (context) => this.interactionCallback(context), false);
    this.route('POST', '/webhooks/:application/:token', ({ params, body }) => this.followUp(params, body), false);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      this.route(method, '/webhooks/:application/:token/messages/:message', ({ params, body }) => this.webhookMessage(method, params, body), false);
    }

    for (const base of ['/applications/:application/commands', '/applications/:application/guilds/:guild/commands']) {
      this.route('GET', base, ({ params }) => ({ status: 200, body: this.commandScope(params).slice() }));
      this.route('PUT', base, ({ params, body }) => this.overwriteCommands(params, body.json));
      this.route('POST', base, ({ params, body }) => this.upsertCommand(params, body.json));
      this.route('GET', `${base}/:command`, ({ params }) => ({ status: 200, body: this.requireCommand(params) }));
      this.route('PATCH', `${base}/:command`, ({ params, body }) => this.patchCommand(params, body.json));
      this.route('DELETE', `${base}/:command`, ({ params }) => {
        const existing = this.requireCommand(params);
        const scope = this.commandScope(params);
        scope.splice(scope.indexOf(existing), 1);
        return { status: 204 };
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Users, channels and messages

  private userShape(id: string, username: string, globalName: string | null): DiscordUser {
    return {
      id,
      username,
      discriminator: '0',
      global_name: globalName,
      avatar: null,
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
      collectibles: null,
      primary_guild: null,
    };
  }

  /** The user object as Discord sends it (without the fake's own bookkeeping fields). */
  private publicUser(user: DiscordUser): Omit<DiscordUser, 'locale'> {
    const { locale: _locale, ...rest } = user;
    return rest;
  }

  private get applicationFlags(): number {
    const enabled = this.options.privilegedIntents;
    return (
      ((enabled & INTENTS.GUILD_PRESENCES) !== 0 ? APPLICATION_FLAG.presenceLimited : 0) |
      ((enabled & INTENTS.GUILD_MEMBERS) !== 0 ? APPLICATION_FLAG.membersLimited : 0) |
      ((enabled & INTENTS.MESSAGE_CONTENT) !== 0 ? APPLICATION_FLAG.messageContentLimited : 0)
    );
  }

  private applicationToApi(): Record<string, unknown> {
    return {
      id: this.applicationId,
      name: this.options.applicationName,
      icon: null,
      description: '',
      summary: '',
      type: null,
      hook: true,
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: this.verifyKey,
      flags: this.applicationFlags,
      owner: this.publicUser(this.ownerUser),
      team: null,
      bot: this.publicUser(this.botUser),
      redirect_uris: [],
      interactions_endpoint_url: null,
      integration_types_config: { '0': {} },
      approximate_guild_count: this.guilds.size,
      is_monetized: false,
    };
  }

  private openDm(user: DiscordUser): DmChannel {
    let channel = this.dmByUser.get(user.id);
    if (channel === undefined) {
      channel = { id: this.snowflakes.next(), type: 1, recipients: [user], last_message_id: null, flags: 0 };
      this.dmByUser.set(user.id, channel);
      this.channels.set(channel.id, channel);
      this.messagesByChannel.set(channel.id, []);
    }
    return channel;
  }

  private channelToApi(channel: DmChannel): Record<string, unknown> {
    return { ...channel, recipients: channel.recipients.map((user) => this.publicUser(user)) };
  }

  private createDm(body: unknown): Reply {
    const recipientId = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).recipient_id : undefined;
    if (recipientId === undefined || recipientId === null) throw invalidFormBody(['recipient_id'], FIELD.required());
    const user = this.users.get(String(recipientId));
    if (user === undefined) throw ERR.invalidRecipient();
    return { status: 200, body: this.channelToApi(this.openDm(user)) };
  }

  private requireChannel(id: string): DmChannel {
    const channel = this.channels.get(id);
    if (channel === undefined) throw ERR.unknownChannel();
    return channel;
  }

  private requireChannelMessage(channelId: string, messageId: string): FakeMessage {
    this.requireChannel(channelId);
    const message = this.messages.get(messageId);
    // Ephemeral messages exist only for their interaction's webhook, not in the channel.
    if (message === undefined || message.channelId !== channelId || message.deleted || message.ephemeral) throw ERR.unknownMessage();
    return message;
  }

  private buildAttachments(input: MessageInput, files: UploadedFile[]): FakeAttachment[] {
    return files.map((file) => {
      if (file.bytes.length > this.options.maxUploadBytes) throw ERR.entityTooLarge();
      const described = input.attachments?.find((attachment) => file.index !== undefined && attachment.id === String(file.index));
      const size = imageSize(file.bytes);
      const filename = described?.filename ?? file.filename;
      return {
        id: this.snowflakes.next(),
        filename,
        ...(described?.description === undefined ? {} : { description: described.description }),
        ...(file.contentType === '' ? {} : { content_type: file.contentType }),
        size: file.bytes.length,
        ...(size === undefined ? {} : size),
        bytes: file.bytes,
      };
    });
  }

  private storeMessage(
    channel: DmChannel,
    author: DiscordUser,
    input: MessageInput,
    files: UploadedFile[],
    extra: { type: number; ephemeral?: boolean; loading?: boolean; interactionId?: string },
  ): FakeMessage {
    const attachments = this.buildAttachments(input, files);
    const content = input.content ?? '';
    const embeds = input.embeds ?? [];
    const components = numberComponents(input.components ?? []);
    if (extra.loading !== true && content === '' && embeds.length === 0 && components.length === 0 && attachments.length === 0) {
      throw ERR.emptyMessage();
    }
    const keptFlags = (input.flags ?? 0) & (MESSAGE_FLAGS.SUPPRESS_EMBEDS | MESSAGE_FLAGS.SUPPRESS_NOTIFICATIONS);
    const flags = keptFlags | (extra.ephemeral === true ? MESSAGE_FLAGS.EPHEMERAL : 0) | (extra.loading === true ? MESSAGE_FLAGS.LOADING : 0);
    const message: FakeMessage = {
      id: this.snowflakes.next(),
      channelId: channel.id,
      author,
      type: extra.type,
      content,
      embeds,
      components,
      attachments,
      flags,
      ephemeral: extra.ephemeral === true,
      ...(extra.interactionId === undefined ? {} : { interactionId: extra.interactionId }),
      createdAt: new Date(),
      editedAt: null,
      history: [],
      deleted: false,
    };
    this.messages.set(message.id, message);
    this.messagesByChannel.get(channel.id)!.push(message);
    if (!message.ephemeral) {
      channel.last_message_id = message.id;
      this.gateway.dispatch('MESSAGE_CREATE', this.messageToApi(message), { intent: INTENTS.DIRECT_MESSAGES, dm: true });
    }
    this.changed();
    return message;
  }

  private editMessage(message: FakeMessage, input: MessageInput, files: UploadedFile[]): void {
    const previous = {
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      attachments: message.attachments,
      flags: message.flags,
    };
    const added = this.buildAttachments(input, files);
    const kept =
      input.attachments === undefined
        ? message.attachments
        : message.attachments.filter((attachment) => input.attachments!.some((entry) => entry.id === attachment.id));
    const next = {
      content: input.content ?? message.content,
      embeds: input.embeds ?? message.embeds,
      components: input.components === undefined ? message.components : numberComponents(input.components),
      attachments: [...kept, ...added],
    };
    if (next.content === '' && next.embeds.length === 0 && next.components.length === 0 && next.attachments.length === 0) {
      throw ERR.emptyMessage();
    }
    const now = new Date();
    message.history.push({ ...previous, replacedAt: now });
    Object.assign(message, next);
    if (input.flags !== undefined) {
      message.flags = (message.flags & ~MESSAGE_FLAGS.SUPPRESS_EMBEDS) | (input.flags & MESSAGE_FLAGS.SUPPRESS_EMBEDS);
    }
    message.flags &= ~MESSAGE_FLAGS.LOADING;
    message.editedAt = now;
    if (!message.ephemeral) {
      this.gateway.dispatch('MESSAGE_UPDATE', this.messageToApi(message), { intent: INTENTS.DIRECT_MESSAGES, dm: true });
    }
    this.changed();
  }

  private deleteMessage(message: FakeMessage): void {
    message.deleted = true;
    if (!message.ephemeral) {
      this.gateway.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channelId }, { intent: INTENTS.DIRECT_MESSAGES, dm: true });
    }
    this.changed();
  }

  private attachmentToApi(message: FakeMessage, attachment: FakeAttachment): Record<string, unknown> {
    const { bytes: _bytes, ...fields } = attachment;
    const expires = Math.floor(Date.now() / 1000) + 86_400;
    const url = `http://127.0.0.1:${this.port}/attachments/${message.channelId}/${attachment.id}/${encodeURIComponent(attachment.filename)}?ex=${expires.toString(16)}&is=${Math.floor(
      message.createdAt.getTime() / 1000,
    ).toString(16)}&hm=${randomBytes(32).toString('hex')}&`;
    return { ...fields, url, proxy_url: url, ...(message.ephemeral ? { ephemeral: true } : {}) };
  }

  private messageToApi(message: FakeMessage): Record<string, unknown> {
    const api: Record<string, unknown> = {
      type: message.type,
      content: message.content,
      mentions: [],
      mention_roles: [],
      attachments: message.attachments.map((attachment) => this.attachmentToApi(message, attachment)),
      embeds: clone(message.embeds),
      timestamp: isoTimestamp(message.createdAt),
      edited_timestamp: message.editedAt === null ? null : isoTimestamp(message.editedAt),
      flags: message.flags,
      components: clone(message.components) as ActionRow[],
      id: message.id,
      channel_id: message.channelId,
      author: this.publicUser(message.author),
      pinned: false,
      mention_everyone: false,
      tts: false,
    };
    const state = message.interactionId === undefined ? undefined : this.interactionStates.get(message.interactionId);
    if (state !== undefined) {
      const user = this.users.get(state.userId)!;
      api.webhook_id = this.applicationId;
      api.application_id = this.applicationId;
      api.interaction_metadata = {
        id: state.id,
        type: state.type,
        user: this.publicUser(user),
        authorizing_integration_owners: { '0': '0' },
        ...(state.type === 2 ? { name: state.commandName } : { interacted_message_id: state.messageId }),
      };
      if (state.type === 2) api.interaction = { id: state.id, type: 2, name: state.commandName, user: this.publicUser(user) };
    }
    return api;
  }

  // -------------------------------------------------------------------------------------------
  // Interaction responses

  private interactionCallback({ params, query, body }: RequestContext): Reply {
    const state = this.interactionStates.get(params.interaction!);
    if (state === undefined || state.token !== params.token) throw ERR.unknownInteraction();
    if (state.ack !== undefined) throw ERR.alreadyAcknowledged();
    if (Date.now() - state.createdAt > this.options.interactionAckWindowMs) throw ERR.unknownInteraction();
    const raw = (typeof body.json === 'object' && body.json !== null ? body.json : {}) as Record<string, unknown>;
    const type = raw.type;
    const channel = this.requireChannel(state.channelId);
    const isComponent = state.type === 3;
    const wrongType = (): DiscordApiError =>
      invalidFormBody(['type'], { code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type for this interaction' });
    let message: FakeMessage | undefined;
    switch (type) {
      case undefined:
      case null:
        throw invalidFormBody(['type'], FIELD.required());
      case 4: {
        if (raw.data === undefined || raw.data === null) throw ERR.emptyMessage();
        const input = validateMessage(raw.data, ['data']);
        message = this.storeMessage(channel, this.botUser, input, body.files, {
          type: isComponent ? 0 : 20,
          ephemeral: ((input.flags ?? 0) & MESSAGE_FLAGS.EPHEMERAL) !== 0,
          interactionId: state.id,
        });
        state.originalMessageId = message.id;
        break;
      }
      case 5: {
        const input = validateMessage(raw.data ?? {}, ['data']);
        message = this.storeMessage(channel, this.botUser, {}, [], {
          type: isComponent ? 0 : 20,
          ephemeral: ((input.flags ?? 0) & MESSAGE_FLAGS.EPHEMERAL) !== 0,
          loading: true,
          interactionId: state.id,
        });
        state.originalMessageId = message.id;
        state.loadingReply = true;
        break;
      }
      case 6:
        if (!isComponent) throw wrongType();
        state.originalMessageId = state.messageId;
        break;
      case 7: {
        if (!isComponent) throw wrongType();
        const input = validateMessage(raw.data ?? {}, ['data']);
        message = this.messages.get(state.messageId!)!;
        this.editMessage(message, input, body.files);
        state.originalMessageId = message.id;
        break;
      }
      case 8:
        throw ERR.notModelled('autocomplete results (callback type 8)');
      case 9:
        throw ERR.notModelled('modals (callback type 9)');
      case 12:
        throw ERR.notModelled('activities (callback type 12)');
      case 1:
      case 10:
        throw wrongType();
      default:
        throw invalidFormBody(['type'], FIELD.enumValue(type));
    }
    const ack: InteractionAck = { type, data: raw.data, at: Date.now() };
    state.ack = ack;
    clearTimeout(state.timer);
    state.resolveAck(ack);
    if (query.get('with_response') !== 'true') return { status: 204 };
    const original = state.originalMessageId === undefined ? undefined : this.messages.get(state.originalMessageId);
    return {
      status: 200,
      body: {
        interaction: {
          id: state.id,
          type: state.type,
          ...(original === undefined
            ? {}
            : {
                response_message_id: original.id,
                response_message_loading: (original.flags & MESSAGE_FLAGS.LOADING) !== 0,
                response_message_ephemeral: original.ephemeral,
              }),
        },
        resource: { type, ...(message === undefined ? {} : { message: this.messageToApi(message) }) },
      },
    };
  }

  private requireWebhookInteraction(params: Record<string, string>): InteractionState {
    if (params.application !== this.applicationId) throw ERR.unknownWebhook();
    const state = this.interactionsByToken.get(params.token!);
    if (state === undefined || Date.now() - state.createdAt > this.options.interactionTokenTtlMs) throw ERR.invalidWebhookToken();
    // Until the interaction is acknowledged there is no webhook to post through.
    if (state.ack === undefined) throw ERR.unknownWebhook();
    return state;
  }

  private followUp(params: Record<string, string>, body: ParsedBody): Reply {
    const state = this.requireWebhookInteraction(params);
    const input = validateMessage(body.json);
    if (state.loadingReply) {
      // After a deferred reply the first follow-up edits the loading message (ephemeral kept).
      const original = this.messages.get(state.originalMessageId!)!;
      this.editMessage(original, input, body.files);
      state.loadingReply = false;
      return { status: 200, body: this.messageToApi(original) };
    }
    const channel = this.requireChannel(state.channelId);
    const message = this.storeMessage(channel, this.botUser, input, body.files, {
      type: 0,
      ephemeral: ((input.flags ?? 0) & MESSAGE_FLAGS.EPHEMERAL) !== 0,
      interactionId: state.id,
    });
    return { status: 200, body: this.messageToApi(message) };
  }

  private webhookMessage(method: string, params: Record<string, string>, body: ParsedBody): Reply {
    const state = this.requireWebhookInteraction(params);
    const id = params.message === '@original' ? state.originalMessageId : params.message;
    const message = id === undefined ? undefined : this.messages.get(id);
    const belongs = message !== undefined && (message.id === state.originalMessageId || message.interactionId === state.id);
    if (message === undefined || !belongs || message.deleted) throw ERR.unknownMessage();
    if (method === 'GET') return { status: 200, body: this.messageToApi(message) };
    if (method === 'DELETE') {
      this.deleteMessage(message);
      return { status: 204 };
    }
    this.editMessage(message, validateMessage(body.json), body.files);
    if (message.id === state.originalMessageId) state.loadingReply = false;
    return { status: 200, body: this.messageToApi(message) };
  }

  // -------------------------------------------------------------------------------------------
  // Application commands

  private commandScope(params: Record<string, string>): ApplicationCommand[] {
    if (params.application !== this.applicationId) throw ERR.missingAccess();
    const key = params.guild ?? 'global';
    if (params.guild !== undefined && !this.guilds.has(params.guild)) throw ERR.missingAccess();
    let scope = this.commandScopes.get(key);
    if (scope === undefined) {
      scope = [];
      this.commandScopes.set(key, scope);
    }
    return scope;
  }

  private requireCommand(params: Record<string, string>): ApplicationCommand {
    const command = this.commandScope(params).find((candidate) => candidate.id === params.command);
    if (command === undefined) throw ERR.unknownCommand();
    return command;
  }

  private toCommand(input: CommandInput, params: Record<string, string>, existing?: ApplicationCommand): ApplicationCommand {
    const command: ApplicationCommand = {
      id: existing?.id ?? this.snowflakes.next(),
      application_id: this.applicationId,
      ...(params.guild === undefined ? {} : { guild_id: params.guild }),
      version: existing?.version ?? this.snowflakes.next(),
      ...input,
    };
    if (existing !== undefined && JSON.stringify({ ...existing, version: '' }) !== JSON.stringify({ ...command, version: '' })) {
      command.version = this.snowflakes.next();
    }
    return command;
  }

  private overwriteCommands(params: Record<string, string>, body: unknown): Reply {
    const scope = this.commandScope(params);
    const inputs = validateCommandList(body);
    const next = inputs.map((input) =>
      this.toCommand(input, params, scope.find((candidate) => candidate.type === input.type && candidate.name === input.name)),
    );
    scope.splice(0, scope.length, ...next);
    this.changed();
    return { status: 200, body: next };
  }

  private upsertCommand(params: Record<string, string>, body: unknown): Reply {
    const scope = this.commandScope(params);
    const input = validateSingleCommand(body);
    const existing = scope.find((candidate) => candidate.type === input.type && candidate.name === input.name);
    const command = this.toCommand(input, params, existing);
    if (existing === undefined) scope.push(command);
    else scope.splice(scope.indexOf(existing), 1, command);
    this.changed();
    return { status: existing === undefined ? 201 : 200, body: command };
  }

  private patchCommand(params: Record<string, string>, body: unknown): Reply {
    const existing = this.requireCommand(params);
    const merged = { ...existing, ...(typeof body === 'object' && body !== null ? body : {}) };
    const command = this.toCommand(validateSingleCommand(merged), params, existing);
    const scope = this.commandScope(params);
    scope.splice(scope.indexOf(existing), 1, command);
    this.changed();
    return { status: 200, body: command };
  }
}
