// Devices: VPN accounts Warden creates on a router for a person (WireGuard peers or PPP secrets),
// within the person's device limit. The database row is written first (state "provisioning",
// secrets encrypted), then a job makes the router match it; if that finally fails the partial
// router state is removed again, so database and router never disagree for long.
import { randomBytes, randomInt } from 'node:crypto';
import type { Tx } from '../db/client.js';
import type { VpnAccount } from '../generated/prisma/client.js';
import type { VpnKind } from '../generated/prisma/enums.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import { generatePresharedKey, generateWireguardKeyPair } from '../router/wireguardKeys.js';
import { audit } from './audit.js';
import { WardenError } from './errors.js';
import type { DomainDeps, RouterGateway } from './ports.js';
import { parseCidr } from './admin.js';

export const DEVICE_LABEL = /^[A-Za-z0-9_.-]{1,24}$/;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * The first free client address in an IPv4 pool. The network address, the first host (the
 * router's own side of the tunnel, by convention) and the broadcast address are never handed out.
 */
export function firstFreeAddress(pool: string, used: Set<string>): string | null {
  const { address, prefix, family } = parseCidr(pool);
  if (family !== 4) throw new WardenError('invalid-input', `WireGuard pool ${pool} must be IPv4`);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipv4ToInt(address) / size) * size;
  for (let host = 2; host < size - 1; host++) {
    const candidate = intToIpv4(network + host);
    if (!used.has(candidate)) return candidate;
  }
  return null;
}

/** A password strong enough for PPP (120 bits), without characters that confuse people typing it. */
export function generatePppPassword(length = 22): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function pppUsernameFor(personName: string, label: string): string {
  const base = personName.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '').slice(0, 20) || 'user';
  return `${base}-${label.toLowerCase().replace(/[^a-z0-9._-]/g, '')}`.slice(0, 48) + '-' + randomBytes(2).toString('hex');
}

async function deviceLimitFor(tx: Tx, deps: DomainDeps, personId: string): Promise<number> {
  const person = await tx.person.findUniqueOrThrow({ where: { id: personId } });
  return person.deviceLimit ?? deps.policy.deviceLimit;
}

/** Creates a device row inside `tx` and queues its provisioning; the caller commits. */
export async function createDeviceInTx(
  deps: DomainDeps,
  tx: Tx,
  args: { personId: string; routerId: string; kind: VpnKind; label: string; actor: string },
): Promise<VpnAccount> {
  if (!DEVICE_LABEL.test(args.label)) throw new WardenError('invalid-input', 'device name: 1-24 characters of A-Z a-z 0-9 _ . -');
  // Serialise device creation per router (address allocation) and per person (device limit).
  await tx.$queryRaw`SELECT id FROM routers WHERE id = ${args.routerId}::uuid FOR UPDATE`;
  await tx.$queryRaw`SELECT id FROM people WHERE id = ${args.personId}::uuid FOR UPDATE`;
  const router = await tx.router.findUniqueOrThrow({ where: { id: args.routerId } });
  const person = await tx.person.findUniqueOrThrow({ where: { id: args.personId } });
  const limit = await deviceLimitFor(tx, deps, args.personId);
  const owned = await tx.vpnAccount.findMany({ where: { personId: args.personId, provisionState: { not: 'deleting' } }, select: { label: true } });
  if (owned.length >= limit) throw new WardenError('conflict', `device limit reached (${limit}); remove a device first`);
  if (owned.some((d) => d.label.toLowerCase() === args.label.toLowerCase())) throw new WardenError('conflict', `you already have a device named "${args.label}"`);

  const box = deps.secretBox;
  let data: Parameters<Tx['vpnAccount']['create']>[0]['data'];
  if (args.kind === 'wireguard') {
    if (!router.wgInterface || !router.wgPool || !router.vpnHost) {
      throw new WardenError('unavailable', `router "${router.name}" is not set up for WireGuard (router set --wg-interface --wg-pool --vpn-host)`);
    }
    const used = new Set(
      (await tx.vpnAccount.findMany({ where: { routerId: router.id, wgAddress: { not: null } }, select: { wgAddress: true } })).map((a) => a.wgAddress!),
    );
    const address = firstFreeAddress(router.wgPool, used);
    if (!address) throw new WardenError('unavailable', `the WireGuard pool ${router.wgPool} of router "${router.name}" is full`);
    const keys = generateWireguardKeyPair();
    data = {
      routerId: router.id,
      personId: person.id,
      kind: 'wireguard',
      label: args.label,
      managed: true,
      provisionState: 'provisioning',
      wgPublicKey: keys.publicKey,
      wgAddress: address,
      wgPrivateKeyEnc: box.seal(keys.privateKey),
      wgPresharedKeyEnc: box.seal(generatePresharedKey()),
    };
  } else {
    if (!router.vpnHost) throw new WardenError('unavailable', `router "${router.name}" has no VPN host name set (router set --vpn-host)`);
    data = {
      routerId: router.id,
      personId: person.id,
      kind: 'ppp',
      label: args.label,
      managed: true,
      provisionState: 'provisioning',
      username: pppUsernameFor(person.displayName, args.label),
      pppPasswordEnc: box.seal(generatePppPassword()),
    };
  }
  const account = await tx.vpnAccount.create({ data });
  await audit(tx, {
    actor: args.actor,
    action: 'device.created',
    routerId: router.id,
    personId: person.id,
    detail: { accountId: account.id, kind: account.kind, label: account.label, address: account.wgAddress, username: account.username },
  });
  await enqueueAfterCommit(tx, 'device.provision', { accountId: account.id });
  return account;
}

