// JSON shapes the fake Discord speaks (a subset of API v10) and the records it keeps for tests
// to inspect. Kept local, not taken from discord-api-types, so the fake states its own idea of
// the protocol instead of borrowing the client library's.

export interface DiscordUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
  system?: boolean;
  public_flags: number;
  flags: number;
  banner: null;
  accent_color: null;
  avatar_decoration_data: null;
  collectibles: null;
  primary_guild: null;
  /** Not part of Discord's user object; the locale an interaction from this user carries. */
  locale?: string;
}

export interface DmChannel {
  id: string;
  type: 1;
  recipients: DiscordUser[];
  last_message_id: string | null;
  flags: number;
}

/** A text channel in a guild (type 0). Live: the fake updates it as messages arrive. */
export interface GuildTextChannel {
  id: string;
  type: 0;
  guild_id: string;
  name: string;
  position: number;
  parent_id: string | null;
  topic: string | null;
  nsfw: boolean;
  last_message_id: string | null;
  rate_limit_per_user: number;
  permission_overwrites: [];
  flags: number;
  default_auto_archive_duration?: number;
}

export interface ThreadMetadata {
  archived: boolean;
  /** Minutes: 60, 1440, 4320 or 10080. */
  auto_archive_duration: number;
  archive_timestamp: string;
  locked: boolean;
  create_timestamp: string;
  /** Private threads only. */
  invitable?: boolean;
}

/** A thread (type 11 public, 12 private) under a guild text channel. Live, like the channel. */
export interface ThreadChannel {
  id: string;
  type: 11 | 12;
  guild_id: string;
  parent_id: string;
  /** Who started the thread. */
  owner_id: string;
  name: string;
  last_message_id: string | null;
  message_count: number;
  member_count: number;
  total_message_sent: number;
  rate_limit_per_user: number;
  flags: number;
  thread_metadata: ThreadMetadata;
}

export type FakeChannel = DmChannel | GuildTextChannel | ThreadChannel;

/** A guild as tests hold it: pass it to createTextChannel, addMember and friends. */
export interface FakeGuild {
  id: string;
  name: string;
}

/** A file a user attaches in the Discord app (test helpers `userSends`, `userSendsIn`). */
export interface UserAttachment {
  filename: string;
  bytes: Buffer;
  /** Discord sniffs it from the upload; `application/octet-stream` when not given. */
  contentType?: string;
  description?: string;
}

export interface Embed {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string; icon_url?: string };
  author?: { name: string; url?: string; icon_url?: string };
  [field: string]: unknown;
}

export interface ButtonComponent {
  type: 2;
  id?: number;
  style: 1 | 2 | 3 | 4 | 5;
  label?: string;
  custom_id?: string;
  url?: string;
  disabled?: boolean;
  emoji?: { id?: string | null; name?: string | null; animated?: boolean };
}

export interface ActionRow {
  type: 1;
  id?: number;
  components: ButtonComponent[];
}

/** An attachment as stored: the API object plus the bytes that were uploaded. */
export interface FakeAttachment {
  id: string;
  filename: string;
  description?: string;
  content_type?: string;
  size: number;
  width?: number;
  height?: number;
  bytes: Buffer;
}

/** One earlier state of an edited message. */
export interface MessageVersion {
  content: string;
  embeds: Embed[];
  components: ActionRow[];
  attachments: FakeAttachment[];
  flags: number;
  /** When this version stopped being current. */
  replacedAt: Date;
}

/** A message as the fake stores it; live, so later edits show up on the same object. */
export interface FakeMessage {
  id: string;
  channelId: string;
  author: DiscordUser;
  /** Set for messages in guild channels and threads. */
  guildId?: string;
  /** Discord message type: 0 default, 19 reply, 20 chat input command. */
  type: number;
  content: string;
  embeds: Embed[];
  components: ActionRow[];
  attachments: FakeAttachment[];
  flags: number;
  /** Only the interaction's user sees it; it is absent from channel reads and the gateway. */
  ephemeral: boolean;
  /** The interaction that created the message (replies and follow-ups). */
  interactionId?: string;
  /** Users mentioned as `<@id>` in the content of a user's message. */
  mentions: DiscordUser[];
  /** The message this one replies to (type 19), in the same channel. */
  referencedMessageId?: string;
  /** The thread started from this message (same id as the message), once there is one. */
  threadId?: string;
  /** Approximate position in a thread (messages in threads only). */
  position?: number;
  createdAt: Date;
  editedAt: Date | null;
  /** Earlier versions, oldest first; empty for a message never edited. */
  history: MessageVersion[];
  deleted: boolean;
}

export interface CommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: Array<{ name: string; value: string | number }>;
  options?: CommandOption[];
  [field: string]: unknown;
}

export interface ApplicationCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  version: string;
  type: number;
  name: string;
  name_localizations: Record<string, string> | null;
  description: string;
  description_localizations: Record<string, string> | null;
  options?: CommandOption[];
  default_member_permissions: string | null;
  dm_permission: boolean;
  contexts: number[] | null;
  integration_types: number[];
  nsfw: boolean;
}

/** One REST request as the fake saw it. */
export interface ApiCall {
  method: string;
  /** Path below `/api/v10`, e.g. `/channels/123/messages`. */
  path: string;
  /** The route template it matched, e.g. `/channels/:channel/messages`; undefined if none. */
  route?: string;
  query: Record<string, string>;
  /** JSON body, or for multipart the parsed `payload_json`. */
  body: unknown;
  /** Uploaded files of a multipart request. */
  files: Array<{ field: string; filename: string; contentType: string; size: number }>;
  /** HTTP status answered; 0 while in flight or when the connection was dropped. */
  status: number;
  /** Discord's JSON error code, for error answers. */
  errorCode?: number;
  errorMessage?: string;
  /** True when the answer came from `failNext`. */
  injected: boolean;
  at: number;
}

export type GatewayEventKind =
  | 'connect'
  | 'identify'
  | 'resume'
  | 'resumed'
  | 'invalid-session'
  | 'reconnect-requested'
  | 'close'
  | 'dropped';

/** The gateway's own log: connections, sessions and how they ended. */
export interface GatewayEvent {
  kind: GatewayEventKind;
  at: number;
  connectionId: number;
  sessionId?: string;
  /** Close code, for `close` (sent by either side). */
  code?: number;
  /** Who closed, for `close`. */
  by?: 'client' | 'server';
  /** Dispatches replayed, for `resumed`. */
  replayed?: number;
}

export interface SessionInfo {
  id: string;
  state: 'connected' | 'disconnected' | 'invalid';
  /** Last sequence number dispatched in the session. */
  seq: number;
  intents: number;
  resumes: number;
}
