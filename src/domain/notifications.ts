// Telling owners about their sessions, on whichever chat platforms they linked. The text and the
// rules live here once; each platform adapter only renders a SessionView.
import type { ChatPlatform } from '../generated/prisma/enums.js';
import { audit } from './audit.js';
import { ChatDeliveryError, type ChatChannel, type DomainDeps, type SessionView } from './ports.js';

export type ChatChannels = Partial<Record<ChatPlatform, ChatChannel>>;

function loadSession(deps: DomainDeps, sessionId: string) {
  return deps.db.connectionSession.findUnique({
    where: { id: sessionId },
    include: { account: { include: { person: { include: { identities: true } } } }, router: true, prompts: true },
  });
}
type LoadedSession = NonNullable<Awaited<ReturnType<typeof loadSession>>>;

function formatTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone, hourCycle: 'h23' }).format(date);
}

const CLOSE_REASONS: Record<string, string> = {
  disconnected: 'The session ended.',
  superseded: 'A newer connection took over this address.',
  'not-active-on-router': 'The router has no such session.',
  'source-banned': 'The source address is banned.',
};

async function buildView(deps: DomainDeps, session: LoadedSession): Promise<SessionView> {
  const tz = deps.policy.timeZone;
  const ban = await deps.db.ban.findFirst({ where: { sessionId: session.id }, orderBy: { createdAt: 'desc' } });
  const banNote = ban
    ? ban.liftedAt
      ? `Source ${ban.address} was banned (lifted).`
      : `Source ${ban.address} is banned until ${formatTime(ban.expiresAt, tz)}.`
    : undefined;
  let note: string | undefined;
  // A WireGuard peer has no session the router could cut: a refused device stays sandboxed.
  const isWireguard = session.account.kind === 'wireguard';
  const cutOff = isWireguard ? 'The device stays blocked.' : 'Session disconnected.';
  switch (session.state) {
    case 'pending':
      note = `Waiting for your answer until ${formatTime(session.expiresAt, tz)}.`;
      break;
    case 'approved':
      note = session.decidedAt ? `Approved at ${formatTime(session.decidedAt, tz)}.` : undefined;
      break;
    case 'denied':
      note = [cutOff, banNote].filter(Boolean).join(' ');
      break;
    case 'expired':
      note = ['No answer in time.', cutOff, banNote].filter(Boolean).join(' ');
      break;
    case 'closed':
      note = [CLOSE_REASONS[session.closeReason ?? ''] ?? 'The session ended.', banNote].filter(Boolean).join(' ');
      break;
  }
  return {
    sessionId: session.id,
    // WireGuard devices are shown by the name their owner gave them, not by their key.
    account: isWireguard ? `${session.account.label || 'WireGuard device'} (WireGuard)` : (session.account.username ?? session.accountId),
    router: session.router.name,
    source: session.callerId,
    sessionAddress: session.sessionAddress,
    startedAt: session.createdAt,
    timeZone: tz,
    status: session.state,
    ...(note ? { note } : {}),
    ...(session.state === 'pending' ? { decisionToken: session.decisionToken } : {}),
  };
}

/**
 * Sends the Approve/Deny prompt to every linked chat of the owner that does not have it yet.
 * Safe to retry: chats already prompted are skipped. Throws ChatDeliveryError for the job to retry.
 */
export async function sendSessionPrompt(deps: DomainDeps, channels: ChatChannels, sessionId: string): Promise<'sent' | 'skipped' | 'no-chat'> {
  const session = await loadSession(deps, sessionId);
  if (!session || session.state !== 'pending' || !session.verifiedAt) return 'skipped';
  const identities = session.account.person.identities.filter((i) => i.receivesPrompts && channels[i.platform]);
  if (identities.length === 0) {
    await audit(deps.db, {
      actor: 'system',
      action: 'prompt.undeliverable',
      routerId: session.routerId,
      sessionId,
      personId: session.account.personId,
      detail: { reason: 'owner has no linked chat on an enabled platform' },
    });
    deps.logger.warn({ sessionId, personId: session.account.personId }, 'owner has no linked chat; the client stays sandboxed');
    return 'no-chat';
  }
  const view = await buildView(deps, session);
  let lastError: ChatDeliveryError | null = null;
  let delivered = 0;
  for (const identity of identities) {
    if (session.prompts.some((p) => p.platform === identity.platform && p.chatId === identity.chatId)) {
      delivered++;
      continue;
    }
    try {
      const ref = await channels[identity.platform]!.sendSessionPrompt(identity.chatId, view);
      await deps.db.sessionPrompt.create({
        data: { sessionId, platform: identity.platform, chatId: ref.chatId, messageId: ref.messageId, renderedState: view.status },
      });
      delivered++;
    } catch (err) {
      if (!(err instanceof ChatDeliveryError)) throw err;
      if (err.permanent) {
        await audit(deps.db, {
          actor: 'system',
          action: 'prompt.undeliverable',
          routerId: session.routerId,
          sessionId,
          personId: session.account.personId,
          detail: { platform: identity.platform, reason: err.message },
        });
        deps.logger.warn({ sessionId, platform: identity.platform, err: err.message }, 'prompt undeliverable');
      } else {
        lastError = err;
      }
    }
  }
  if (lastError) throw lastError; // retry the chats that failed transiently
  return delivered > 0 ? 'sent' : 'no-chat';
}

/** Edits every prompt of the session to show its current state. Skips prompts already showing it. */
export async function updateSessionMessages(deps: DomainDeps, channels: ChatChannels, sessionId: string): Promise<void> {
  const session = await loadSession(deps, sessionId);
  if (!session) return;
  const view = await buildView(deps, session);
  let lastError: ChatDeliveryError | null = null;
  for (const prompt of session.prompts) {
    const channel = channels[prompt.platform];
    if (!channel || prompt.renderedState === view.status) continue;
    try {
      await channel.updateSessionMessage({ chatId: prompt.chatId, messageId: prompt.messageId }, view);
      await deps.db.sessionPrompt.update({ where: { id: prompt.id }, data: { renderedState: view.status } });
    } catch (err) {
      if (!(err instanceof ChatDeliveryError)) throw err;
      if (err.permanent) deps.logger.warn({ sessionId, err: err.message }, 'could not update the session message');
      else lastError = err;
    }
  }
  if (lastError) throw lastError;
}
