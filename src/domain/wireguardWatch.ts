// WireGuard connection gating. RouterOS runs no script when a WireGuard peer connects or goes
// quiet, so Warden watches each peer's last handshake instead (a `router.watchWireguard` job per
// poll, or when the router's optional watch script says something changed) and turns what it
// sees into the same connection flow as a PPP login:
//
//   up   — a handshake newer than the last one seen, recent (younger than the idle limit), while
//          the account is offline: online, and a pending session through `reportConnectionUpInTx`
//          with the peer's tunnel address and its endpoint's public IP as the caller.
//   down — online (or holding an open session) and no handshake for longer than the idle limit:
//          offline, and its sessions closed through `reportConnectionDownInTx`.
//
// A WireGuard session is created already verified: the watcher read the peer off the router
// itself, so there is nothing left to confirm, and asking the router again in `session.verify`
// would be a second reading of the same thing. That keeps one path: every WireGuard session is
// born from a router read here, and `verifySession` stays PPP-only. The router script's hook is a
// claim, so it never changes state; it only queues a watch, which reads the router.
//
// Each change is one transaction under the account's row lock, re-deciding from the locked row,
// so repeated or concurrent polls of the same state do nothing twice.
import type { Router, VpnAccount } from '../generated/prisma/client.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import { reportConnectionDownInTx, reportConnectionUpInTx } from './connections.js';
import { normalizeCallerId, type WireguardHandshakeClaim } from './hookClaims.js';
import type { DomainDeps, RouterGateway, WireguardPeerState } from './ports.js';
import { OPEN_STATES } from './sessionStateMachine.js';

/**
 * Handshake times are derived from "seconds ago" (whole seconds, read at slightly different
 * moments), so the same handshake read twice can differ by a second or so. WireGuard never
 * handshakes again this soon (its rekey timers are far longer), so anything within this margin
 * is the same handshake.
 */
const SAME_HANDSHAKE_MS = 2_000;

export type WireguardTransition = 'up' | 'down' | 'seen' | 'none';

type WatchedAccount = Pick<VpnAccount, 'wgOnline' | 'wgLastHandshakeAt' | 'provisionState' | 'disabled' | 'wgAddress'>;

/** Only a working, enabled device with a tunnel address can come up; any account can go down. */
function canComeUp(account: WatchedAccount): boolean {
  return account.provisionState === 'active' && !account.disabled && account.wgAddress !== null;
}

/**
 * What an observation of the account's peer calls for. Pure. `observed` is when the router says
 * the last handshake was (null: never, or the peer is gone or disabled).
 */
export function wireguardTransition(
  account: WatchedAccount,
  hasOpenSession: boolean,
  observed: Date | null,
  now: Date,
  idleMs: number,
): WireguardTransition {
  const stored = account.wgLastHandshakeAt?.getTime() ?? null;
  const seen = observed?.getTime() ?? null;
  const newer = seen !== null && (stored === null || seen > stored + SAME_HANDSHAKE_MS);
  if (!account.wgOnline && newer && now.getTime() - seen < idleMs && canComeUp(account)) return 'up';
  const last = Math.max(seen ?? -Infinity, stored ?? -Infinity);
  // An open session of an offline account is left over (e.g. the device's key was rotated);
  // close it the same way once the peer is quiet.
  if ((account.wgOnline || hasOpenSession) && (last === -Infinity || now.getTime() - last > idleMs)) return 'down';
  if (account.wgOnline && newer) return 'seen';
  return 'none';
}

function handshakeAt(peer: WireguardPeerState | undefined, readAt: number): Date | null {
  if (!peer || peer.disabled || peer.lastHandshakeSeconds === undefined) return null;
  return new Date(readAt - peer.lastHandshakeSeconds * 1000);
}

export interface WireguardWatchResult {
  status: 'watched' | 'not-configured';
  /** Peers the router listed on the interface (Warden's and others). */
  peers: number;
  up: number;
  down: number;
}

/**
 * Reads the router's WireGuard peers and brings its WireGuard accounts up or down accordingly.
 * Peers without a Warden account are ignored.
 */
export async function watchWireguardPeers(deps: DomainDeps, routers: RouterGateway, routerId: string): Promise<WireguardWatchResult> {
  const router = await deps.db.router.findUnique({ where: { id: routerId } });
  if (!router?.wgInterface) return { status: 'not-configured', peers: 0, up: 0, down: 0 };
  const accounts = await deps.db.vpnAccount.findMany({ where: { routerId, kind: 'wireguard', wgPublicKey: { not: null } } });
  const result: WireguardWatchResult = { status: 'watched', peers: 0, up: 0, down: 0 };
  if (accounts.length === 0) return result;

  const ops = await routers.forRouter(routerId);
  const peers = await ops.listWireguardPeers(router.wgInterface);
  const readAt = deps.now().getTime();
  result.peers = peers.length;
  const byKey = new Map(peers.map((p) => [p.publicKey, p]));
  const withOpenSession = new Set(
    (
      await deps.db.connectionSession.findMany({
        where: { routerId, state: { in: OPEN_STATES }, account: { kind: 'wireguard' } },
        select: { accountId: true },
      })
    ).map((s) => s.accountId),
  );

  for (const account of accounts) {
    const peer = byKey.get(account.wgPublicKey!);
    const observed = handshakeAt(peer, readAt);
    // Decide on the unlocked row first: most accounts need nothing, and those take no lock.
    const first = wireguardTransition(account, withOpenSession.has(account.id), observed, deps.now(), deps.policy.wireguardIdleMs);
    if (first === 'none') continue;
    const applied = await applyTransition(deps, router, account.id, observed, peer?.currentEndpointAddress);
    if (applied === 'up') result.up++;
    if (applied === 'down') result.down++;
  }
  return result;
}

