// Signing up through the bots: with an admin's invite code (single or multi-use, with an expiry)
// a person is created, linked to the chat and gets a first device at once; without one, a request
// goes to the configured admins, who approve or reject it with buttons in their own chats.
import type { ChatPlatform, VpnKind } from '../generated/prisma/enums.js';
import { newDecisionToken, newLinkCode, normalizeLinkCode, sha256Hex } from '../crypto/tokens.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import { audit } from './audit.js';
import { createDeviceInTx } from './devices.js';
import { WardenError } from './errors.js';
import type { ChatChannels } from './notifications.js';
import { ChatDeliveryError, type DomainDeps } from './ports.js';

export interface ChatPerson {
  platform: ChatPlatform;
  externalId: string;
  chatId: string;
  username: string | null;
  displayName: string;
}

export function isAdmin(deps: DomainDeps, platform: ChatPlatform, externalId: string): boolean {
  return deps.admins.includes(`${platform}:${externalId}`);
}

export async function createInvite(
  deps: DomainDeps,
  args: { routerId: string; kind: VpnKind; maxUses: number; ttlMs?: number; createdBy: string },
): Promise<{ code: string; expiresAt: Date }> {
  if (!Number.isInteger(args.maxUses) || args.maxUses < 1 || args.maxUses > 1000) throw new WardenError('invalid-input', 'uses: 1-1000');
  const code = newLinkCode(12);
  const expiresAt = new Date(deps.now().getTime() + (args.ttlMs ?? deps.policy.inviteTtlMs));
  await deps.db.$transaction(async (tx) => {
    const invite = await tx.invite.create({
      data: { codeHash: sha256Hex(code), routerId: args.routerId, kind: args.kind, maxUses: args.maxUses, expiresAt, createdBy: args.createdBy },
    });
    await audit(tx, { actor: args.createdBy, action: 'invite.created', routerId: args.routerId, detail: { inviteId: invite.id, kind: args.kind, maxUses: args.maxUses, expiresAt: expiresAt.toISOString() } });
  });
  return { code, expiresAt };
}

export type JoinResult =
  | { status: 'joined'; personName: string; deviceLabel: string; kind: VpnKind }
  | { status: 'already-member' }
  | { status: 'invalid-code' }
  | { status: 'failed'; reason: string };

/** Redeems an invite: person, chat link and first device in one transaction. */
export async function joinWithInvite(deps: DomainDeps, who: ChatPerson, rawCode: string): Promise<JoinResult> {
  const code = normalizeLinkCode(rawCode);
  if (!/^[A-Z0-9]{6,32}$/.test(code)) return { status: 'invalid-code' };
  try {
    const result = await deps.db.$transaction(async (tx): Promise<JoinResult> => {
      const existing = await tx.chatIdentity.findUnique({ where: { platform_externalId: { platform: who.platform, externalId: who.externalId } } });
      if (existing) return { status: 'already-member' };
      const found = await tx.invite.findUnique({ where: { codeHash: sha256Hex(code) } });
      if (!found) return { status: 'invalid-code' };
      // Lock the invite so a multi-use invite is never used more often than allowed.
      await tx.$queryRaw`SELECT id FROM invites WHERE id = ${found.id}::uuid FOR UPDATE`;
      const invite = await tx.invite.findUniqueOrThrow({ where: { id: found.id } });
      if (invite.revokedAt || invite.expiresAt <= deps.now() || invite.uses >= invite.maxUses) return { status: 'invalid-code' };
      await tx.invite.update({ where: { id: invite.id }, data: { uses: { increment: 1 } } });
      const person = await tx.person.create({ data: { displayName: who.displayName.slice(0, 100) || who.username || 'VPN user' } });
      await tx.chatIdentity.create({
        data: { personId: person.id, platform: who.platform, externalId: who.externalId, chatId: who.chatId, username: who.username },
      });
      const actor = `${who.platform}:${who.externalId}`;
      await audit(tx, { actor, action: 'signup.joined', routerId: invite.routerId, personId: person.id, detail: { inviteId: invite.id } });
      const label = invite.kind === 'wireguard' ? 'phone' : 'vpn';
      await createDeviceInTx(deps, tx, { personId: person.id, routerId: invite.routerId, kind: invite.kind, label, actor });
      return { status: 'joined', personName: person.displayName, deviceLabel: label, kind: invite.kind };
    });
    deps.afterCommit();
    return result;
  } catch (err) {
    if (err instanceof WardenError) return { status: 'failed', reason: err.message };
    throw err;
  }
}

