// Bot commands written once for every platform: each takes who is asking and the parsed
// arguments, calls the domain, and returns what to answer (text, and buttons where needed).
// The Telegram and Discord adapters only parse their own command syntax and render the answer.
import type { ChatPlatform, VpnKind } from '../generated/prisma/enums.js';
import type { DomainDeps } from '../domain/ports.js';
import { WardenError } from '../domain/errors.js';
import { createDevice, findOwnDevice, removeDevice, rotateDevice } from '../domain/devices.js';
import { createInvite, isAdmin, joinWithInvite, requestSignup, type ChatPerson, type SignupDecision } from '../domain/signup.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';

export interface Reply {
  text: string;
  choices?: Array<{ label: string; data: string }>;
}

const text = (t: string): Reply => ({ text: t });

async function personOf(deps: DomainDeps, platform: ChatPlatform, externalId: string) {
  const identity = await deps.db.chatIdentity.findUnique({ where: { platform_externalId: { platform, externalId } }, include: { person: true } });
  return identity?.person ?? null;
}

const NOT_MEMBER = 'You do not have VPN access yet. Use /signup CODE with an invite code, or /signup to ask an admin.';

/** Domain refusals become answers; anything else is a bug and propagates to the bot's error log. */
async function answering(fn: () => Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WardenError) return text(`Sorry: ${err.message}.`);
    throw err;
  }
}

export function signupCommand(deps: DomainDeps, who: ChatPerson, code: string | null): Promise<Reply> {
  return answering(async () => {
    if (code) {
      const joined = await joinWithInvite(deps, who, code);
      switch (joined.status) {
        case 'joined':
          return text(
            `Welcome, ${joined.personName}! Your ${joined.kind === 'wireguard' ? 'WireGuard' : 'PPP'} device "${joined.deviceLabel}" is being created; ` +
              'its configuration arrives here in a moment. New VPN logins will ask for your approval here.',
          );
        case 'already-member':
          return text('You already have access. /devices lists your devices.');
        case 'invalid-code':
          return text('That invite code is not valid (it may have expired or been used up).');
        case 'failed':
          return text(`Sorry, signing up failed: ${joined.reason}. Please tell an admin.`);
      }
    }
    switch (await requestSignup(deps, who)) {
      case 'requested':
        return text('Your request was sent to the admins. You will hear back here.');
      case 'already-member':
        return text('You already have access. /devices lists your devices.');
      case 'already-pending':
        return text('Your request is already waiting for an admin.');
      case 'rate-limited':
        return text('Too many signup requests right now. Please try again later.');
      case 'no-admins':
        return text('Signup needs an invite code here: /signup CODE.');
    }
  });
}

/** Where a new device of this person goes: their existing router, else the only router that can host it. */
async function routerForNewDevice(deps: DomainDeps, personId: string, kind: VpnKind): Promise<string> {
  const existing = await deps.db.vpnAccount.findFirst({ where: { personId }, orderBy: { createdAt: 'asc' } });
  if (existing) return existing.routerId;
  const candidates = await deps.db.router.findMany({ where: kind === 'wireguard' ? { wgInterface: { not: null } } : { vpnHost: { not: null } } });
  if (candidates.length === 1) return candidates[0]!.id;
  throw new WardenError('unavailable', 'no router is set up for this kind of device, or several are; ask an admin');
}

export function addDeviceCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, kind: string, label: string): Promise<Reply> {
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    if (!person) return text(NOT_MEMBER);
    if (kind !== 'wireguard' && kind !== 'ppp') return text('Usage: /adddevice wireguard NAME  or  /adddevice ppp NAME');
    const routerId = await routerForNewDevice(deps, person.id, kind);
    const device = await createDevice(deps, { personId: person.id, routerId, kind, label, actor: `${platform}:${externalId}` });
    return text(`Creating ${kind === 'wireguard' ? 'WireGuard' : 'PPP'} device "${device.label}"; its configuration arrives here in a moment.`);
  });
}

export function devicesCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string): Promise<Reply> {
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    if (!person) return text(NOT_MEMBER);
    const devices = await deps.db.vpnAccount.findMany({ where: { personId: person.id }, include: { router: true }, orderBy: { createdAt: 'asc' } });
    const limit = person.deviceLimit ?? deps.policy.deviceLimit;
    if (devices.length === 0) return text(`No devices yet (limit ${limit}). Add one with /adddevice wireguard NAME.`);
    const lines = devices.map((d) => {
      const what = d.kind === 'wireguard' ? `WireGuard ${d.wgAddress ?? ''}`.trim() : `PPP user ${d.username}`;
      const state = d.disabled ? 'disabled' : d.provisionState === 'active' ? (d.wgOnline ? 'connected' : 'ready') : d.provisionState;
      return `• ${d.label || d.username} — ${what} on ${d.router.name} (${state})`;
    });
    return text(`Your devices (${devices.length}/${limit}):\n${lines.join('\n')}\n\n/config NAME sends a configuration again; /rotate NAME makes new keys; /remove NAME deletes a device.`);
  });
}

export function configCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, label: string): Promise<Reply> {
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    if (!person) return text(NOT_MEMBER);
    const device = await findOwnDevice(deps, person.id, label);
    if (device.provisionState !== 'active') return text(`Device "${device.label}" is ${device.provisionState}; its configuration is sent once it is ready.`);
    await enqueueAfterCommit(deps.db, 'device.deliver', { accountId: device.id });
    deps.afterCommit();
    return text(`Sending the configuration of "${device.label}" again.`);
  });
}

export function rotateCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, label: string): Promise<Reply> {
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    if (!person) return text(NOT_MEMBER);
    const device = await findOwnDevice(deps, person.id, label);
    await rotateDevice(deps, device.id, `${platform}:${externalId}`);
    return text(`New ${device.kind === 'wireguard' ? 'keys' : 'password'} for "${device.label}": the old ones stop working; the new configuration arrives here in a moment.`);
  });
}