export async function createDevice(
  deps: DomainDeps,
  args: { personId: string; routerId: string; kind: VpnKind; label: string; actor: string },
): Promise<VpnAccount> {
  const account = await deps.db.$transaction((tx) => createDeviceInTx(deps, tx, args), { timeout: 15_000 });
  deps.afterCommit();
  return account;
}

/** Makes the router hold exactly what the device row says. Idempotent; runs as a job. */
export async function provisionDevice(deps: DomainDeps, routers: RouterGateway, accountId: string): Promise<'provisioned' | 'skipped'> {
  const account = await deps.db.vpnAccount.findUnique({ where: { id: accountId }, include: { router: true } });
  if (!account || !account.managed || account.provisionState === 'deleting') return 'skipped';
  const ops = await routers.forRouter(account.routerId);
  const box = deps.secretBox;
  if (account.kind === 'wireguard') {
    await ops.addWireguardPeer({
      interface: account.router.wgInterface!,
      publicKey: account.wgPublicKey!,
      presharedKey: box.open(account.wgPresharedKeyEnc!),
      allowedAddress: [`${account.wgAddress}/32`],
      comment: `warden:${account.id}`,
    });
  } else {
    await ops.addPppSecret({
      name: account.username!,
      password: box.open(account.pppPasswordEnc!),
      profile: account.router.pppProfile,
      service: account.router.pppService as never,
      comment: `warden:${account.id}`,
    });
  }
  const wasNew = account.provisionState !== 'active';
  await deps.db.$transaction(async (tx) => {
    await tx.vpnAccount.update({ where: { id: accountId }, data: { provisionState: 'active', provisionError: null } });
    // Deliver the configuration the first time the device exists on the router (and after /rotate,
    // which sets the state back to provisioning).
    if (wasNew) await enqueueAfterCommit(tx, 'device.deliver', { accountId });
  });
  deps.afterCommit();
  return 'provisioned';
}

/** The last provisioning attempt failed: undo what may have reached the router, tell the owner. */
export async function recordProvisionFailure(deps: DomainDeps, routers: RouterGateway, accountId: string, error: string): Promise<void> {
  const account = await deps.db.vpnAccount.update({
    where: { id: accountId },
    data: { provisionState: 'failed', provisionError: error.slice(0, 500) },
  });
  await audit(deps.db, { actor: 'system', action: 'device.provision-failed', routerId: account.routerId, personId: account.personId, detail: { accountId, error: error.slice(0, 500) } });
  await removeFromRouter(deps, routers, account).catch((err: unknown) =>
    deps.logger.warn({ accountId, err: (err as Error).message }, 'could not clean up a failed device on the router'),
  );
}

async function removeFromRouter(deps: DomainDeps, routers: RouterGateway, account: VpnAccount & { router?: { wgInterface: string | null } }): Promise<void> {
  const router = await deps.db.router.findUniqueOrThrow({ where: { id: account.routerId } });
  const ops = await routers.forRouter(account.routerId);
  if (account.kind === 'wireguard' && account.wgPublicKey && router.wgInterface) {
    await ops.removeWireguardPeer({ interface: router.wgInterface, publicKey: account.wgPublicKey });
  }
  if (account.kind === 'ppp' && account.username) {
    await ops.removePppSecret(account.username);
    for (const session of await ops.findPppActive({ name: account.username })) await ops.disconnectPpp(session.id);
  }
}

