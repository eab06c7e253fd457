// Connection sessions: what happens when a VPN connection starts or ends (a router's PPP hook,
// or the WireGuard watcher in wireguardWatch.ts), when the owner decides, and when a prompt times
// out. Every function here changes the database in one transaction and queues its follow-up jobs
// through the outbox in that same transaction.
//
// Security rule: nothing here ever permits an address. Only `decideSession` with an owner's
// approval moves a session to `approved`; the router is changed later by routerSync.
import type { Router, VpnAccount } from '../generated/prisma/client.js';
import type { SessionState } from '../generated/prisma/enums.js';
import type { Tx } from '../db/client.js';
import { newDecisionToken } from '../crypto/tokens.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import { audit } from './audit.js';
import { bannableAddress, normalizeCallerId, type PppHookClaim } from './hookClaims.js';
import type { DomainDeps, RouterGateway } from './ports.js';
import { nextState, OPEN_STATES, type SessionEvent } from './sessionStateMachine.js';

export type ConnectionUpResult =
  | { status: 'pending'; sessionId: string }
  | { status: 'duplicate'; sessionId: string; state: SessionState }
  | { status: 'banned'; sessionId: string; banExpiresAt: Date }
  | { status: 'unknown-account' }
  | { status: 'account-disabled' };
export type PppUpResult = ConnectionUpResult;

export type ConnectionDownResult = { status: 'closed'; sessionIds: string[] } | { status: 'no-session' };
export type PppDownResult = ConnectionDownResult;

/**
 * A new VPN connection of a known account, whoever noticed it: the PPP on-up hook (a claim the
 * router's script makes) or the WireGuard watcher (what Warden itself read off the router).
 */
export interface ConnectionClaim {
  account: VpnAccount;
  /** The client's public source: an IP address, or a MAC for PPPoE. */
  callerId: string;
  /** The client's address inside the VPN; this is what the address lists hold. */
  address: string;
  service?: string | null;
  interface?: string | null;
  /**
   * True only when Warden read the connection off the router itself (the WireGuard watcher).
   * The session is then born verified: the prompt is queued at once, and a pending routerSync
   * sandboxes the address, because no router script has done that. A hook's claim is never
   * verified here; `session.verify` checks it against the router before anyone is asked, and
   * until then it must not touch the address lists (a leaked token must not be able to).
   */
  verified?: boolean;
}

export type DecisionOutcome =
  | 'approved'
  | 'denied'
  | 'not-owner'
  | 'unknown'
  | 'expired'
  | 'already-approved'
  | 'already-denied'
  | 'already-expired'
  | 'already-closed';

const routerActor = (router: Pick<Router, 'name'>) => `router:${router.name}`;

/** Locks the session row for the rest of the transaction and returns its current state. */
async function lockSession(tx: Tx, sessionId: string) {
  await tx.$queryRaw`SELECT id FROM connection_sessions WHERE id = ${sessionId}::uuid FOR UPDATE`;
  return tx.connectionSession.findUniqueOrThrow({
    where: { id: sessionId },
    include: { account: true, router: true },
  });
}

function transitionOrThrow(from: SessionState, event: SessionEvent): SessionState {
  const to = nextState(from, event);
  if (!to) throw new Error(`illegal session transition: ${from} --${event}-->`);
  return to;
}

async function activeBan(tx: Tx, routerId: string, source: string, now: Date) {
  return tx.ban.findFirst({
    where: { routerId, address: source, liftedAt: null, expiresAt: { gt: now } },
    orderBy: { expiresAt: 'desc' },
  });
}