export const REMOVE_BUTTONS = { confirm: 'dr', cancel: 'dc' } as const;

export function removeCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, label: string): Promise<Reply> {
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    if (!person) return text(NOT_MEMBER);
    const device = await findOwnDevice(deps, person.id, label);
    return {
      text: `Remove device "${device.label}"? It is deleted from the router and disconnected; this cannot be undone.`,
      choices: [
        { label: 'Remove', data: `${REMOVE_BUTTONS.confirm}:${device.id}` },
        { label: 'Keep', data: `${REMOVE_BUTTONS.cancel}:${device.id}` },
      ],
    };
  });
}

/** The answer to the Remove / Keep buttons. Only the device's owner can remove it. */
export function removeConfirmation(deps: DomainDeps, platform: ChatPlatform, externalId: string, data: string): Promise<Reply | null> {
  const match = /^(dr|dc):([0-9a-f-]{36})$/.exec(data);
  if (!match) return Promise.resolve(null);
  return answering(async () => {
    const person = await personOf(deps, platform, externalId);
    const device = await deps.db.vpnAccount.findUnique({ where: { id: match[2]! } });
    if (!person || !device || device.personId !== person.id) return text('This device is not yours or no longer exists.');
    if (match[1] === REMOVE_BUTTONS.cancel) return text(`Kept "${device.label}".`);
    if (device.provisionState === 'deleting') return text(`"${device.label}" is already being removed.`);
    await removeDevice(deps, device.id, `${platform}:${externalId}`);
    return text(`Removing "${device.label}" from the router.`);
  });
}

// ----- admin commands -----

export const SIGNUP_DECISION_ANSWERS: Record<SignupDecision, string> = {
  approved: 'Approved.',
  rejected: 'Rejected.',
  'not-admin': 'Only admins can decide signup requests.',
  unknown: 'This request no longer exists.',
  'already-decided': 'This request was already decided.',
};

function requireAdmin(deps: DomainDeps, platform: ChatPlatform, externalId: string): void {
  if (!isAdmin(deps, platform, externalId)) throw new WardenError('forbidden', 'this command is for admins');
}

export function inviteCommand(
  deps: DomainDeps,
  platform: ChatPlatform,
  externalId: string,
  args: { uses: number; hours: number | null; kind: string; router: string | null },
  deepLink: (code: string) => string | null,
): Promise<Reply> {
  return answering(async () => {
    requireAdmin(deps, platform, externalId);
    if (args.kind !== 'wireguard' && args.kind !== 'ppp') return text('Usage: /invite [USES] [HOURS] [wireguard|ppp] [ROUTER]');
    const routers = await deps.db.router.findMany({ where: args.router ? { name: args.router } : {} });
    if (routers.length !== 1) return text(args.router ? `No router named "${args.router}".` : 'Several routers: name one, e.g. /invite 1 72 wireguard office');
    const { code, expiresAt } = await createInvite(deps, {
      routerId: routers[0]!.id,
      kind: args.kind,
      maxUses: args.uses,
      ...(args.hours ? { ttlMs: args.hours * 3_600_000 } : {}),
      createdBy: `${platform}:${externalId}`,
    });
    const link = deepLink(code);
    return text(
      `Invite code ${code} (${args.uses} use${args.uses === 1 ? '' : 's'}, ${args.kind}, router ${routers[0]!.name}), valid until ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.\n` +
        `They send /signup ${code} to the bot${link ? ` or open ${link}` : ''}.`,
    );
  });
}

export function accountsCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string): Promise<Reply> {
  return answering(async () => {
    requireAdmin(deps, platform, externalId);
    const accounts = await deps.db.vpnAccount.findMany({ include: { person: true, router: true }, orderBy: { createdAt: 'asc' }, take: 100 });
    if (accounts.length === 0) return text('No accounts.');
    return text(
      accounts
        .map((a) => `• ${a.person.displayName}: ${a.label || a.username} (${a.kind}${a.username ? ` ${a.username}` : ''}) on ${a.router.name}${a.disabled ? ', disabled' : ''} [${a.id.slice(0, 8)}]`)
        .join('\n'),
    );
  });
}

async function findAccountForAdmin(deps: DomainDeps, ref: string) {
  const r = ref.trim();
  const accounts = await deps.db.vpnAccount.findMany({
    where: { OR: [{ username: r }, { id: { startsWith: r.toLowerCase() } as never }] },
  });
  if (accounts.length !== 1) throw new WardenError('not-found', `no single account matches "${r}" (use the PPP user name or the id from /accounts)`);
  return accounts[0]!;
}

export function disableCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, ref: string, disabled: boolean): Promise<Reply> {
  return answering(async () => {
    requireAdmin(deps, platform, externalId);
    const account = await findAccountForAdmin(deps, ref);
    await deps.db.vpnAccount.update({ where: { id: account.id }, data: { disabled } });
    return text(`${account.label || account.username} ${disabled ? 'disabled: new logins are refused' : 'enabled'}.`);
  });
}

export function deleteAccountCommand(deps: DomainDeps, platform: ChatPlatform, externalId: string, ref: string): Promise<Reply> {
  return answering(async () => {
    requireAdmin(deps, platform, externalId);
    const account = await findAccountForAdmin(deps, ref);
    await removeDevice(deps, account.id, `${platform}:${externalId}`);
    return text(`Deleting ${account.label || account.username}: removed from the router and disconnected.`);
  });
}

export function parseKind(value: string | undefined): VpnKind | null {
  return value === 'wireguard' || value === 'ppp' ? value : null;
}
