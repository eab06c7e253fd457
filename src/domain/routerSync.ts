// Makes a router reflect a session's current state. Idempotent and state-driven: it does not
// replay "what happened" but converges on "what should be", so it can be retried, run again when
// a router link returns, or run twice without harm.
//
//   pending  -> (verified, i.e. WireGuard) address in the sandbox, out of the permit list;
//               PPP's on-up script does this itself
//   approved -> address in the permit list, out of the sandbox
//   denied   -> source banned (address-list timeout), session disconnected, no permit
//   expired  -> session disconnected (and the source banned if the streak hit the limit)
//   closed   -> permit/sandbox entries removed unless a newer open session holds the address;
//               disconnected too when it was closed because the source is banned
//
// WireGuard has no session to disconnect: RouterOS keeps no per-peer connection, only the last
// handshake, and the peer itself is the device's configuration (removing it is deprovisioning, not
// a deny). So for a WireGuard account "disconnect" means: the peer's address never enters (or
// leaves) the permit list and stays sandboxed while the peer is online, and the endpoint's public
// IP is cut off by the ban, where there is one (deny, or the Nth unanswered attempt): its
// address-list entry with a timeout makes the raw rule drop every packet from it, handshakes
// included, until the router lifts it. Once the watcher sees the peer offline, the sandbox entry
// of a denied/expired session is cleaned up like a closed one. No PPP operation is ever called
// for a WireGuard account (it has no username, and /ppp/active has no such session).
import type { Db } from '../db/client.js';
import { audit } from './audit.js';
import { bannableAddress } from './hookClaims.js';
import type { DomainDeps, RouterGateway, RouterOps } from './ports.js';

type SyncedSession = NonNullable<Awaited<ReturnType<typeof loadForSync>>>;

function loadForSync(db: Db, sessionId: string) {
  return db.connectionSession.findUnique({
    where: { id: sessionId },
    include: { account: true, router: true },
  });
}

/** The name an address-list comment carries for the session's account. */
function accountTag(account: SyncedSession['account']): string {
  return account.username ?? account.wgPublicKey ?? account.id;
}

/** Ends a PPP session on the router; for WireGuard there is none (see the header). */
async function disconnect(ops: RouterOps, session: SyncedSession): Promise<void> {
  if (session.account.kind !== 'ppp') return;
  const rows = await ops.findPppActive({ name: session.account.username ?? '' });
  for (const row of rows) {
    if (row.address === session.sessionAddress && row.id) await ops.disconnectPpp(row.id);
  }
}

async function applyBans(deps: DomainDeps, ops: RouterOps, session: SyncedSession): Promise<void> {
  const now = deps.now();
  const bans = await deps.db.ban.findMany({
    where: { sessionId: session.id, liftedAt: null, expiresAt: { gt: now } },
  });
  for (const ban of bans) {
    if (!bannableAddress(ban.address)) continue; // a MAC: enforced by Warden at the next login
    // The router lifts the ban by itself when the entry times out, even if Warden is down.
    const seconds = Math.max(1, Math.ceil((ban.expiresAt.getTime() - now.getTime()) / 1000));
    await ops.addToAddressList(session.router.banList, ban.address, { timeout: seconds, comment: `warden:ban:${ban.id}` });
  }
}

/** Removes the session's permit/sandbox entries unless another open session holds the address. */
async function releaseAddress(deps: DomainDeps, ops: RouterOps, session: SyncedSession): Promise<void> {
  const { sandboxList, permitList } = session.router;
  const holders = await deps.db.connectionSession.findMany({
    where: { routerId: session.routerId, sessionAddress: session.sessionAddress, state: { in: ['pending', 'approved'] }, id: { not: session.id } },
    select: { state: true },
  });
  if (!holders.some((h) => h.state === 'approved')) await ops.removeFromAddressList(permitList, session.sessionAddress);
  if (!holders.some((h) => h.state === 'pending')) await ops.removeFromAddressList(sandboxList, session.sessionAddress);
}