async function createBan(
  deps: DomainDeps,
  tx: Tx,
  args: { routerId: string; callerId: string; reason: 'denied' | 'unconfirmed'; sessionId: string; accountId: string; actor: string },
) {
  const now = deps.now();
  const ban = await tx.ban.create({
    data: {
      routerId: args.routerId,
      // PPPoE callers are MACs: the ban is then enforced by Warden on the next login.
      address: bannableAddress(args.callerId) ?? args.callerId,
      reason: args.reason,
      sessionId: args.sessionId,
      accountId: args.accountId,
      expiresAt: new Date(now.getTime() + deps.policy.banDurationMs),
    },
  });
  await audit(tx, {
    actor: args.actor,
    action: 'ban.created',
    routerId: args.routerId,
    sessionId: args.sessionId,
    detail: { banId: ban.id, address: ban.address, reason: ban.reason, expiresAt: ban.expiresAt.toISOString() },
  });
  return ban;
}

/**
 * Counts an attempt that ended without approval; on the Nth in a row the source is banned.
 * Returns whether a ban was created.
 */
async function countUnconfirmedAttempt(
  deps: DomainDeps,
  tx: Tx,
  session: { id: string; routerId: string; callerId: string; accountId: string },
): Promise<boolean> {
  const account = await tx.vpnAccount.update({
    where: { id: session.accountId },
    data: { unconfirmedStreak: { increment: 1 } },
  });
  if (account.unconfirmedStreak < deps.policy.maxUnconfirmedAttempts) return false;
  await tx.vpnAccount.update({ where: { id: account.id }, data: { unconfirmedStreak: 0 } });
  await createBan(deps, tx, {
    routerId: session.routerId,
    callerId: session.callerId,
    reason: 'unconfirmed',
    sessionId: session.id,
    accountId: session.accountId,
    actor: 'system',
  });
  return true;
}

export async function reportPppUp(deps: DomainDeps, router: Router, claim: PppHookClaim): Promise<PppUpResult> {
  const result = await deps.db.$transaction(async (tx): Promise<PppUpResult> => {
    const account = await tx.vpnAccount.findUnique({
      where: { routerId_username: { routerId: router.id, username: claim.user } },
    });
    if (!account || account.kind !== 'ppp') {
      await audit(tx, { actor: routerActor(router), routerId: router.id, action: 'login.unknown-account', detail: { user: claim.user, address: claim.address } });
      return { status: 'unknown-account' };
    }
    return reportConnectionUpInTx(deps, tx, router, {
      account,
      callerId: claim.callerId,
      address: claim.address,
      service: claim.service || null,
      interface: claim.interface || null,
    });
  });
  deps.afterCommit();
  return result;
}

/**
 * A new connection of `claim.account` on `router`: creates the pending session inside the
 * caller's transaction and queues what follows through the outbox. The caller commits and then
 * calls `deps.afterCommit()`. Shared by the PPP up-hook and the WireGuard watcher, which must
 * write its own state change in the same transaction.
 */