/** Finds one of the person's devices by its name. */
export async function findOwnDevice(deps: DomainDeps, personId: string, label: string) {
  const devices = await deps.db.vpnAccount.findMany({ where: { personId, managed: true }, include: { router: true } });
  const device = devices.find((d) => d.label.toLowerCase() === label.trim().toLowerCase());
  if (!device) throw new WardenError('not-found', `no device named "${label}" (see /devices)`);
  return device;
}

/** Marks a device for deletion; a job removes it from the router, disconnects it, then deletes it. */
export async function removeDevice(deps: DomainDeps, accountId: string, actor: string): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    const account = await tx.vpnAccount.update({ where: { id: accountId }, data: { provisionState: 'deleting', disabled: true } });
    await audit(tx, { actor, action: 'device.removed', routerId: account.routerId, personId: account.personId, detail: { accountId, label: account.label } });
    await enqueueAfterCommit(tx, 'device.deprovision', { accountId });
  });
  deps.afterCommit();
}

export async function deprovisionDevice(deps: DomainDeps, routers: RouterGateway, accountId: string): Promise<'deleted' | 'skipped'> {
  const account = await deps.db.vpnAccount.findUnique({ where: { id: accountId } });
  if (!account || account.provisionState !== 'deleting') return 'skipped';
  await removeFromRouter(deps, routers, account);
  // Open sessions end with the device; their addresses leave the permit list.
  const open = await deps.db.connectionSession.findMany({ where: { accountId, state: { in: ['pending', 'approved'] } }, include: { router: true } });
  const ops = await routers.forRouter(account.routerId);
  for (const s of open) {
    await ops.removeFromAddressList(s.router.permitList, s.sessionAddress);
    await ops.removeFromAddressList(s.router.sandboxList, s.sessionAddress);
  }
  await deps.db.vpnAccount.delete({ where: { id: accountId } });
  return 'deleted';
}

/** New keys (WireGuard) or a new password (PPP); the router is updated and the config sent again. */
export async function rotateDevice(deps: DomainDeps, accountId: string, actor: string): Promise<void> {
  const box = deps.secretBox;
  await deps.db.$transaction(async (tx) => {
    const account = await tx.vpnAccount.findUniqueOrThrow({ where: { id: accountId } });
    if (account.provisionState === 'deleting') throw new WardenError('conflict', 'this device is being removed');
    const data =
      account.kind === 'wireguard'
        ? (() => {
            const keys = generateWireguardKeyPair();
            return {
              wgPublicKey: keys.publicKey,
              wgPrivateKeyEnc: box.seal(keys.privateKey),
              wgPresharedKeyEnc: box.seal(generatePresharedKey()),
              wgOnline: false,
            };
          })()
        : { pppPasswordEnc: box.seal(generatePppPassword()) };
    await tx.vpnAccount.update({ where: { id: accountId }, data: { ...data, provisionState: 'provisioning' } });
    await audit(tx, { actor, action: 'device.rotated', routerId: account.routerId, personId: account.personId, detail: { accountId } });
    // The old WireGuard peer must go: a leaked old key must stop working.
    if (account.kind === 'wireguard' && account.wgPublicKey) {
      await enqueueAfterCommit(tx, 'device.removePeer', { routerId: account.routerId, publicKey: account.wgPublicKey });
    }
    await enqueueAfterCommit(tx, 'device.provision', { accountId });
  });
  deps.afterCommit();
}

export async function removeStalePeer(deps: DomainDeps, routers: RouterGateway, routerId: string, publicKey: string): Promise<void> {
  const router = await deps.db.router.findUnique({ where: { id: routerId } });
  if (!router?.wgInterface) return;
  // Never remove a key a current device uses (a rotation that was itself rotated back is absurd, but cheap to guard).
  const inUse = await deps.db.vpnAccount.findFirst({ where: { routerId, wgPublicKey: publicKey } });
  if (inUse) return;
  const ops = await routers.forRouter(routerId);
  await ops.removeWireguardPeer({ interface: router.wgInterface, publicKey });
}
