// The support desk: tickets between a user (private chat with the bot) and the support team (a
// thread in their Telegram group or Discord channel). Every message is stored first and relayed
// by a job, so nothing is lost when a chat platform is down. One open ticket per person.
import type { ChatPlatform } from '../generated/prisma/enums.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import type { ChatChannels } from '../domain/notifications.js';
import type { DomainDeps } from '../domain/ports.js';
import { WardenError } from '../domain/errors.js';
import type { ChatPerson } from '../domain/signup.js';

export interface Attachment {
  kind: 'photo' | 'document';
  filename: string;
  bytes: Buffer;
}

/** Where the support team works, as one platform adapter sees it. */
export interface SupportRelay {
  readonly platform: ChatPlatform;
  /** Opens the ticket's place (a thread, or a card in the group) and returns where it lives. */
  openTicket(card: string): Promise<{ supportChatId: string; messageId: string }>;
  /** Posts in the ticket's place; `replyTo` keeps Telegram's reply-threading together. */
  post(supportChatId: string, text: string, opts?: { replyTo?: string; attachment?: Attachment }): Promise<string>;
}

export type SupportRelays = Partial<Record<ChatPlatform, SupportRelay>>;

export interface SupportSettings {
  /** Platforms with a support place configured, in order of preference. */
  platforms: ChatPlatform[];
  members: string[];
  remindAfterMs: number;
  messagesPerMinute: number;
}

export const MAX_MESSAGE_CHARS = 2000;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Support messages starting with this are internal notes: kept on the ticket, never relayed. */
export const INTERNAL_NOTE_PREFIX = '!';

export type UserMessageResult =
  | { status: 'appended'; ticket: number }
  | { status: 'opened'; ticket: number }
  | { status: 'no-ticket' }
  | { status: 'too-long' }
  | { status: 'too-large' }
  | { status: 'rate-limited' }
  | { status: 'unavailable' };

function checkContent(text: string, attachment?: Attachment): UserMessageResult | null {
  if (text.length > MAX_MESSAGE_CHARS) return { status: 'too-long' };
  if (attachment && attachment.bytes.length > MAX_ATTACHMENT_BYTES) return { status: 'too-large' };
  return null;
}

async function openTicketOf(deps: DomainDeps, platform: ChatPlatform, externalId: string) {
  return deps.db.ticket.findFirst({ where: { platform, externalId, state: { not: 'closed' } }, orderBy: { createdAt: 'desc' } });
}

/**
 * A user's message: added to their open ticket, or (with `open`) opening one. Without an open
 * ticket and without `open`, nothing is stored: the caller tries the knowledge base first.
 */
export async function userMessage(
  deps: DomainDeps,
  settings: SupportSettings,
  who: ChatPerson,
  message: { text: string; attachment?: Attachment },
  opts: { open: boolean },
): Promise<UserMessageResult> {
  const bad = checkContent(message.text, message.attachment);
  if (bad) return bad;
  const result = await deps.db.$transaction(async (tx): Promise<UserMessageResult> => {
    // One open ticket per person, even if two messages arrive at once.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`ticket:${who.platform}:${who.externalId}`}, 0))`;
    const recent = await tx.ticketMessage.count({
      where: { author: 'user', ticket: { platform: who.platform, externalId: who.externalId }, createdAt: { gt: new Date(deps.now().getTime() - 60_000) } },
    });
    if (recent >= settings.messagesPerMinute) return { status: 'rate-limited' };
    let ticket = await tx.ticket.findFirst({ where: { platform: who.platform, externalId: who.externalId, state: { not: 'closed' } } });
    let opened = false;
    if (!ticket) {
      if (!opts.open) return { status: 'no-ticket' };
      // Tickets go to the support place on the user's own platform when there is one.
      const supportPlatform = settings.platforms.includes(who.platform) ? who.platform : settings.platforms[0];
      if (!supportPlatform) return { status: 'unavailable' };
      const identity = await tx.chatIdentity.findUnique({ where: { platform_externalId: { platform: who.platform, externalId: who.externalId } } });
      ticket = await tx.ticket.create({
        data: {
          platform: who.platform,
          externalId: who.externalId,
          chatId: who.chatId,
          displayName: who.displayName.slice(0, 100) || who.username || 'user',
          personId: identity?.personId ?? null,
          subject: (message.text || message.attachment?.filename || 'Support request').replace(/\s+/g, ' ').slice(0, 80),
          supportPlatform,
        },
      });
      opened = true;
    }
    const stored = await tx.ticketMessage.create({
      data: {
        ticketId: ticket.id,
        author: 'user',
        authorName: ticket.displayName,
        body: message.text,
        ...(message.attachment
          ? { attachmentKind: message.attachment.kind, attachmentName: message.attachment.filename, attachment: new Uint8Array(message.attachment.bytes) }
          : {}),
      },
    });
    await tx.ticket.update({ where: { id: ticket.id }, data: { state: 'waiting_support', lastUserAt: deps.now() } });
    await enqueueAfterCommit(tx, 'support.relay', { messageId: stored.id });
    return { status: opened ? 'opened' : 'appended', ticket: ticket.number };
  });
  deps.afterCommit();
  return result;
}