export async function reportConnectionUpInTx(deps: DomainDeps, tx: Tx, router: Router, claim: ConnectionClaim): Promise<ConnectionUpResult> {
  const now = deps.now();
  const { account } = claim;
  const base = { actor: routerActor(router), routerId: router.id };
  const who = account.username ? { user: account.username } : { publicKey: account.wgPublicKey };
  if (account.disabled) {
    await audit(tx, { ...base, action: 'login.account-disabled', personId: account.personId, detail: who });
    return { status: 'account-disabled' };
  }
  // Serialise concurrent reports for the same account (e.g. a router retrying a slow call).
  await tx.$queryRaw`SELECT id FROM vpn_accounts WHERE id = ${account.id}::uuid FOR UPDATE`;

  const open = await tx.connectionSession.findMany({
    where: { routerId: router.id, sessionAddress: claim.address, state: { in: OPEN_STATES } },
  });
  // A repeated PPP up-hook is the router retrying the same login. The WireGuard watcher reports
  // a connection only on the account's offline -> online change, under the account's row lock,
  // so a session still open then belongs to an earlier connection and is superseded below.
  const same = account.kind === 'ppp' ? open.find((s) => s.accountId === account.id && s.callerId === claim.callerId) : undefined;
  if (same) {
    await audit(tx, { ...base, action: 'login.duplicate', sessionId: same.id, personId: account.personId });
    // The repeated up-hook put the address back into the sandbox; re-sync so an approved
    // session leaves it again.
    if (same.state === 'approved') await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: same.id });
    return { status: 'duplicate', sessionId: same.id, state: same.state };
  }
  // The address now belongs to a new connection: whatever an earlier holder was allowed
  // must not carry over to it.
  for (const stale of open) {
    await closeSession(deps, tx, stale.id, 'superseded', routerActor(router));
  }

  const ban = await activeBan(tx, router.id, bannableAddress(claim.callerId) ?? claim.callerId, now);
  const verified = Boolean(claim.verified) && !ban;
  const session = await tx.connectionSession.create({
    data: {
      routerId: router.id,
      accountId: account.id,
      service: claim.service || null,
      callerId: claim.callerId,
      sessionAddress: claim.address,
      interfaceName: claim.interface || null,
      decisionToken: newDecisionToken(),
      expiresAt: new Date(now.getTime() + deps.policy.approvalTimeoutMs),
      ...(verified ? { verifiedAt: now, routerEffect: 'queued' } : {}),
      ...(ban ? { state: 'closed', closedAt: now, closeReason: 'source-banned', routerEffect: 'queued' } : {}),
    },
  });
  if (ban) {
    await audit(tx, { ...base, action: 'login.banned-source', sessionId: session.id, personId: account.personId, detail: { banId: ban.id } });
    await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: session.id });
    return { status: 'banned', sessionId: session.id, banExpiresAt: ban.expiresAt };
  }
  await audit(tx, {
    ...base,
    action: 'login.reported',
    sessionId: session.id,
    personId: account.personId,
    detail: { ...who, callerId: claim.callerId, address: claim.address, service: claim.service || null },
  });
  if (verified) {
    await audit(tx, { actor: 'system', action: 'login.verified', routerId: router.id, sessionId: session.id, personId: account.personId });
    await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: session.id });
    await enqueueAfterCommit(tx, 'session.prompt', { sessionId: session.id });
  } else {
    await enqueueAfterCommit(tx, 'session.verify', { sessionId: session.id });
  }
  await enqueueAfterCommit(tx, 'session.expire', { sessionId: session.id }, { runAt: session.expiresAt });
  return { status: 'pending', sessionId: session.id };
}

/** Closes an open session inside `tx` and queues router cleanup and the chat update. */
async function closeSession(deps: DomainDeps, tx: Tx, sessionId: string, reason: string, actor: string): Promise<boolean> {
  const session = await lockSession(tx, sessionId);
  const to = nextState(session.state, 'close');
  if (!to) return false;
  await tx.connectionSession.update({
    where: { id: session.id },
    data: { state: to, closedAt: deps.now(), closeReason: reason, routerEffect: 'queued' },
  });
  await audit(tx, {
    actor,
    action: 'session.closed',
    routerId: session.routerId,
    sessionId: session.id,
    personId: session.account.personId,
    detail: { reason, from: session.state },
  });
  // Walking away from a prompt counts like letting it expire (only once the owner could see it).
  if (session.state === 'pending' && session.verifiedAt) await countUnconfirmedAttempt(deps, tx, session);
  await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: session.id });
  await enqueueAfterCommit(tx, 'session.notifyOutcome', { sessionId: session.id });
  return true;
}

export async function reportPppDown(deps: DomainDeps, router: Router, claim: PppHookClaim): Promise<PppDownResult> {
  const result = await deps.db.$transaction(async (tx): Promise<PppDownResult> => {
    const account = await tx.vpnAccount.findUnique({
      where: { routerId_username: { routerId: router.id, username: claim.user } },
    });
    if (!account) return { status: 'no-session' };
    return reportConnectionDownInTx(deps, tx, router, { accountId: account.id, address: claim.address });
  });
  deps.afterCommit();
  return result;
}

/**
 * The account's connection ended (PPP down-hook, or a WireGuard peer idle past the limit):
 * closes its open sessions (at `address`, when given) inside the caller's transaction and queues
 * router cleanup and the chat update. The caller commits and calls `deps.afterCommit()`.
 */