export type SignupRequestResult = 'requested' | 'already-member' | 'already-pending' | 'rate-limited' | 'no-admins';

/** Asks the admins to let this person in. Rate-limited, one open request per person. */
export async function requestSignup(deps: DomainDeps, who: ChatPerson): Promise<SignupRequestResult> {
  if (deps.admins.length === 0) return 'no-admins';
  const result = await deps.db.$transaction(async (tx): Promise<SignupRequestResult> => {
    // One lock for all requests: the hourly cap must hold under concurrent requests too.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('warden:signup-requests', 0))`;
    const existing = await tx.chatIdentity.findUnique({ where: { platform_externalId: { platform: who.platform, externalId: who.externalId } } });
    if (existing) return 'already-member';
    const pending = await tx.signupRequest.findFirst({ where: { platform: who.platform, externalId: who.externalId, state: 'pending' } });
    if (pending) return 'already-pending';
    const lastHour = await tx.signupRequest.count({ where: { createdAt: { gt: new Date(deps.now().getTime() - 3_600_000) } } });
    if (lastHour >= deps.policy.signupRequestsPerHour) return 'rate-limited';
    const request = await tx.signupRequest.create({
      data: {
        platform: who.platform,
        externalId: who.externalId,
        chatId: who.chatId,
        username: who.username,
        displayName: who.displayName.slice(0, 100) || who.username || 'VPN user',
        decisionToken: newDecisionToken(),
      },
    });
    await audit(tx, { actor: `${who.platform}:${who.externalId}`, action: 'signup.requested', detail: { requestId: request.id, username: who.username } });
    await enqueueAfterCommit(tx, 'signup.notifyAdmins', { requestId: request.id });
    return 'requested';
  });
  deps.afterCommit();
  return result;
}

export const SIGNUP_BUTTONS = { approve: 'sa', reject: 'sr' } as const;

export function decodeSignupButton(data: string): { decision: 'approve' | 'reject'; token: string } | null {
  const match = /^(sa|sr):([A-Za-z0-9_-]{16,43})$/.exec(data);
  return match ? { decision: match[1] === 'sa' ? 'approve' : 'reject', token: match[2]! } : null;
}

function describeRequest(request: { displayName: string; username: string | null; platform: string }): string {
  return `${request.displayName}${request.username ? ` (@${request.username})` : ''} on ${request.platform}`;
}

/** Sends the request to every admin chat that does not have it yet. */
export async function notifyAdminsOfSignup(deps: DomainDeps, channels: ChatChannels, requestId: string): Promise<number> {
  const request = await deps.db.signupRequest.findUnique({ where: { id: requestId } });
  if (!request || request.state !== 'pending') return 0;
  const already = await deps.db.signupPrompt.findMany({ where: { requestId } });
  let sent = 0;
  let transient: ChatDeliveryError | null = null;
  for (const admin of deps.admins) {
    const [platform, externalId] = admin.split(':') as [ChatPlatform, string];
    const channel = channels[platform];
    if (!channel) continue;
    try {
      const chatId = await channel.directChatId(externalId);
      if (already.some((p) => p.platform === platform && p.chatId === chatId)) continue;
      const ref = await channel.sendChoice(chatId, `Signup request: ${describeRequest(request)} asks for VPN access.`, [
        { label: 'Approve', data: `${SIGNUP_BUTTONS.approve}:${request.decisionToken}` },
        { label: 'Reject', data: `${SIGNUP_BUTTONS.reject}:${request.decisionToken}` },
      ]);
      await deps.db.signupPrompt.create({ data: { requestId, platform, chatId: ref.chatId, messageId: ref.messageId } });
      sent++;
    } catch (err) {
      if (err instanceof ChatDeliveryError && !err.permanent) transient = err;
      else deps.logger.warn({ admin, err: (err as Error).message }, 'could not ask an admin about a signup request');
    }
  }
  if (transient) throw transient;
  return sent;
}