export type SupportMessageResult = 'relayed' | 'internal' | 'closed-ticket' | 'no-ticket' | 'not-member' | 'too-long';

export function isSupportMember(deps: DomainDeps, settings: SupportSettings, platform: ChatPlatform, externalId: string): boolean {
  const id = `${platform}:${externalId}`;
  return settings.members.includes(id) || deps.admins.includes(id);
}

/** Finds the ticket a message in the support place belongs to (a reply to one of its messages, or its thread). */
export async function ticketForSupportMessage(deps: DomainDeps, where: { platform: ChatPlatform; supportChatId: string; replyTo?: string }) {
  if (where.platform === 'discord') return deps.db.ticket.findFirst({ where: { supportPlatform: 'discord', supportChatId: where.supportChatId } });
  if (!where.replyTo) return null;
  const message = await deps.db.ticketMessage.findFirst({
    where: { supportMessageId: where.replyTo, ticket: { supportPlatform: 'telegram', supportChatId: where.supportChatId } },
    include: { ticket: true },
  });
  return message?.ticket ?? null;
}

/** A support member wrote in a ticket's place: relayed to the user, unless it is an internal note. */
export async function supportMessage(
  deps: DomainDeps,
  settings: SupportSettings,
  message: { platform: ChatPlatform; supportChatId: string; replyTo?: string; messageId: string; author: { externalId: string; name: string }; text: string; attachment?: Attachment },
): Promise<SupportMessageResult> {
  const ticket = await ticketForSupportMessage(deps, message);
  if (!ticket) return 'no-ticket';
  if (!isSupportMember(deps, settings, message.platform, message.author.externalId)) return 'not-member';
  if (ticket.state === 'closed') return 'closed-ticket';
  if (message.text.length > MAX_MESSAGE_CHARS) return 'too-long';
  const internal = message.text.startsWith(INTERNAL_NOTE_PREFIX);
  await deps.db.$transaction(async (tx) => {
    const stored = await tx.ticketMessage.create({
      data: {
        ticketId: ticket.id,
        author: 'support',
        authorName: message.author.name.slice(0, 100),
        body: internal ? message.text.slice(INTERNAL_NOTE_PREFIX.length).trim() : message.text,
        internal,
        // Later replies to this message thread into the same ticket.
        supportMessageId: message.messageId,
        ...(message.attachment && !internal
          ? { attachmentKind: message.attachment.kind, attachmentName: message.attachment.filename, attachment: new Uint8Array(message.attachment.bytes) }
          : {}),
      },
    });
    if (!internal) {
      await tx.ticket.update({ where: { id: ticket.id }, data: { state: 'waiting_user', lastSupportAt: deps.now() } });
      await enqueueAfterCommit(tx, 'support.relay', { messageId: stored.id });
    }
  });
  deps.afterCommit();
  return internal ? 'internal' : 'relayed';
}