async function applyTransition(
  deps: DomainDeps,
  router: Router,
  accountId: string,
  observed: Date | null,
  endpoint: string | undefined,
): Promise<WireguardTransition> {
  const log = deps.logger.child({ routerId: router.id, accountId });
  const outcome = await deps.db.$transaction(async (tx): Promise<WireguardTransition> => {
    await tx.$queryRaw`SELECT id FROM vpn_accounts WHERE id = ${accountId}::uuid FOR UPDATE`;
    const account = await tx.vpnAccount.findUnique({ where: { id: accountId } });
    if (!account) return 'none';
    const open = await tx.connectionSession.count({ where: { accountId, state: { in: OPEN_STATES } } });
    const transition = wireguardTransition(account, open > 0, observed, deps.now(), deps.policy.wireguardIdleMs);
    switch (transition) {
      case 'up': {
        // The endpoint is the source a deny bans. RouterOS sets it from the same packet as the
        // handshake, so a handshake without one is a torn reading: leave the account offline
        // (and the address in no list, i.e. dropped) and look again at the next poll, rather
        // than open a session whose source could not be banned.
        const source = endpoint ? normalizeCallerId(endpoint) : '';
        if (!source) {
          log.debug('WireGuard handshake without an endpoint address; looking again at the next poll');
          return 'none';
        }
        await tx.vpnAccount.update({ where: { id: accountId }, data: { wgOnline: true, wgLastHandshakeAt: observed } });
        const up = await reportConnectionUpInTx(deps, tx, router, {
          account,
          callerId: source,
          address: account.wgAddress!,
          service: 'wireguard',
          interface: router.wgInterface,
          verified: true,
        });
        log.info({ result: up.status, endpoint: source, address: account.wgAddress }, 'WireGuard peer up');
        return 'up';
      }
      case 'down': {
        const stored = account.wgLastHandshakeAt;
        const last = observed && (!stored || observed > stored) ? observed : stored;
        await tx.vpnAccount.update({ where: { id: accountId }, data: { wgOnline: false, wgLastHandshakeAt: last } });
        const down = await reportConnectionDownInTx(deps, tx, router, { accountId });
        // A denied or expired last session kept the address sandboxed while the peer was online;
        // now that it is gone, let routerSync clean that up.
        const latest = await tx.connectionSession.findFirst({ where: { accountId }, orderBy: { createdAt: 'desc' } });
        if (latest && (latest.state === 'denied' || latest.state === 'expired')) {
          await tx.connectionSession.update({ where: { id: latest.id }, data: { routerEffect: 'queued' } });
          await enqueueAfterCommit(tx, 'session.routerSync', { sessionId: latest.id });
        }
        log.info({ result: down.status, lastHandshakeAt: last?.toISOString() ?? null }, 'WireGuard peer down');
        return 'down';
      }
      case 'seen':
        await tx.vpnAccount.update({ where: { id: accountId }, data: { wgLastHandshakeAt: observed } });
        return 'seen';
      case 'none':
        return 'none';
    }
  });
  deps.afterCommit();
  return outcome;
}

export type WireguardHandshakeResult =
  | { status: 'queued' }
  | { status: 'no-change' }
  | { status: 'unknown-peer' }
  | { status: 'not-configured' };

/**
 * The router's watch script reports a peer's handshake. A claim, so it changes nothing by itself:
 * when it suggests the account came up or went down, a `router.watchWireguard` job is queued and
 * the watcher reads the router (the same function as the poll, in the worker, which holds the
 * router connections; the API process holds none).
 */
export async function reportWireguardHandshake(deps: DomainDeps, router: Router, claim: WireguardHandshakeClaim): Promise<WireguardHandshakeResult> {
  if (!router.wgInterface) return { status: 'not-configured' };
  const account = await deps.db.vpnAccount.findUnique({
    where: { routerId_wgPublicKey: { routerId: router.id, wgPublicKey: claim.publicKey } },
  });
  // The script reports every peer of the interface, site-to-site links included: not an event.
  if (!account || account.kind !== 'wireguard') return { status: 'unknown-peer' };
  const open = await deps.db.connectionSession.count({ where: { accountId: account.id, state: { in: OPEN_STATES } } });
  const now = deps.now();
  const observed = typeof claim.lastHandshakeSeconds === 'number' ? new Date(now.getTime() - claim.lastHandshakeSeconds * 1000) : null;
  const transition = wireguardTransition(account, open > 0, observed, now, deps.policy.wireguardIdleMs);
  if (transition !== 'up' && transition !== 'down') return { status: 'no-change' };
  await enqueueAfterCommit(deps.db, 'router.watchWireguard', { routerId: router.id });
  deps.afterCommit();
  return { status: 'queued' };
}