export async function syncSessionToRouter(deps: DomainDeps, routers: RouterGateway, sessionId: string): Promise<void> {
  // Serialise syncs of one session across workers and instances: a slow "permit" must not land
  // after a later "close" has already cleaned up.
  await deps.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${'routerSync:' + sessionId}, 0))`;
      const session = await loadForSync(deps.db, sessionId);
      if (!session) return;
      const ops = await routers.forRouter(session.routerId);
      const { sandboxList, permitList } = session.router;
      const address = session.sessionAddress;

      switch (session.state) {
        case 'pending':
          // Only a verified session is put in the sandbox here: one the WireGuard watcher read off
          // the router, where no on-up script did it. An unverified claim must not touch the lists.
          // Fail closed: whatever permit an earlier connection of this address left is cleared.
          if (!session.verifiedAt) return;
          await ops.removeFromAddressList(permitList, address);
          await ops.addToAddressList(sandboxList, address, { comment: `warden:sandbox:${accountTag(session.account)}` });
          break;
        case 'approved':
          // Permit first, then leave the sandbox: never a moment with neither entry *and* an
          // approval, and a half-done sync is retried from the top.
          await ops.addToAddressList(permitList, address, { comment: `warden:permit:${accountTag(session.account)}` });
          await ops.removeFromAddressList(sandboxList, address);
          break;
        case 'denied':
        case 'expired':
          await applyBans(deps, ops, session);
          await ops.removeFromAddressList(permitList, address);
          await disconnect(ops, session);
          // A WireGuard peer stays sandboxed while it is online; once the watcher has seen it go
          // offline it re-syncs this session and the entry goes (PPP's on-down script does that).
          if (session.account.kind === 'wireguard' && !session.account.wgOnline) await releaseAddress(deps, ops, session);
          break;
        case 'closed':
          if (session.closeReason === 'source-banned') await disconnect(ops, session);
          await applyBans(deps, ops, session);
          await releaseAddress(deps, ops, session);
          break;
      }
      await deps.db.connectionSession.update({
        where: { id: sessionId },
        data: { routerEffect: 'applied', effectError: null },
      });
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

/** Called when a sync job has used up its retries: the operator must see it. */
export async function recordSyncFailure(deps: DomainDeps, sessionId: string, error: string): Promise<void> {
  const session = await deps.db.connectionSession.update({
    where: { id: sessionId },
    data: { routerEffect: 'failed', effectError: error.slice(0, 500) },
  });
  await audit(deps.db, {
    actor: 'system',
    action: 'router.sync-failed',
    routerId: session.routerId,
    sessionId,
    detail: { state: session.state, error: error.slice(0, 500) },
  });
}

/** Removes a lifted ban's entry from the router's ban list. */
export async function removeBanFromRouter(deps: DomainDeps, routers: RouterGateway, banId: string): Promise<void> {
  const ban = await deps.db.ban.findUnique({ where: { id: banId }, include: { router: true } });
  if (!ban || !ban.liftedAt || !bannableAddress(ban.address)) return;
  // Another ban on the same address may still be in force; keep the entry then.
  const other = await deps.db.ban.findFirst({
    where: { routerId: ban.routerId, address: ban.address, liftedAt: null, expiresAt: { gt: deps.now() } },
  });
  if (other) return;
  const ops = await routers.forRouter(ban.routerId);
  await ops.removeFromAddressList(ban.router.banList, ban.address);
}

/** Sessions whose router work is still owed; re-queued when a router link comes back. */
export async function sessionsOwingRouterWork(db: Db, routerId: string): Promise<string[]> {
  const rows = await db.connectionSession.findMany({
    where: { routerId, routerEffect: { in: ['queued', 'failed'] } },
    select: { id: true },
    orderBy: { updatedAt: 'asc' },
    take: 1000,
  });
  return rows.map((r) => r.id);
}