export async function reportConnectionDownInTx(
  deps: DomainDeps,
  tx: Tx,
  router: Router,
  args: { accountId: string; address?: string },
): Promise<ConnectionDownResult> {
  const open = await tx.connectionSession.findMany({
    where: {
      routerId: router.id,
      accountId: args.accountId,
      state: { in: OPEN_STATES },
      ...(args.address !== undefined ? { sessionAddress: args.address } : {}),
    },
  });
  const closed: string[] = [];
  for (const s of open) {
    if (await closeSession(deps, tx, s.id, 'disconnected', routerActor(router))) closed.push(s.id);
  }
  return closed.length ? { status: 'closed', sessionIds: closed } : { status: 'no-session' };
}

/**
 * Confirms on the router that the claimed session exists before anyone is asked. A leaked hook
 * token alone can therefore never produce a prompt, let alone a permit.
 */
export async function verifySession(deps: DomainDeps, routers: RouterGateway, sessionId: string): Promise<'verified' | 'rejected' | 'skipped'> {
  const session = await deps.db.connectionSession.findUnique({
    where: { id: sessionId },
    include: { account: true, router: true },
  });
  if (!session || session.state !== 'pending' || session.verifiedAt) return 'skipped';
  // Only PPP sessions start from a claim. WireGuard sessions are created verified by the watcher,
  // which read the peer's handshake off the router itself (wireguardWatch.ts); one that somehow
  // lacks verifiedAt must not be rejected here for having no /ppp/active row.
  if (session.account.kind !== 'ppp') return 'skipped';
  const username = session.account.username ?? '';
  const ops = await routers.forRouter(session.routerId);
  const active = await ops.findPppActive({ name: username });
  const match = active.find(
    (row) =>
      row.name === username &&
      row.address === session.sessionAddress &&
      normalizeCallerId(row.callerId) === normalizeCallerId(session.callerId),
  );
  if (match) {
    // The on-up script normally did this already; doing it here too keeps the lists right even
    // if the script's own add failed. It is bookkeeping, not the gate (the firewall drops an
    // address that is in neither list), so a failed add must not fail the verification: with
    // an API user that may only read, every login would otherwise go unprompted with no sign
    // of trouble. The owner is asked, and the missing right shows where it matters, when the
    // decision cannot be applied (`sessions list --problems`).
    await ops
      .addToAddressList(session.router.sandboxList, session.sessionAddress, { comment: `warden:sandbox:${username}` })
      .catch((err: unknown) => {
        deps.logger.warn({ sessionId, err: err instanceof Error ? err.message : String(err) }, 'could not add the address to the sandbox list; verifying anyway');
      });
  }
  const outcome = await deps.db.$transaction(async (tx) => {
    const locked = await lockSession(tx, sessionId);
    if (locked.state !== 'pending' || locked.verifiedAt) return 'skipped' as const;
    if (!match) {
      await tx.connectionSession.update({
        where: { id: sessionId },
        data: { state: transitionOrThrow(locked.state, 'close'), closedAt: deps.now(), closeReason: 'not-active-on-router' },
      });
      await audit(tx, {
        actor: 'system',
        action: 'login.claim-rejected',
        routerId: locked.routerId,
        sessionId,
        detail: { reason: '/ppp/active has no such session', user: username, address: locked.sessionAddress, callerId: locked.callerId },
      });
      return 'rejected' as const;
    }
    await tx.connectionSession.update({
      where: { id: sessionId },
      data: {
        verifiedAt: deps.now(),
        routerSessionId: match.id || null,
        service: match.service || locked.service,
      },
    });
    await audit(tx, { actor: 'system', action: 'login.verified', routerId: locked.routerId, sessionId, personId: locked.account.personId });
    await enqueueAfterCommit(tx, 'session.prompt', { sessionId });
    return 'verified' as const;
  });
  deps.afterCommit();
  return outcome;
}