export type SignupDecision = 'approved' | 'rejected' | 'not-admin' | 'unknown' | 'already-decided';

export async function decideSignup(
  deps: DomainDeps,
  args: { token: string; decision: 'approve' | 'reject'; actor: { platform: ChatPlatform; externalId: string } },
): Promise<SignupDecision> {
  if (!isAdmin(deps, args.actor.platform, args.actor.externalId)) return 'not-admin';
  const actor = `${args.actor.platform}:${args.actor.externalId}`;
  const result = await deps.db.$transaction(async (tx): Promise<SignupDecision> => {
    const found = await tx.signupRequest.findUnique({ where: { decisionToken: args.token } });
    if (!found) return 'unknown';
    await tx.$queryRaw`SELECT id FROM signup_requests WHERE id = ${found.id}::uuid FOR UPDATE`;
    const request = await tx.signupRequest.findUniqueOrThrow({ where: { id: found.id } });
    if (request.state !== 'pending') return 'already-decided';
    const state = args.decision === 'approve' ? 'approved' : 'rejected';
    await tx.signupRequest.update({ where: { id: request.id }, data: { state, decidedBy: actor, decidedAt: deps.now() } });
    if (state === 'approved') {
      const linked = await tx.chatIdentity.findUnique({ where: { platform_externalId: { platform: request.platform, externalId: request.externalId } } });
      if (!linked) {
        const person = await tx.person.create({ data: { displayName: request.displayName } });
        await tx.chatIdentity.create({
          data: { personId: person.id, platform: request.platform, externalId: request.externalId, chatId: request.chatId, username: request.username },
        });
      }
    }
    await audit(tx, { actor, action: state === 'approved' ? 'signup.approved' : 'signup.rejected', detail: { requestId: request.id } });
    await enqueueAfterCommit(tx, 'signup.notifyOutcome', { requestId: request.id });
    return state;
  });
  deps.afterCommit();
  return result;
}

export const SIGNUP_APPROVED_TEXT =
  'Your signup was approved. Add a device with /adddevice wireguard NAME (or /adddevice ppp NAME); ' +
  'you will receive its configuration here.';
export const SIGNUP_REJECTED_TEXT = 'Sorry, your signup request was not approved.';

/** Tells the requester and edits the admins' messages. */
export async function notifySignupOutcome(deps: DomainDeps, channels: ChatChannels, requestId: string): Promise<void> {
  const request = await deps.db.signupRequest.findUnique({ where: { id: requestId } });
  if (!request || request.state === 'pending') return;
  const verdict = `${request.state === 'approved' ? 'Approved' : 'Rejected'} by ${request.decidedBy}`;
  for (const prompt of await deps.db.signupPrompt.findMany({ where: { requestId } })) {
    await channels[prompt.platform]
      ?.updateText({ chatId: prompt.chatId, messageId: prompt.messageId }, `Signup request: ${describeRequest(request)}. ${verdict}.`)
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'could not update a signup prompt'));
  }
  const channel = channels[request.platform];
  if (channel) await channel.sendText(request.chatId, request.state === 'approved' ? SIGNUP_APPROVED_TEXT : SIGNUP_REJECTED_TEXT);
}
