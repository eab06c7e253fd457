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
import { DiscordApiError, ERR, FIELD, FormErrors, invalidFormBody } from './errors.js';
import { Gateway, INTENTS, shardOfGuild } from './gateway.js';
import {
  botPermissions,
  DEFAULT_PERMISSIONS,
  guildJson,
  has,
  memberJson,
  PERMISSIONS,
  type GuildState,
} from './guild.js';
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
  FakeChannel,
  FakeGuild,
  FakeMessage,
  GatewayEvent,
  GuildTextChannel,
  SessionInfo,
  ThreadChannel,
  UserAttachment,
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
export { DEFAULT_PERMISSIONS, PERMISSIONS } from './guild.js';
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

/** What a user's post carries besides its text (`userSends`, `userSendsIn`). */
export interface UserPostOptions {
  attachments?: UserAttachment[];
  /** Makes the post a reply (type 19) to this message, which must be in the same channel. */
  replyTo?: FakeMessage | string;
  /** A reply pings the replied-to author by default, as the Discord app does. */
  mentionRepliedUser?: boolean;
}

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

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8', json: 'application/json', pdf: 'application/pdf', zip: 'application/zip', mp4: 'video/mp4',
};

/** The content_type Discord reports for an upload from the app, guessed from the extension. */
const contentTypeFor = (filename: string): string | undefined => CONTENT_TYPES[/\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase() ?? ''];

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
  private readonly channels = new Map<string, FakeChannel>();
  private readonly messagesByChannel = new Map<string, FakeMessage[]>();
  private readonly messages = new Map<string, FakeMessage>();
  private readonly commandScopes = new Map<string, ApplicationCommand[]>();
  private readonly guilds = new Map<string, GuildState>();
  /** Thread id -> member user id -> when they joined. */
  private readonly threadMembersById = new Map<string, Map<string, Date>>();
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
        readyGuildIds: (shard) => this.botGuilds().filter((guild) => shardOfGuild(guild.id, shard[1]) === shard[0]).map((guild) => guild.id),
        onReady: (session) => {
          // READY lists the bot's guilds as unavailable; GUILD_CREATE then fills each one in.
          if ((session.intents & INTENTS.GUILDS) === 0) return;
          for (const guild of this.botGuilds()) {
            if (shardOfGuild(guild.id, session.shard[1]) !== session.shard[0]) continue;
            this.gateway.dispatchToSession(session.id, 'GUILD_CREATE', this.guildCreatePayload(guild));
          }
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
   * A server with the app installed. By default the bot is a member (the `bot` scope): live
   * sessions get GUILD_CREATE now, and every later IDENTIFY lists it in READY and sends
   * GUILD_CREATE with its channels, active threads, roles and the bot's member. With
   * `bot: false` the app has only the `applications.commands` scope: guild commands register,
   * but the bot cannot see the guild's channels (403 / 50001 Missing Access).
   * Permissions are guild-wide: @everyone's plus the bot's managed role (DEFAULT_PERMISSIONS
   * each unless given; ADMINISTRATOR grants all).
   */
  createGuild(name: string, options: { bot?: boolean; botPermissions?: bigint; everyonePermissions?: bigint } = {}): FakeGuild {
    const now = new Date();
    const guild: GuildState = {
      id: this.snowflakes.next(),
      name,
      ownerId: this.ownerUser.id,
      createdAt: now,
      botMember: false,
      botJoinedAt: now,
      botRoleId: this.snowflakes.next(),
      everyonePermissions: options.everyonePermissions ?? DEFAULT_PERMISSIONS,
      botRolePermissions: options.botPermissions ?? DEFAULT_PERMISSIONS,
      members: new Map(),
      channelIds: [],
    };
    this.guilds.set(guild.id, guild);
    if (options.bot !== false) this.addBotToGuild(guild);
    return { id: guild.id, name: guild.name };
  }

  /** The bot joins (is invited to) a guild: GUILD_CREATE to live sessions, as on Discord. */
  addBotToGuild(guild: FakeGuild): void {
    const state = this.requireGuild(guild);
    if (state.botMember) return;
    state.botMember = true;
    state.botJoinedAt = new Date();
    this.gateway.dispatch('GUILD_CREATE', this.guildCreatePayload(state), { intent: INTENTS.GUILDS, guildId: state.id });
    this.changed();
  }

  /** The bot is kicked from a guild: GUILD_DELETE (without `unavailable`), channels turn 50001. */
  removeBotFromGuild(guild: FakeGuild): void {
    const state = this.requireGuild(guild);
    if (!state.botMember) return;
    state.botMember = false;
    for (const members of this.threadMembersOf(state)) members.delete(this.botUser.id);
    this.gateway.dispatch('GUILD_DELETE', { id: state.id }, { intent: INTENTS.GUILDS, guildId: state.id });
    this.changed();
  }

  /** A text channel (type 0) in the guild; CHANNEL_CREATE when the bot is there to see it. */
  createTextChannel(guild: FakeGuild, name: string, options: { topic?: string; defaultAutoArchiveDuration?: 60 | 1440 | 4320 | 10080 } = {}): GuildTextChannel {
    const state = this.requireGuild(guild);
    const channel: GuildTextChannel = {
      id: this.snowflakes.next(),
      type: 0,
      guild_id: state.id,
      name,
      position: state.channelIds.length,
      parent_id: null,
      topic: options.topic ?? null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      permission_overwrites: [],
      flags: 0,
      ...(options.defaultAutoArchiveDuration === undefined ? {} : { default_auto_archive_duration: options.defaultAutoArchiveDuration }),
    };
    state.channelIds.push(channel.id);
    this.channels.set(channel.id, channel);
    this.messagesByChannel.set(channel.id, []);
    if (this.botSees(channel)) {
      this.gateway.dispatch('CHANNEL_CREATE', this.channelToApi(channel), { intent: INTENTS.GUILDS, guildId: state.id });
    }
    this.changed();
    return channel;
  }

  /**
   * The user joins the guild (needed before they can write there). GUILD_MEMBER_ADD goes only
   * to sessions with the privileged GUILD_MEMBERS intent.
   */
  addMember(guild: FakeGuild, user: DiscordUser): void {
    const state = this.requireGuild(guild);
    if (state.members.has(user.id)) return;
    const joinedAt = new Date();
    state.members.set(user.id, joinedAt);
    if (state.botMember) {
      this.gateway.dispatch(
        'GUILD_MEMBER_ADD',
        { ...memberJson(user, joinedAt, []), guild_id: state.id },
        { intent: INTENTS.GUILD_MEMBERS, guildId: state.id },
      );
    }
    this.changed();
  }

  /** Threads under a text channel (live objects), oldest first, archived ones included. */
  threads(parentChannelId: string): ThreadChannel[] {
    return [...this.channels.values()].filter(
      (channel): channel is ThreadChannel => (channel.type === 11 || channel.type === 12) && channel.parent_id === parentChannelId,
    );
  }

  /** Any channel the fake knows: DM, guild text channel or thread (live object). */
  channel(id: string): FakeChannel | undefined {
    return this.channels.get(id);
  }

  /** Ids of the users (and the bot) that are members of a thread. */
  threadMembers(threadId: string): string[] {
    return [...(this.threadMembersById.get(threadId)?.keys() ?? [])];
  }

  /**
   * Archives a thread as Discord's inactivity timer or a moderator would, optionally locking
   * it (only members with MANAGE_THREADS can then post or unarchive). THREAD_UPDATE follows.
   */
  archiveThread(threadId: string, options: { locked?: boolean } = {}): ThreadChannel {
    const thread = this.requireThreadForTest(threadId);
    thread.thread_metadata.archived = true;
    thread.thread_metadata.archive_timestamp = isoTimestamp(new Date());
    if (options.locked !== undefined) thread.thread_metadata.locked = options.locked;
    this.dispatchThread('THREAD_UPDATE', thread);
    this.changed();
    return thread;
  }

  /** The user writes a DM to the bot (MESSAGE_CREATE to sessions with DIRECT_MESSAGES). */
  userSends(user: DiscordUser, content: string, options: UserPostOptions = {}): FakeMessage {
    return this.userSendsIn(this.openDm(user).id, user, content, options);
  }

  /**
   * The user writes in a channel, as the Discord app would: their DM with the bot, a guild
   * text channel or a thread (they must be a guild member; private threads need thread
   * membership). Attachments are uploaded like the app does and served on the fake's CDN route.
   * MESSAGE_CREATE goes to sessions with GUILD_MESSAGES (guilds) or DIRECT_MESSAGES (DMs); in
   * guilds `content`, `attachments`, `embeds` and `components` are empty unless the session
   * asked for MESSAGE_CONTENT (privileged) or the message mentions the bot (`<@botId>`).
   * Posting in an archived thread unarchives it, unless it is locked (the helper then throws).
   * `replyTo` makes it a reply (type 19) that pings the replied-to author unless
   * `mentionRepliedUser: false`; a reply that pings the bot counts as mentioning it.
   */
  userSendsIn(channelId: string, user: DiscordUser, content: string, options: UserPostOptions = {}): FakeMessage {
    const channel = this.channels.get(channelId);
    if (channel === undefined) throw new Error(`fake-discord: no channel ${channelId}`);
    const attachments = options.attachments ?? [];
    if (content === '' && attachments.length === 0) throw new Error('fake-discord: the Discord app does not send empty messages');
    if ([...content].length > 2000) throw new Error('fake-discord: the Discord app limits messages to 2000 characters (without Nitro)');
    if (attachments.length > 10) throw new Error('fake-discord: the Discord app attaches at most 10 files');
    for (const attachment of attachments) {
      if (attachment.bytes.length > this.options.maxUploadBytes) throw new Error(`fake-discord: ${attachment.filename} is over the upload limit`);
    }
    const replyTo = options.replyTo === undefined ? undefined : this.messages.get(typeof options.replyTo === 'string' ? options.replyTo : options.replyTo.id);
    if (options.replyTo !== undefined && (replyTo === undefined || replyTo.channelId !== channelId || replyTo.deleted || replyTo.ephemeral)) {
      throw new Error(`fake-discord: the message to reply to is not in channel ${channelId} (or was deleted)`);
    }
    if (channel.type === 1) {
      if (channel.recipients[0]?.id !== user.id) throw new Error(`fake-discord: ${user.username} is not in DM channel ${channelId}`);
    } else {
      const guild = this.guilds.get(channel.guild_id)!;
      if (!guild.members.has(user.id)) throw new Error(`fake-discord: ${user.username} is not a member of guild "${guild.name}" (addMember)`);
      if (channel.type === 11 || channel.type === 12) {
        const members = this.threadMembersById.get(channel.id)!;
        if (channel.type === 12 && !members.has(user.id)) throw new Error(`fake-discord: ${user.username} is not in private thread "${channel.name}"`);
        if (channel.thread_metadata.locked) throw new Error(`fake-discord: thread "${channel.name}" is locked; members without MANAGE_THREADS cannot post`);
        if (channel.thread_metadata.archived) this.unarchive(channel);
        this.addThreadMember(channel, user);
      }
    }
    const uploads: UploadedFile[] = attachments.map((attachment, index) => ({
      field: `files[${index}]`,
      index,
      filename: attachment.filename,
      contentType: attachment.contentType ?? contentTypeFor(attachment.filename) ?? '',
      bytes: attachment.bytes,
    }));
    const input: MessageInput = {
      content,
      attachments: attachments.map((attachment, index) => ({
        id: String(index),
        ...(attachment.description === undefined ? {} : { description: attachment.description }),
      })),
    };
    return this.storeMessage(channel, user, input, uploads, {
      type: replyTo === undefined ? 0 : 19,
      replyTo,
      mentionRepliedUser: options.mentionRepliedUser !== false,
    });
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
    if (channel === undefined || !this.userSees(user, channel)) {
      throw new Error(`fake-discord: ${user.username} cannot see message ${id} (not their DM with the bot, or a guild channel they cannot see)`);
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
    return this.dispatchInteraction(state, channel, {
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
    return this.runCommand(user, this.openDm(user), name, options);
  }

  /**
   * The user runs a slash command in a channel: their DM with the bot, a guild text channel or a
   * thread they can see (guild member; private threads need membership). In guilds the guild's
   * own commands and global ones usable there (`contexts` with 0, or none) are offered, minus
   * those whose `default_member_permissions` @everyone lacks. Archived threads take no commands.
   * The interaction carries `guild_id`, `member` (with `permissions`), `app_permissions`,
   * `context: 0`; a reply posts in the channel (in a locked thread without MANAGE_THREADS the
   * callback answers 403 / 50083).
   */
  async runSlashCommandIn(channelId: string, user: DiscordUser, name: string, options: Record<string, SlashOptionValue> = {}): Promise<InteractionHandle> {
    const channel = this.channels.get(channelId);
    if (channel === undefined) throw new Error(`fake-discord: no channel ${channelId}`);
    if (!this.userSees(user, channel)) throw new Error(`fake-discord: ${user.username} cannot see channel ${channelId}`);
    if (this.isThread(channel) && channel.thread_metadata.archived) {
      throw new Error(`fake-discord: thread "${channel.name}" is archived; Discord offers no commands there until it is reopened`);
    }
    return this.runCommand(user, channel, name, options);
  }

  /** Whether the user can see (and act in) a channel: DM recipient, or guild member (private threads: thread member). */
  private userSees(user: DiscordUser, channel: FakeChannel): boolean {
    if (channel.type === 1) return channel.recipients[0]?.id === user.id;
    if (!this.guilds.get(channel.guild_id)!.members.has(user.id)) return false;
    return channel.type !== 12 || this.threadMembersById.get(channel.id)!.has(user.id);
  }

  private async runCommand(user: DiscordUser, channel: FakeChannel, name: string, options: Record<string, SlashOptionValue>): Promise<InteractionHandle> {
    const [commandName = '', subcommandName] = name.trim().split(/\s+/);
    const guild = channel.type === 1 ? undefined : this.guilds.get(channel.guild_id)!;
    const usable = (candidate: ApplicationCommand, scope: 'global' | 'guild'): boolean => {
      if (candidate.type !== 1) return false;
      if (guild === undefined) return scope === 'global' && (candidate.contexts !== null ? candidate.contexts.includes(1) : candidate.dm_permission);
      if (scope === 'global' && candidate.contexts !== null && !candidate.contexts.includes(0)) return false;
      // Members see only commands whose default_member_permissions @everyone has.
      const required = candidate.default_member_permissions === null ? 0n : BigInt(candidate.default_member_permissions);
      return (required & ~guild.everyonePermissions) === 0n && !(required === 0n && candidate.default_member_permissions === '0');
    };
    const offered = [
      ...(guild === undefined ? [] : (this.commandScopes.get(guild.id) ?? []).filter((candidate) => usable(candidate, 'guild'))),
      ...(this.commandScopes.get('global') ?? []).filter((candidate) => usable(candidate, 'global')),
    ];
    const command = offered.find((candidate) => candidate.name === commandName);
    if (command === undefined) {
      const registered = (this.commandScopes.get('global') ?? []).find((candidate) => candidate.type === 1 && candidate.name === commandName);
      if (registered !== undefined && guild === undefined) {
        throw new Error(`fake-discord: /${commandName} is not available in DMs with the bot (contexts/dm_permission)`);
      }
      if (registered !== undefined) throw new Error(`fake-discord: /${commandName} is not available to ${user.username} in this guild (contexts/default_member_permissions)`);
      const names = offered.map((candidate) => `/${candidate.name}`);
      throw new Error(`fake-discord: no ${guild === undefined ? 'global ' : ''}slash command /${commandName} is registered (usable here: ${names.join(', ') || 'none'})`);
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
    const state = this.newInteraction({ type: 2, userId: user.id, channelId: channel.id, commandName });
    const dataOptions = wrap(values);
    return this.dispatchInteraction(state, channel, {
      ...this.interactionBase(state, user, channel),
      data: {
        id: command.id,
        name: command.name,
        type: 1,
        ...(command.guild_id === undefined ? {} : { guild_id: command.guild_id }),
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

  private interactionBase(state: InteractionState, user: DiscordUser, channel: FakeChannel): Record<string, unknown> {
    const common = {
      id: state.id,
      application_id: this.applicationId,
      type: state.type,
      token: state.token,
      version: 1,
      channel_id: channel.id,
      channel: this.channelToApi(channel, false),
      locale: user.locale ?? 'en-US',
      entitlements: [],
      attachment_size_limit: this.options.maxUploadBytes,
    };
    if (channel.type === 1) {
      return { ...common, user: this.publicUser(user), app_permissions: DM_APP_PERMISSIONS, authorizing_integration_owners: { '0': '0' }, context: 1 };
    }
    const guild = this.guilds.get(channel.guild_id)!;
    return {
      ...common,
      guild_id: guild.id,
      guild: { id: guild.id, locale: 'en-US', features: [] },
      guild_locale: 'en-US',
      member: { ...memberJson(user, guild.members.get(user.id)!, []), permissions: guild.everyonePermissions.toString() },
      // Without the bot in the guild, the app acts with what @everyone may do.
      app_permissions: (guild.botMember ? botPermissions(guild) : guild.everyonePermissions).toString(),
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
    };
  }

  private dispatchInteraction(state: InteractionState, channel: FakeChannel, payload: Record<string, unknown>): InteractionHandle {
    const delivered = this.gateway.dispatch('INTERACTION_CREATE', payload, channel.type === 1 ? { dm: true } : { guildId: channel.guild_id });
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
    if (cdn !== null && method === 'GET') return this.serveAttachment(response, cdn[1]!, cdn[2]!);

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

  private serveAttachment(response: http.ServerResponse, channelId: string, attachmentId: string): void {
    for (const message of this.messagesByChannel.get(channelId) ?? []) {
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
    this.route('PATCH', '/channels/:channel', ({ params, body }) => this.patchChannel(params.channel!, body.json));
    this.route('DELETE', '/channels/:channel', () => {
      throw ERR.notModelled('deleting channels');
    });
    this.route('GET', '/channels/:channel/messages', ({ params, query }) => {
      const channel = this.requireChannel(params.channel!);
      if (channel.type !== 1 && !has(this.permissionsIn(channel), PERMISSIONS.READ_MESSAGE_HISTORY)) return { status: 200, body: [] };
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50)));
      const visible = (this.messagesByChannel.get(channel.id) ?? []).filter((message) => !message.deleted && !message.ephemeral);
      return { status: 200, body: visible.slice(-limit).reverse().map((message) => this.messageToApi(message, this.restSeesContent(message))) };
    });
    this.route('POST', '/channels/:channel/messages', ({ params, body }) => {
      const channel = this.requireChannel(params.channel!);
      const input = validateMessage(body.json);
      this.resolveReference(channel, input);
      if (channel.type === 1) {
        if (this.dmsClosed.has(channel.recipients[0]!.id)) throw ERR.dmsClosed();
      } else {
        const empty = (input.content ?? '') === '' && !input.embeds?.length && !input.components?.length && body.files.length === 0;
        if (empty) throw ERR.emptyMessage();
        this.checkCanSend(channel, body.files.length > 0);
        // The API unarchives an archived thread for the post, and adds the bot to it.
        if (this.isThread(channel)) {
          if (channel.thread_metadata.archived) this.unarchive(channel);
          this.addThreadMember(channel, this.botUser);
        }
      }
      const replyTo = this.resolveReference(channel, input);
      const message = this.storeMessage(channel, this.botUser, input, body.files, { type: replyTo === undefined ? 0 : 19, replyTo });
      return { status: 200, body: this.messageToApi(message) };
    });
    this.route('GET', '/channels/:channel/messages/:message', ({ params }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      return { status: 200, body: this.messageToApi(message, this.restSeesContent(message)) };
    });
    this.route('PATCH', '/channels/:channel/messages/:message', ({ params, body }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      if (message.author.id !== this.botUser.id) throw ERR.cannotEditOthers();
      this.checkNotArchived(message.channelId);
      this.editMessage(message, validateMessage(body.json), body.files);
      return { status: 200, body: this.messageToApi(message) };
    });
    this.route('DELETE', '/channels/:channel/messages/:message', ({ params }) => {
      const message = this.requireChannelMessage(params.channel!, params.message!);
      const channel = this.channels.get(message.channelId)!;
      if (message.author.id !== this.botUser.id) {
        if (channel.type === 1) throw ERR.missingAccess();
        if (!has(this.permissionsIn(channel), PERMISSIONS.MANAGE_MESSAGES)) throw ERR.missingPermissions();
      }
      this.checkNotArchived(message.channelId);
      this.deleteMessage(message);
      return { status: 204 };
    });
    this.route('POST', '/channels/:channel/typing', ({ params }) => {
      this.requireChannel(params.channel!);
      return { status: 204 };
    });
    this.route('POST', '/channels/:channel/messages/:message/threads', ({ params, body }) =>
      this.startThread(params.channel!, params.message!, body.json),
    );
    this.route('POST', '/channels/:channel/threads', ({ params, body }) => this.startThread(params.channel!, undefined, body.json));
    this.route('GET', '/channels/:channel/threads/archived/public', ({ params, query }) => this.archivedThreads(params.channel!, query));
    this.route('GET', '/channels/:channel/thread-members', ({ params }) => {
      const thread = this.requireThread(params.channel!);
      const members = [...this.threadMembersById.get(thread.id)!].map(([userId, joinedAt]) => this.threadMemberJson(thread, userId, joinedAt));
      return { status: 200, body: members };
    });
    this.route('GET', '/channels/:channel/thread-members/:user', ({ params }) => {
      const thread = this.requireThread(params.channel!);
      const userId = params.user === '@me' ? this.botUser.id : params.user!;
      const joinedAt = this.threadMembersById.get(thread.id)!.get(userId);
      if (joinedAt === undefined) throw ERR.unknownMember();
      return { status: 200, body: this.threadMemberJson(thread, userId, joinedAt) };
    });
    this.route('PUT', '/channels/:channel/thread-members/:user', ({ params }) => this.putThreadMember(params.channel!, params.user!));
    this.route('DELETE', '/channels/:channel/thread-members/:user', ({ params }) => this.deleteThreadMember(params.channel!, params.user!));

    this.route('GET', '/guilds/:guild', ({ params }) => {
      const guild = this.requireBotGuild(params.guild!);
      return { status: 200, body: guildJson(guild, this.botUser) };
    });
    this.route('GET', '/guilds/:guild/channels', ({ params }) => {
      const guild = this.requireBotGuild(params.guild!);
      return { status: 200, body: guild.channelIds.map((id) => this.channelToApi(this.channels.get(id)!)) };
    });
    this.route('GET', '/guilds/:guild/threads/active', ({ params }) => {
      const guild = this.requireBotGuild(params.guild!);
      const threads = this.activeThreads(guild);
      return {
        status: 200,
        body: {
          threads: threads.map((thread) => this.channelToApi(thread, false)),
          members: threads.flatMap((thread) => {
            const joinedAt = this.threadMembersById.get(thread.id)!.get(this.botUser.id);
            return joinedAt === undefined ? [] : [this.threadMemberJson(thread, this.botUser.id, joinedAt)];
          }),
        },
      };
    });
    this.route('GET', '/guilds/:guild/members/:user', ({ params }) => {
      const guild = this.requireBotGuild(params.guild!);
      if (params.user === this.botUser.id) return { status: 200, body: memberJson(this.botUser, guild.botJoinedAt, [guild.botRoleId]) };
      const joinedAt = guild.members.get(params.user!);
      if (joinedAt === undefined) throw ERR.unknownMember();
      return { status: 200, body: memberJson(this.users.get(params.user!), joinedAt, []) };
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

  /**
   * A channel as the API returns it. Threads carry the bot's thread `member` when it joined
   * (REST reads); channels inside GUILD_CREATE carry no `guild_id`, as on Discord.
   */
  private channelToApi(channel: FakeChannel, withMember = true, withGuildId = true): Record<string, unknown> {
    if (channel.type === 1) return { ...channel, recipients: channel.recipients.map((user) => this.publicUser(user)) };
    const { guild_id: guildId, ...rest } = clone(channel);
    const api: Record<string, unknown> = { ...rest, ...(withGuildId ? { guild_id: guildId } : {}) };
    if (channel.type !== 0 && withMember) {
      const joinedAt = this.threadMembersById.get(channel.id)?.get(this.botUser.id);
      if (joinedAt !== undefined) api.member = this.threadMemberJson(channel, this.botUser.id, joinedAt);
    }
    return api;
  }

  private threadMemberJson(thread: ThreadChannel, userId: string, joinedAt: Date): Record<string, unknown> {
    return { id: thread.id, user_id: userId, join_timestamp: isoTimestamp(joinedAt), flags: 0 };
  }

  private createDm(body: unknown): Reply {
    const recipientId = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).recipient_id : undefined;
    if (recipientId === undefined || recipientId === null) throw invalidFormBody(['recipient_id'], FIELD.required());
    const user = this.users.get(String(recipientId));
    if (user === undefined) throw ERR.invalidRecipient();
    return { status: 200, body: this.channelToApi(this.openDm(user)) };
  }

  // -------------------------------------------------------------------------------------------
  // Guilds, permissions and threads

  private requireGuild(guild: FakeGuild | string): GuildState {
    const state = this.guilds.get(typeof guild === 'string' ? guild : guild.id);
    if (state === undefined) throw new Error(`fake-discord: no guild ${typeof guild === 'string' ? guild : guild.id} (createGuild)`);
    return state;
  }

  /** For REST: the guild must exist and have the bot. */
  private requireBotGuild(id: string): GuildState {
    const guild = this.guilds.get(id);
    if (guild === undefined) throw ERR.unknownGuild();
    if (!guild.botMember) throw ERR.missingAccess();
    return guild;
  }

  private botGuilds(): GuildState[] {
    return [...this.guilds.values()].filter((guild) => guild.botMember);
  }

  private isThread(channel: FakeChannel): channel is ThreadChannel {
    return channel.type === 11 || channel.type === 12;
  }

  /** The bot's permissions in a guild channel or thread (guild-wide: no overwrites). */
  private permissionsIn(channel: GuildTextChannel | ThreadChannel): bigint {
    const guild = this.guilds.get(channel.guild_id)!;
    return guild.botMember ? botPermissions(guild) : 0n;
  }

  /** Whether the bot can see the channel: in the guild, VIEW_CHANNEL, and for private threads a member or a moderator. */
  private botSees(channel: FakeChannel): boolean {
    if (channel.type === 1) return true;
    const permissions = this.permissionsIn(channel);
    if (!has(permissions, PERMISSIONS.VIEW_CHANNEL)) return false;
    if (channel.type === 12) {
      return this.threadMembersById.get(channel.id)!.has(this.botUser.id) || has(permissions, PERMISSIONS.MANAGE_THREADS);
    }
    return true;
  }

  /** Unknown -> 10003; not visible to the bot (not in the guild, no VIEW_CHANNEL, private thread) -> 50001. */
  private requireChannel(id: string): FakeChannel {
    const channel = this.channels.get(id);
    if (channel === undefined) throw ERR.unknownChannel();
    if (!this.botSees(channel)) throw ERR.missingAccess();
    return channel;
  }

  /** Where an interaction's messages go: its channel (interactions need no bot access to it). */
  private interactionChannel(state: InteractionState): FakeChannel {
    return this.channels.get(state.channelId)!;
  }

  /**
   * Before an interaction posts a message in a thread: locked without MANAGE_THREADS → 403 / 50083
   * (as Discord answers, discord-api-docs#6884/#7707); archived → reopened by the post.
   */
  private prepareInteractionPost(channel: FakeChannel): void {
    if (!this.isThread(channel)) return;
    if (channel.thread_metadata.locked && !has(this.permissionsIn(channel), PERMISSIONS.MANAGE_THREADS)) throw ERR.threadArchived(403);
    if (channel.thread_metadata.archived) this.unarchive(channel);
  }

  private requireThread(id: string): ThreadChannel {
    const channel = this.requireChannel(id);
    if (!this.isThread(channel)) throw ERR.wrongChannelType();
    return channel;
  }

  private requireThreadForTest(id: string): ThreadChannel {
    const channel = this.channels.get(id);
    if (channel === undefined || !this.isThread(channel)) throw new Error(`fake-discord: no thread ${id}`);
    return channel;
  }

  private threadMembersOf(guild: GuildState): Array<Map<string, Date>> {
    return [...this.channels.values()]
      .filter((channel): channel is ThreadChannel => this.isThread(channel) && channel.guild_id === guild.id)
      .map((thread) => this.threadMembersById.get(thread.id)!);
  }

  private activeThreads(guild: GuildState): ThreadChannel[] {
    return [...this.channels.values()].filter(
      (channel): channel is ThreadChannel =>
        this.isThread(channel) && channel.guild_id === guild.id && !channel.thread_metadata.archived && this.botSees(channel),
    );
  }

  /** GUILD_CREATE: the guild with its channels, active threads, roles and the bot's member. */
  private guildCreatePayload(guild: GuildState): Record<string, unknown> {
    return {
      ...guildJson(guild, this.botUser),
      joined_at: isoTimestamp(guild.botJoinedAt),
      large: false,
      unavailable: false,
      member_count: guild.members.size + 1,
      voice_states: [],
      // Without GUILD_MEMBERS/GUILD_PRESENCES only the bot itself (and users in voice) are sent.
      members: [memberJson(this.botUser, guild.botJoinedAt, [guild.botRoleId])],
      channels: guild.channelIds.map((id) => this.channels.get(id)!).filter((channel) => this.botSees(channel)).map((channel) => this.channelToApi(channel, false, false)),
      threads: this.activeThreads(guild).map((thread) => this.channelToApi(thread)),
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      activity_instances: [],
      application_command_counts: {},
      lazy: true,
    };
  }

  /** THREAD_CREATE / THREAD_UPDATE / THREAD_DELETE to sessions that can see the thread. */
  private dispatchThread(event: 'THREAD_CREATE' | 'THREAD_UPDATE', thread: ThreadChannel, extra: Record<string, unknown> = {}): void {
    if (!this.botSees(thread)) return;
    this.gateway.dispatch(event, { ...this.channelToApi(thread), ...extra }, { intent: INTENTS.GUILDS, guildId: thread.guild_id });
  }

  /**
   * Adds a user (or the bot) to a thread. For the bot, Discord sends THREAD_MEMBERS_UPDATE and a
   * THREAD_CREATE; other users' joins reach only sessions with GUILD_MEMBERS.
   */
  private addThreadMember(thread: ThreadChannel, user: DiscordUser): void {
    const members = this.threadMembersById.get(thread.id)!;
    if (members.has(user.id)) return;
    const joinedAt = new Date();
    members.set(user.id, joinedAt);
    thread.member_count = Math.min(50, members.size);
    const isBot = user.id === this.botUser.id;
    const update = {
      id: thread.id,
      guild_id: thread.guild_id,
      member_count: thread.member_count,
      added_members: [this.threadMemberJson(thread, user.id, joinedAt)],
    };
    if (isBot) this.dispatchThread('THREAD_CREATE', thread);
    if (this.botSees(thread)) {
      this.gateway.dispatch('THREAD_MEMBERS_UPDATE', update, {
        intent: isBot ? INTENTS.GUILDS : INTENTS.GUILD_MEMBERS,
        guildId: thread.guild_id,
      });
    }
  }

  private removeThreadMember(thread: ThreadChannel, userId: string): void {
    const members = this.threadMembersById.get(thread.id)!;
    if (!members.delete(userId)) return;
    thread.member_count = Math.min(50, members.size);
    const isBot = userId === this.botUser.id;
    const visible = isBot ? true : this.botSees(thread);
    if (visible) {
      this.gateway.dispatch(
        'THREAD_MEMBERS_UPDATE',
        { id: thread.id, guild_id: thread.guild_id, member_count: thread.member_count, removed_member_ids: [userId] },
        { intent: isBot ? INTENTS.GUILDS : INTENTS.GUILD_MEMBERS, guildId: thread.guild_id },
      );
    }
  }

  private unarchive(thread: ThreadChannel): void {
    thread.thread_metadata.archived = false;
    thread.thread_metadata.archive_timestamp = isoTimestamp(new Date());
    this.dispatchThread('THREAD_UPDATE', thread);
  }

  /**
   * Before the bot posts in a guild channel: SEND_MESSAGES (channels) or SEND_MESSAGES_IN_THREADS
   * (threads), ATTACH_FILES for files. A locked thread takes MANAGE_THREADS (else 403 / 50083
   * "Thread is archived", Discord's answer there). Archived but unlocked threads are fine: the
   * post unarchives them.
   */
  private checkCanSend(channel: GuildTextChannel | ThreadChannel, withFiles: boolean): void {
    const permissions = this.permissionsIn(channel);
    const thread = this.isThread(channel) ? channel : undefined;
    if (!has(permissions, thread === undefined ? PERMISSIONS.SEND_MESSAGES : PERMISSIONS.SEND_MESSAGES_IN_THREADS)) throw ERR.missingPermissions();
    if (withFiles && !has(permissions, PERMISSIONS.ATTACH_FILES)) throw ERR.missingPermissions();
    if (thread === undefined) return;
    if (thread.thread_metadata.locked && !has(permissions, PERMISSIONS.MANAGE_THREADS)) throw ERR.threadArchived(403);
  }

  /** Edits, deletes and joins are refused in archived threads (400 / 50083). */
  private checkNotArchived(channelId: string): void {
    const channel = this.channels.get(channelId);
    if (channel !== undefined && this.isThread(channel) && channel.thread_metadata.archived) throw ERR.threadArchived();
  }

  /** POST /channels/{id}/messages/{id}/threads and POST /channels/{id}/threads. */
  private startThread(channelId: string, messageId: string | undefined, body: unknown): Reply {
    const parent = this.requireChannel(channelId);
    if (parent.type !== 0) throw ERR.wrongChannelType();
    const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const errors = new FormErrors();
    const name = raw.name;
    if (name === undefined || name === null) errors.add(['name'], FIELD.required());
    else if (typeof name !== 'string') errors.add(['name'], FIELD.string());
    else if ([...name].length < 1 || [...name].length > 100) errors.add(['name'], FIELD.badLength(1, 100));
    const duration = raw.auto_archive_duration ?? parent.default_auto_archive_duration ?? 4320;
    if (![60, 1440, 4320, 10080].includes(duration as number)) errors.add(['auto_archive_duration'], FIELD.enumValue(duration));
    const rateLimit = raw.rate_limit_per_user ?? 0;
    if (typeof rateLimit !== 'number' || !Number.isInteger(rateLimit) || rateLimit < 0 || rateLimit > 21600) {
      errors.add(['rate_limit_per_user'], { code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 21600.' });
    }
    // API v10: the thread type is required when there is no starting message.
    let type: 11 | 12 = 11;
    if (messageId === undefined) {
      if (raw.type === undefined || raw.type === null) errors.add(['type'], FIELD.required());
      else if (raw.type === 10) throw ERR.notModelled('announcement threads');
      else if (raw.type !== 11 && raw.type !== 12) errors.add(['type'], FIELD.enumValue(raw.type));
      else type = raw.type;
    }
    errors.throwIfAny();
    const permissions = this.permissionsIn(parent);
    if (!has(permissions, type === 11 ? PERMISSIONS.CREATE_PUBLIC_THREADS : PERMISSIONS.CREATE_PRIVATE_THREADS)) throw ERR.missingPermissions();
    let starter: FakeMessage | undefined;
    if (messageId !== undefined) {
      starter = this.requireChannelMessage(parent.id, messageId);
      if (starter.threadId !== undefined) throw ERR.threadAlreadyCreated();
    }
    const now = new Date();
    const thread: ThreadChannel = {
      // A thread started from a message shares its id.
      id: starter?.id ?? this.snowflakes.next(),
      type,
      guild_id: parent.guild_id,
      parent_id: parent.id,
      owner_id: this.botUser.id,
      name: name as string,
      last_message_id: null,
      message_count: 0,
      member_count: 0,
      total_message_sent: 0,
      rate_limit_per_user: rateLimit as number,
      flags: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: duration as number,
        archive_timestamp: isoTimestamp(now),
        locked: false,
        create_timestamp: isoTimestamp(now),
        ...(type === 12 ? { invitable: raw.invitable !== false } : {}),
      },
    };
    this.channels.set(thread.id, thread);
    this.messagesByChannel.set(thread.id, []);
    this.threadMembersById.set(thread.id, new Map([[this.botUser.id, now]]));
    thread.member_count = 1;
    this.dispatchThread('THREAD_CREATE', thread, { newly_created: true });
    if (starter !== undefined) {
      starter.threadId = thread.id;
      starter.flags |= MESSAGE_FLAGS.HAS_THREAD;
      this.dispatchMessage('MESSAGE_UPDATE', starter);
    }
    this.changed();
    return { status: 201, body: this.channelToApi(thread) };
  }

  /** PATCH /channels/{id}: threads only (name, archived, locked, auto_archive_duration, ...). */
  private patchChannel(channelId: string, body: unknown): Reply {
    const channel = this.requireChannel(channelId);
    if (!this.isThread(channel)) throw ERR.notModelled('editing channels other than threads');
    const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const errors = new FormErrors();
    const known = new Set(['name', 'archived', 'locked', 'auto_archive_duration', 'invitable', 'rate_limit_per_user', 'flags', 'applied_tags']);
    const fields = Object.keys(raw).filter((key) => known.has(key) && raw[key] !== undefined);
    if ('name' in raw && (typeof raw.name !== 'string' || [...raw.name].length < 1 || [...raw.name].length > 100)) {
      errors.add(['name'], typeof raw.name === 'string' ? FIELD.badLength(1, 100) : FIELD.string());
    }
    for (const flag of ['archived', 'locked', 'invitable']) {
      if (flag in raw && typeof raw[flag] !== 'boolean') errors.add([flag], { code: 'BASE_TYPE_BOOLEAN', message: 'Must be either true or false.' });
    }
    if ('auto_archive_duration' in raw && ![60, 1440, 4320, 10080].includes(raw.auto_archive_duration as number)) {
      errors.add(['auto_archive_duration'], FIELD.enumValue(raw.auto_archive_duration));
    }
    errors.throwIfAny();
    const permissions = this.permissionsIn(channel);
    const moderator = has(permissions, PERMISSIONS.MANAGE_THREADS);
    const owner = channel.owner_id === this.botUser.id;
    const metadata = channel.thread_metadata;
    const unarchiving = raw.archived === false && metadata.archived;
    // Only active threads can be changed; archiving, locking and unarchiving work on archived ones.
    if (metadata.archived && raw.archived !== false && fields.some((field) => field !== 'archived' && field !== 'locked')) throw ERR.threadArchived();
    if (('locked' in raw && raw.locked !== metadata.locked) || 'rate_limit_per_user' in raw) {
      if (!moderator) throw ERR.missingPermissions();
    }
    if (unarchiving && metadata.locked && raw.locked !== false && !moderator) throw ERR.missingPermissions();
    if (unarchiving && !moderator && !owner && !this.threadMembersById.get(channel.id)!.has(this.botUser.id)) throw ERR.missingPermissions();
    if ((('name' in raw && raw.name !== channel.name) || raw.archived === true || 'auto_archive_duration' in raw) && !moderator && !owner) {
      throw ERR.missingPermissions();
    }
    const now = isoTimestamp(new Date());
    if (typeof raw.name === 'string') channel.name = raw.name;
    if (typeof raw.locked === 'boolean') metadata.locked = raw.locked;
    if (typeof raw.invitable === 'boolean' && channel.type === 12) metadata.invitable = raw.invitable;
    if (typeof raw.rate_limit_per_user === 'number') channel.rate_limit_per_user = raw.rate_limit_per_user;
    if (typeof raw.auto_archive_duration === 'number') {
      metadata.auto_archive_duration = raw.auto_archive_duration;
      metadata.archive_timestamp = now;
    }
    if (typeof raw.archived === 'boolean' && raw.archived !== metadata.archived) {
      metadata.archived = raw.archived;
      metadata.archive_timestamp = now;
    }
    this.dispatchThread('THREAD_UPDATE', channel);
    this.changed();
    return { status: 200, body: this.channelToApi(channel) };
  }

  private putThreadMember(threadId: string, userParam: string): Reply {
    const thread = this.requireThread(threadId);
    if (thread.thread_metadata.archived) throw ERR.threadArchived();
    if (userParam === '@me') {
      this.addThreadMember(thread, this.botUser);
    } else {
      const user = this.users.get(userParam);
      const guild = this.guilds.get(thread.guild_id)!;
      if (user === undefined || !guild.members.has(user.id)) throw ERR.unknownMember();
      // Adding others: anyone who can post may add to public threads; private ones need invitable or MANAGE_THREADS.
      const permissions = this.permissionsIn(thread);
      if (!has(permissions, PERMISSIONS.SEND_MESSAGES_IN_THREADS)) throw ERR.missingPermissions();
      if (thread.type === 12 && thread.thread_metadata.invitable === false && !has(permissions, PERMISSIONS.MANAGE_THREADS)) {
        throw ERR.missingPermissions();
      }
      this.addThreadMember(thread, user);
    }
    this.changed();
    return { status: 204 };
  }

  private deleteThreadMember(threadId: string, userParam: string): Reply {
    const thread = this.requireThread(threadId);
    if (thread.thread_metadata.archived) throw ERR.threadArchived();
    if (userParam !== '@me') {
      const permissions = this.permissionsIn(thread);
      if (!has(permissions, PERMISSIONS.MANAGE_THREADS) && thread.owner_id !== this.botUser.id) throw ERR.missingPermissions();
    }
    this.removeThreadMember(thread, userParam === '@me' ? this.botUser.id : userParam);
    this.changed();
    return { status: 204 };
  }

  private archivedThreads(channelId: string, query: URLSearchParams): Reply {
    const parent = this.requireChannel(channelId);
    if (parent.type !== 0) throw ERR.wrongChannelType();
    if (!has(this.permissionsIn(parent), PERMISSIONS.READ_MESSAGE_HISTORY)) throw ERR.missingPermissions();
    const limit = Math.max(1, Number(query.get('limit') ?? 50));
    const before = query.get('before');
    const archived = this.threads(parent.id)
      .filter((thread) => thread.type === 11 && thread.thread_metadata.archived)
      .filter((thread) => before === null || Date.parse(thread.thread_metadata.archive_timestamp) < Date.parse(before))
      .sort((a, b) => Date.parse(b.thread_metadata.archive_timestamp) - Date.parse(a.thread_metadata.archive_timestamp));
    const page = archived.slice(0, limit);
    return {
      status: 200,
      body: {
        threads: page.map((thread) => this.channelToApi(thread, false)),
        members: page.flatMap((thread) => {
          const joinedAt = this.threadMembersById.get(thread.id)!.get(this.botUser.id);
          return joinedAt === undefined ? [] : [this.threadMemberJson(thread, this.botUser.id, joinedAt)];
        }),
        has_more: archived.length > page.length,
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Messages

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

  /**
   * The message a reply refers to: it must exist in the same channel, else 400 / 50035
   * MESSAGE_REFERENCE_UNKNOWN_MESSAGE, unless `fail_if_not_exists` is false (sent as a plain message).
   */
  private resolveReference(channel: FakeChannel, input: MessageInput): FakeMessage | undefined {
    const reference = input.messageReference;
    if (reference === undefined) return undefined;
    const target = this.messages.get(reference.messageId);
    const found =
      target !== undefined && !target.deleted && !target.ephemeral && target.channelId === channel.id && (reference.channelId ?? channel.id) === channel.id;
    if (found) return target;
    if (!reference.failIfNotExists) return undefined;
    throw invalidFormBody(['message_reference'], { code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' });
  }

  /** `<@id>` and `<@!id>` in a user's message, resolved to known users. */
  private parseMentions(content: string): DiscordUser[] {
    const found = new Map<string, DiscordUser>();
    for (const match of content.matchAll(/<@!?(\d{17,20})>/g)) {
      const id = match[1]!;
      const user = id === this.botUser.id ? this.botUser : this.users.get(id);
      if (user !== undefined) found.set(id, user);
    }
    return [...found.values()];
  }

  private storeMessage(
    channel: FakeChannel,
    author: DiscordUser,
    input: MessageInput,
    files: UploadedFile[],
    extra: { type: number; ephemeral?: boolean; loading?: boolean; interactionId?: string; replyTo?: FakeMessage | undefined; mentionRepliedUser?: boolean },
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
    const thread = this.isThread(channel) ? channel : undefined;
    const message: FakeMessage = {
      id: this.snowflakes.next(),
      channelId: channel.id,
      ...(channel.type === 1 ? {} : { guildId: channel.guild_id }),
      author,
      type: extra.type,
      content,
      embeds,
      components,
      attachments,
      flags,
      ephemeral: extra.ephemeral === true,
      ...(extra.interactionId === undefined ? {} : { interactionId: extra.interactionId }),
      mentions: [
        ...new Map(
          [
            ...(author.id === this.botUser.id ? [] : this.parseMentions(content)),
            // A reply pings the replied-to author unless told not to.
            ...(extra.replyTo !== undefined && extra.mentionRepliedUser === true ? [extra.replyTo.author] : []),
          ].map((user) => [user.id, user]),
        ).values(),
      ],
      ...(extra.replyTo === undefined ? {} : { referencedMessageId: extra.replyTo.id }),
      ...(thread === undefined ? {} : { position: thread.total_message_sent }),
      createdAt: new Date(),
      editedAt: null,
      history: [],
      deleted: false,
    };
    this.messages.set(message.id, message);
    this.messagesByChannel.get(channel.id)!.push(message);
    if (!message.ephemeral) {
      channel.last_message_id = message.id;
      if (thread !== undefined) {
        thread.message_count++;
        thread.total_message_sent++;
      }
      this.dispatchMessage('MESSAGE_CREATE', message);
    }
    this.changed();
    return message;
  }

  /**
   * MESSAGE_CREATE/UPDATE: DMs to DIRECT_MESSAGES sessions on shard 0; guild messages to
   * GUILD_MESSAGES sessions of the guild's shard that can see the channel. Content is per
   * session: empty without MESSAGE_CONTENT unless the bot wrote it or is mentioned.
   */
  private dispatchMessage(event: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', message: FakeMessage): void {
    const channel = this.channels.get(message.channelId)!;
    // The gateway adds `channel_type`; discord.js needs it to place a message in a DM it has not cached.
    if (channel.type === 1) {
      this.gateway.dispatch(event, { ...this.messageToApi(message), channel_type: 1 }, { intent: INTENTS.DIRECT_MESSAGES, dm: true });
      return;
    }
    if (!this.botSees(channel)) return;
    this.gateway.dispatch(
      event,
      (session: { intents: number }) => ({
        ...this.messageToApi(message, (session.intents & INTENTS.MESSAGE_CONTENT) !== 0 || this.contentExempt(message)),
        channel_type: channel.type,
      }),
      { intent: INTENTS.GUILD_MESSAGES, guildId: channel.guild_id },
    );
  }

  /** Content Discord shows even without the MESSAGE_CONTENT intent: DMs, the bot's own, mentions of the bot. */
  private contentExempt(message: FakeMessage): boolean {
    return message.guildId === undefined || message.author.id === this.botUser.id || message.mentions.some((user) => user.id === this.botUser.id);
  }

  /** REST reads show content when the intent is enabled for the app in the developer portal. */
  private restSeesContent(message: FakeMessage): boolean {
    return (this.options.privilegedIntents & INTENTS.MESSAGE_CONTENT) !== 0 || this.contentExempt(message);
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
    if (!message.ephemeral) this.dispatchMessage('MESSAGE_UPDATE', message);
    this.changed();
  }

  private deleteMessage(message: FakeMessage): void {
    message.deleted = true;
    if (!message.ephemeral) {
      const channel = this.channels.get(message.channelId)!;
      if (channel.type === 1) {
        this.gateway.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channelId }, { intent: INTENTS.DIRECT_MESSAGES, dm: true });
      } else if (this.botSees(channel)) {
        this.gateway.dispatch(
          'MESSAGE_DELETE',
          { id: message.id, channel_id: message.channelId, guild_id: channel.guild_id },
          { intent: INTENTS.GUILD_MESSAGES, guildId: channel.guild_id },
        );
      }
      if (this.isThread(channel)) channel.message_count = Math.max(0, channel.message_count - 1);
    }
    this.changed();
  }

  private attachmentToApi(message: FakeMessage, attachment: FakeAttachment): Record<string, unknown> {
    const { bytes: _bytes, ...fields } = attachment;
    const expires = Math.floor(Date.now() / 1000) + 86_400;
    const signature = `?ex=${expires.toString(16)}&is=${Math.floor(message.createdAt.getTime() / 1000).toString(16)}&hm=${randomBytes(32).toString('hex')}&`;
    // cdn.discordapp.com and media.discordapp.net in production; both are the fake's CDN route here.
    const url = `http://127.0.0.1:${this.port}/attachments/${message.channelId}/${attachment.id}/${encodeURIComponent(attachment.filename)}${signature}`;
    return { ...fields, url, proxy_url: url, ...(message.ephemeral ? { ephemeral: true } : {}) };
  }

  /** The message object; with `showContent` false the user-typed parts are empty, as without the intent. */
  private messageToApi(message: FakeMessage, showContent = true, withReference = true): Record<string, unknown> {
    const guild = message.guildId === undefined ? undefined : this.guilds.get(message.guildId);
    const memberOf = (user: DiscordUser): Record<string, unknown> | undefined => {
      if (guild === undefined) return undefined;
      if (user.id === this.botUser.id) return memberJson(undefined, guild.botJoinedAt, [guild.botRoleId]);
      const joinedAt = guild.members.get(user.id);
      return joinedAt === undefined ? undefined : memberJson(undefined, joinedAt, []);
    };
    const api: Record<string, unknown> = {
      type: message.type,
      content: showContent ? message.content : '',
      mentions: message.mentions.map((user) => {
        const member = memberOf(user);
        return { ...this.publicUser(user), ...(member === undefined ? {} : { member }) };
      }),
      mention_roles: [],
      attachments: showContent ? message.attachments.map((attachment) => this.attachmentToApi(message, attachment)) : [],
      embeds: showContent ? clone(message.embeds) : [],
      timestamp: isoTimestamp(message.createdAt),
      edited_timestamp: message.editedAt === null ? null : isoTimestamp(message.editedAt),
      flags: message.flags,
      components: showContent ? (clone(message.components) as ActionRow[]) : [],
      id: message.id,
      channel_id: message.channelId,
      author: this.publicUser(message.author),
      pinned: false,
      mention_everyone: false,
      tts: false,
    };
    if (guild !== undefined) {
      api.guild_id = guild.id;
      const member = memberOf(message.author);
      if (member !== undefined) api.member = member;
    }
    if (message.position !== undefined) api.position = message.position;
    if (message.referencedMessageId !== undefined && withReference) {
      const referenced = this.messages.get(message.referencedMessageId);
      api.message_reference = {
        type: 0,
        channel_id: message.channelId,
        message_id: message.referencedMessageId,
        ...(guild === undefined ? {} : { guild_id: guild.id }),
      };
      // A deleted original leaves `referenced_message: null`, as on Discord.
      api.referenced_message =
        referenced === undefined || referenced.deleted ? null : this.messageToApi(referenced, showContent || this.contentExempt(referenced), false);
    }
    if (message.threadId !== undefined) {
      const thread = this.channels.get(message.threadId);
      if (thread !== undefined) api.thread = this.channelToApi(thread);
    }
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
    const channel = this.interactionChannel(state);
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
        this.prepareInteractionPost(channel);
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
        this.prepareInteractionPost(channel);
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
    const channel = this.interactionChannel(state);
    this.prepareInteractionPost(channel);
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