/** The owner pressed Approve or Deny. Only the account's owner can decide, once, in time. */
export async function decideSession(
  deps: DomainDeps,
  args: { token: string; decision: 'approve' | 'deny'; actor: { platform: 'telegram' | 'discord'; externalId: string } },
): Promise<DecisionOutcome> {
  const result = await deps.db.$transaction(async (tx): Promise<DecisionOutcome> => {
    const found = await tx.connectionSession.findUnique({ where: { decisionToken: args.token }, select: { id: true } });
    if (!found) return 'unknown';
    const session = await lockSession(tx, found.id);
    const identity = await tx.chatIdentity.findUnique({
      where: { platform_externalId: { platform: args.actor.platform, externalId: args.actor.externalId } },
    });
    const actor = `${args.actor.platform}:${args.actor.externalId}`;
    const refuse = async (outcome: DecisionOutcome) => {
      await audit(tx, {
        actor,
        action: 'decision.refused',
        routerId: session.routerId,
        sessionId: session.id,
        personId: identity?.personId ?? null,
        detail: { outcome, decision: args.decision },
      });
      return outcome;
    };
    if (!identity || identity.personId !== session.account.personId) return refuse('not-owner');
    if (session.state !== 'pending') return refuse(`already-${session.state}` as DecisionOutcome);
    if (deps.now() >= session.expiresAt || !session.verifiedAt) return refuse('expired');

    const now = deps.now();
    const to = transitionOrThrow(session.state, args.decision);
    await tx.connectionSession.update({
      where: { id: session.id },
      data: { state: to, decidedAt: now, decidedById: identity.personId, routerEffect: 'queued' },
    });
    await tx.vpnAccount.update({ where: { id: session.accountId }, data: { unconfirmedStreak: 0 } });
    await audit(tx, {
      actor,
      action: to === 'approved' ? 'session.approved' : 'session.denied',
      routerId: session.routerId,
      sessionId: session.id,
      personId: identity.personId,
      detail: { address: session.sessionAddress, callerId: session.callerId },
    });
    if (to === 'denied') {
      await createBan(deps, tx, {
        routerId: session.routerId,
        callerId: session.callerId,
        reason: 'denied',
        sessionId: session.id,
        accountId: session.accountId,
        actor,
      });
    }
    await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: session.id });
    await enqueueAfterCommit(tx, 'session.notifyOutcome', { sessionId: session.id });
    return to === 'approved' ? 'approved' : 'denied';
  });
  deps.afterCommit();
  return result;
}

/** The prompt's deadline passed. Runs from a delayed job; harmless if the session moved on. */
export async function expireSession(deps: DomainDeps, sessionId: string): Promise<'expired' | 'not-yet' | 'skipped'> {
  const result = await deps.db.$transaction(async (tx) => {
    const session = await lockSession(tx, sessionId);
    if (session.state !== 'pending') return 'skipped' as const;
    const now = deps.now();
    // A job may run early if clocks differ between hosts; re-arm it for the real deadline.
    if (now.getTime() < session.expiresAt.getTime() - 250) {
      await enqueueAfterCommit(tx, 'session.expire', { sessionId }, { runAt: session.expiresAt });
      return 'not-yet' as const;
    }
    await tx.connectionSession.update({
      where: { id: sessionId },
      data: { state: transitionOrThrow(session.state, 'expire'), routerEffect: 'queued' },
    });
    await audit(tx, {
      actor: 'system',
      action: 'session.expired',
      routerId: session.routerId,
      sessionId,
      personId: session.account.personId,
      detail: { verified: Boolean(session.verifiedAt) },
    });
    // An attempt the owner never saw (router unreachable for verification) is not held against them.
    if (session.verifiedAt) await countUnconfirmedAttempt(deps, tx, session);
    await enqueueAfterCommit(tx, 'session.routerSync', { sessionId });
    await enqueueAfterCommit(tx, 'session.notifyOutcome', { sessionId });
    return 'expired' as const;
  });
  deps.afterCommit();
  return result;
}