/** Closes a ticket (by the user, or by support); both sides are told. */
export async function closeTicket(deps: DomainDeps, ticketId: string, by: { side: 'user' | 'support'; name: string }): Promise<'closed' | 'already-closed'> {
  const result = await deps.db.$transaction(async (tx) => {
    const ticket = await tx.ticket.findUniqueOrThrow({ where: { id: ticketId } });
    if (ticket.state === 'closed') return 'already-closed' as const;
    await tx.ticket.update({ where: { id: ticketId }, data: { state: 'closed', closedAt: deps.now(), closedBy: `${by.side}:${by.name}` } });
    const note = await tx.ticketMessage.create({
      data: { ticketId, author: 'system', authorName: 'Warden', body: `Ticket #${ticket.number} was closed by ${by.side === 'user' ? 'the user' : by.name}.` },
    });
    await enqueueAfterCommit(tx, 'support.relay', { messageId: note.id });
    return 'closed' as const;
  });
  deps.afterCommit();
  return result;
}

export async function userTicket(deps: DomainDeps, platform: ChatPlatform, externalId: string) {
  return openTicketOf(deps, platform, externalId);
}

export async function findTicketByNumber(deps: DomainDeps, number: number) {
  const ticket = await deps.db.ticket.findUnique({ where: { number } });
  if (!ticket) throw new WardenError('not-found', `no ticket #${number}`);
  return ticket;
}

export function ticketCard(ticket: { number: number; displayName: string; platform: string; externalId: string }, context: string): string {
  return `🎫 Ticket #${ticket.number} from ${ticket.displayName} (${ticket.platform} ${ticket.externalId})\n${context}`;
}

/** What support sees when a ticket opens: the person, their devices, recent sessions and bans. */
export async function ticketContext(deps: DomainDeps, personId: string | null): Promise<string> {
  if (!personId) return 'Not a VPN member yet.';
  const person = await deps.db.person.findUnique({
    where: { id: personId },
    include: { accounts: { include: { router: true, sessions: { orderBy: { createdAt: 'desc' }, take: 3 } } } },
  });
  if (!person) return 'Unknown person.';
  const lines = [`Person: ${person.displayName}`];
  for (const a of person.accounts) {
    lines.push(`• ${a.label || a.username} (${a.kind}${a.wgAddress ? ` ${a.wgAddress}` : ''}) on ${a.router.name}${a.disabled ? ', disabled' : ''}`);
    for (const s of a.sessions) lines.push(`   ${s.createdAt.toISOString().slice(0, 16).replace('T', ' ')} from ${s.callerId}: ${s.state}${s.closeReason ? ` (${s.closeReason})` : ''}`);
  }
  const bans = await deps.db.ban.findMany({
    where: { accountId: { in: person.accounts.map((a) => a.id) }, liftedAt: null, expiresAt: { gt: deps.now() } },
  });
  for (const b of bans) lines.push(`Banned: ${b.address} until ${b.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${b.reason})`);
  return lines.join('\n');
}

