// Guilds as the fake models them: permission bits, the guild state behind `createGuild`, and
// the JSON shapes Discord uses for guilds, roles and members (GUILD_CREATE, REST reads).
// Permissions are guild-wide: @everyone plus the bot's managed role, no channel overwrites.

import { isoTimestamp } from './snowflake.js';
import type { DiscordUser } from './types.js';

/** Permission bits (a subset of Discord's), as BigInts like discord.js's PermissionFlagsBits. */
export const PERMISSIONS = {
  CREATE_INSTANT_INVITE: 1n << 0n,
  ADMINISTRATOR: 1n << 3n,
  ADD_REACTIONS: 1n << 6n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  EMBED_LINKS: 1n << 14n,
  ATTACH_FILES: 1n << 15n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  USE_EXTERNAL_EMOJIS: 1n << 18n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
  MANAGE_THREADS: 1n << 34n,
  CREATE_PUBLIC_THREADS: 1n << 35n,
  CREATE_PRIVATE_THREADS: 1n << 36n,
  SEND_MESSAGES_IN_THREADS: 1n << 38n,
} as const;

/**
 * What @everyone may do in a new server (the text-chat part of Discord's defaults), and what
 * the bot's managed role gets unless `createGuild` says otherwise. MANAGE_THREADS and
 * MANAGE_MESSAGES are not in it: locking threads, or deleting others' messages, must be granted.
 */
export const DEFAULT_PERMISSIONS =
  PERMISSIONS.CREATE_INSTANT_INVITE |
  PERMISSIONS.ADD_REACTIONS |
  PERMISSIONS.VIEW_CHANNEL |
  PERMISSIONS.SEND_MESSAGES |
  PERMISSIONS.EMBED_LINKS |
  PERMISSIONS.ATTACH_FILES |
  PERMISSIONS.READ_MESSAGE_HISTORY |
  PERMISSIONS.USE_EXTERNAL_EMOJIS |
  PERMISSIONS.USE_APPLICATION_COMMANDS |
  PERMISSIONS.CREATE_PUBLIC_THREADS |
  PERMISSIONS.CREATE_PRIVATE_THREADS |
  PERMISSIONS.SEND_MESSAGES_IN_THREADS;

const ALL_PERMISSIONS = Object.values(PERMISSIONS).reduce((all, bit) => all | bit, 0n);

export interface GuildState {
  id: string;
  name: string;
  ownerId: string;
  createdAt: Date;
  /** The bot user is a member (the app was installed with the `bot` scope). */
  botMember: boolean;
  botJoinedAt: Date;
  botRoleId: string;
  everyonePermissions: bigint;
  botRolePermissions: bigint;
  /** Users (not the bot) and when they joined. */
  members: Map<string, Date>;
  /** Text channels, in creation order. */
  channelIds: string[];
}

/** The bot's guild-wide permissions: @everyone plus its role; ADMINISTRATOR means all. */
export function botPermissions(guild: GuildState): bigint {
  const granted = guild.everyonePermissions | guild.botRolePermissions;
  return (granted & PERMISSIONS.ADMINISTRATOR) !== 0n ? ALL_PERMISSIONS : granted;
}

export const has = (granted: bigint, bit: bigint): boolean => (granted & bit) === bit;

export function rolesJson(guild: GuildState, botUser: DiscordUser): Array<Record<string, unknown>> {
  const role = (id: string, name: string, position: number, permissions: bigint, extra: Record<string, unknown> = {}) => ({
    id,
    name,
    description: null,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
    ...extra,
  });
  return [
    role(guild.id, '@everyone', 0, guild.everyonePermissions),
    role(guild.botRoleId, botUser.username, 1, guild.botRolePermissions, { managed: true, tags: { bot_id: botUser.id } }),
  ];
}

/** A guild member object; `user` is left out where Discord leaves it out (message `member`). */
export function memberJson(user: DiscordUser | undefined, joinedAt: Date, roles: string[]): Record<string, unknown> {
  const { locale: _locale, ...publicUser } = user ?? ({} as DiscordUser);
  return {
    ...(user === undefined ? {} : { user: publicUser }),
    nick: null,
    avatar: null,
    banner: null,
    roles,
    joined_at: isoTimestamp(joinedAt),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

/** The guild fields shared by GUILD_CREATE and GET /guilds/{id}. */
export function guildJson(guild: GuildState, botUser: DiscordUser): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: rolesJson(guild, botUser),
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: guild.channelIds[0] ?? null,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_members: 25_000_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}