/** Job: carries one stored message to the other side. Safe to retry. */
export async function relayTicketMessage(deps: DomainDeps, relays: SupportRelays, channels: ChatChannels, messageId: string): Promise<'relayed' | 'skipped'> {
  const message = await deps.db.ticketMessage.findUnique({ where: { id: messageId }, include: { ticket: true } });
  if (!message || message.relayedAt || message.internal) return 'skipped';
  const ticket = message.ticket;
  const attachment: Attachment | undefined =
    message.attachment && message.attachmentKind
      ? { kind: message.attachmentKind as Attachment['kind'], filename: message.attachmentName ?? 'attachment', bytes: Buffer.from(message.attachment) }
      : undefined;
  const toSupport = message.author === 'user' || message.author === 'system';
  const toUser = message.author === 'support' || message.author === 'system';
  let supportMessageId: string | null = message.supportMessageId;
  if (toSupport) {
    const relay = relays[ticket.supportPlatform];
    if (!relay) throw new Error(`no support place on ${ticket.supportPlatform}`);
    let supportChatId = ticket.supportChatId;
    let root: string | undefined;
    if (!supportChatId) {
      const opened = await relay.openTicket(ticketCard(ticket, await ticketContext(deps, ticket.personId)));
      supportChatId = opened.supportChatId;
      root = opened.messageId;
      await deps.db.ticket.update({ where: { id: ticket.id }, data: { supportChatId, supportRootId: root } });
      // The card itself is part of the ticket's thread: a reply to it lands in the ticket.
      await deps.db.ticketMessage.create({ data: { ticketId: ticket.id, author: 'system', authorName: 'Warden', body: 'ticket opened', supportMessageId: opened.messageId, relayedAt: deps.now() } });
    } else {
      root = ticket.supportRootId ?? undefined;
    }
    if (message.author === 'user' || !supportMessageId) {
      const text = message.author === 'user' ? `#${ticket.number} ${ticket.displayName}: ${message.body || `(${attachment?.kind ?? 'empty'})`}` : message.body;
      supportMessageId = await relay.post(supportChatId, text, { ...(root ? { replyTo: root } : {}), ...(attachment ? { attachment } : {}) });
    }
  }
  if (toUser) {
    const channel = channels[ticket.platform];
    if (!channel) throw new Error(`no chat channel for ${ticket.platform}`);
    const text = message.author === 'support' ? `💬 Support (${message.authorName}), ticket #${ticket.number}:\n${message.body}` : message.body;
    if (message.body || !attachment) await channel.sendText(ticket.chatId, text);
    if (attachment) await channel.sendFile(ticket.chatId, { ...attachment, ...(message.body ? {} : { caption: `Support, ticket #${ticket.number}` }) });
  }
  await deps.db.ticketMessage.update({
    where: { id: messageId },
    // The bytes are not kept once delivered: tickets are not a file store.
    data: { relayedAt: deps.now(), attachment: null, ...(message.author === 'user' ? { supportMessageId } : {}) },
  });
  return 'relayed';
}

/** Job (enqueued by the cron schedule): remind support of tickets waiting too long. */
export async function remindSupport(deps: DomainDeps, relays: SupportRelays, settings: SupportSettings): Promise<number> {
  const due = await deps.db.ticket.findMany({
    where: { state: 'waiting_support', lastUserAt: { lt: new Date(deps.now().getTime() - settings.remindAfterMs) }, supportChatId: { not: null } },
  });
  let sent = 0;
  for (const ticket of due) {
    if (ticket.remindedAt && ticket.remindedAt >= ticket.lastUserAt) continue; // already reminded for this wait
    const relay = relays[ticket.supportPlatform];
    if (!relay) continue;
    const minutes = Math.round((deps.now().getTime() - ticket.lastUserAt.getTime()) / 60_000);
    await relay.post(ticket.supportChatId!, `⏰ Reminder: ticket #${ticket.number} (${ticket.displayName}) has been waiting for an answer for ${minutes} min.`, ticket.supportRootId ? { replyTo: ticket.supportRootId } : {});
    await deps.db.ticket.update({ where: { id: ticket.id }, data: { remindedAt: deps.now() } });
    sent++;
  }
  return sent;
}

export async function openTicketsSummary(deps: DomainDeps): Promise<string> {
  const tickets = await deps.db.ticket.findMany({ where: { state: { not: 'closed' } }, orderBy: { lastUserAt: 'asc' }, take: 50 });
  if (tickets.length === 0) return 'No open tickets.';
  return tickets
    .map((t) => `#${t.number} ${t.displayName} (${t.platform}): ${t.subject} — ${t.state === 'waiting_support' ? 'waiting for support' : 'waiting for user'}`)
    .join('\n');
}
