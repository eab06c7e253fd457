// Operator actions (used by the CLI): routers, people, accounts, bans.
import { isIP } from 'node:net';
import type { SecretBox } from '../crypto/secretBox.js';
import { newHookToken, sha256Hex } from '../crypto/tokens.js';
import { enqueueAfterCommit } from '../jobs/outbox.js';
import { audit } from './audit.js';
import { WardenError } from './errors.js';
import { isValidHost, LIST_NAME, PPP_USERNAME, ROUTER_NAME } from './hookClaims.js';
import type { DomainDeps } from './ports.js';

export interface NewRouter {
  name: string;
  apiHost: string;
  apiPort: number;
  apiTls: boolean;
  apiUser: string;
  apiPassword: string;
  sandboxList?: string;
  permitList?: string;
  banList?: string;
  allowedCidrs?: string[];
}

export function parseCidr(cidr: string): { address: string; prefix: number; family: 4 | 6 } {
  const [address = '', prefixText] = cidr.split('/');
  const family = isIP(address);
  if (family === 0) throw new WardenError('invalid-input', `"${cidr}" is not a CIDR (address/prefix)`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new WardenError('invalid-input', `"${cidr}" has an invalid prefix length`);
  }
  return { address, prefix, family: family as 4 | 6 };
}

function validateRouter(input: NewRouter): void {
  const fail = (field: string, why: string) => {
    throw new WardenError('invalid-input', `${field}: ${why}`);
  };
  if (!ROUTER_NAME.test(input.name)) fail('name', 'lower-case letters, digits and -, starting with a letter or digit, at most 63');
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(input.apiHost)) fail('host', 'must be a host name or IP address');
  if (!Number.isInteger(input.apiPort) || input.apiPort < 1 || input.apiPort > 65535) fail('port', 'must be 1-65535');
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(input.apiUser)) fail('user', 'must be 1-64 characters of A-Z a-z 0-9 . _ @ -');
  if (!input.apiPassword || /[\r\n\0]/.test(input.apiPassword)) fail('password', 'must be non-empty, one line');
  for (const [field, list] of [['sandbox-list', input.sandboxList], ['permit-list', input.permitList], ['ban-list', input.banList]] as const) {
    if (list !== undefined && !LIST_NAME.test(list)) fail(field, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  }
  for (const cidr of input.allowedCidrs ?? []) parseCidr(cidr);
}

export async function addRouter(deps: DomainDeps, box: SecretBox, input: NewRouter): Promise<{ id: string; hookToken: string }> {
  validateRouter(input);
  const hookToken = newHookToken();
  const exists = await deps.db.router.findUnique({ where: { name: input.name } });
  if (exists) throw new WardenError('conflict', `a router named "${input.name}" already exists`);
  const router = await deps.db.$transaction(async (tx) => {
    const created = await tx.router.create({
      data: {
        name: input.name,
        apiHost: input.apiHost,
        apiPort: input.apiPort,
        apiTls: input.apiTls,
        apiUser: input.apiUser,
        apiPasswordEnc: box.seal(input.apiPassword),
        hookTokenHash: sha256Hex(hookToken),
        allowedCidrs: input.allowedCidrs ?? [],
        ...(input.sandboxList ? { sandboxList: input.sandboxList } : {}),
        ...(input.permitList ? { permitList: input.permitList } : {}),
        ...(input.banList ? { banList: input.banList } : {}),
      },
    });
    await audit(tx, { actor: 'operator', action: 'router.added', routerId: created.id, detail: { name: created.name, host: created.apiHost } });
    return created;
  });
  return { id: router.id, hookToken };
}

export async function findRouterByName(deps: DomainDeps, name: string) {
  const router = await deps.db.router.findUnique({ where: { name } });
  if (!router) throw new WardenError('not-found', `no router named "${name}" (see: router list)`);
  return router;
}

export async function rotateHookToken(deps: DomainDeps, name: string): Promise<string> {
  const router = await findRouterByName(deps, name);
  const hookToken = newHookToken();
  await deps.db.$transaction(async (tx) => {
    await tx.router.update({ where: { id: router.id }, data: { hookTokenHash: sha256Hex(hookToken) } });
    await audit(tx, { actor: 'operator', action: 'router.token-rotated', routerId: router.id });
  });
  return hookToken;
}

export async function removeRouter(deps: DomainDeps, name: string): Promise<void> {
  const router = await findRouterByName(deps, name);
  await deps.db.$transaction(async (tx) => {
    await audit(tx, { actor: 'operator', action: 'router.removed', routerId: router.id, detail: { name } });
    await tx.router.delete({ where: { id: router.id } });
  });
}

export async function addPerson(deps: DomainDeps, displayName: string): Promise<{ id: string }> {
  const name = displayName.trim();
  if (!name || name.length > 100) throw new WardenError('invalid-input', 'name: 1-100 characters');
  const person = await deps.db.person.create({ data: { displayName: name } });
  await audit(deps.db, { actor: 'operator', action: 'person.added', personId: person.id, detail: { name } });
  return { id: person.id };
}

/** Finds a person by id or by exact display name (which must then be unambiguous). */
export async function findPerson(deps: DomainDeps, idOrName: string) {
  if (/^[0-9a-f-]{36}$/i.test(idOrName)) {
    const byId = await deps.db.person.findUnique({ where: { id: idOrName } });
    if (byId) return byId;
  }
  const byName = await deps.db.person.findMany({ where: { displayName: idOrName } });
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new WardenError('conflict', `several people are named "${idOrName}"; use the id`);
  throw new WardenError('not-found', `no person "${idOrName}" (see: person list)`);
}

export async function addPppAccount(deps: DomainDeps, args: { routerName: string; username: string; owner: string }) {
  if (!PPP_USERNAME.test(args.username)) throw new WardenError('invalid-input', 'username: 1-64 characters of A-Z a-z 0-9 . _ @ + -');
  const router = await findRouterByName(deps, args.routerName);
  const person = await findPerson(deps, args.owner);
  const existing = await deps.db.vpnAccount.findUnique({ where: { routerId_username: { routerId: router.id, username: args.username } } });
  if (existing) throw new WardenError('conflict', `account "${args.username}" already exists on router "${router.name}"`);
  const account = await deps.db.vpnAccount.create({
    data: { routerId: router.id, personId: person.id, kind: 'ppp', username: args.username },
  });
  await audit(deps.db, { actor: 'operator', action: 'account.added', routerId: router.id, personId: person.id, detail: { username: args.username } });
  return account;
}

/** Lifts a ban in Warden at once and queues removal of the router's address-list entry. */
export async function liftBan(deps: DomainDeps, banId: string, by: string) {
  const result = await deps.db.$transaction(async (tx) => {
    const ban = await tx.ban.findUnique({ where: { id: banId } });
    if (!ban) throw new WardenError('not-found', `no ban with id ${banId}`);
    if (ban.liftedAt) return { ban, changed: false };
    const lifted = await tx.ban.update({ where: { id: banId }, data: { liftedAt: deps.now(), liftedBy: by } });
    await audit(tx, { actor: by, action: 'ban.lifted', routerId: ban.routerId, sessionId: ban.sessionId, detail: { banId, address: ban.address } });
    await enqueueAfterCommit(tx, 'ban.lift', { banId });
    return { ban: lifted, changed: true };
  });
  deps.afterCommit();
  return result;
}

export interface RouterProvisioningSettings {
  vpnHost?: string;
  pppProfile?: string;
  pppService?: string;
  ipsecSecret?: string;
  wgInterface?: string;
  wgPort?: number;
  wgPool?: string;
  wgDns?: string[];
  wgAllowedIps?: string[];
  wgKeepalive?: number;
}

const PPP_SERVICES = ['any', 'l2tp', 'sstp', 'pptp', 'ovpn', 'pppoe'];

/** Sets how devices are provisioned on a router; every value is validated first. */
export async function setRouterProvisioning(deps: DomainDeps, name: string, s: RouterProvisioningSettings) {
  const router = await findRouterByName(deps, name);
  const fail = (field: string, why: string): never => {
    throw new WardenError('invalid-input', `${field}: ${why}`);
  };
  if (s.vpnHost !== undefined && !isValidHost(s.vpnHost)) fail('vpn-host', 'must be a host name or IP address');
  if (s.pppProfile !== undefined && !LIST_NAME.test(s.pppProfile)) fail('ppp-profile', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  if (s.pppService !== undefined && !PPP_SERVICES.includes(s.pppService)) fail('ppp-service', `one of ${PPP_SERVICES.join(', ')}`);
  if (s.ipsecSecret !== undefined && (!s.ipsecSecret || /[\r\n\0]/.test(s.ipsecSecret))) fail('ipsec-secret', 'must be non-empty, one line');
  if (s.wgInterface !== undefined && !LIST_NAME.test(s.wgInterface)) fail('wg-interface', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  if (s.wgPort !== undefined && (!Number.isInteger(s.wgPort) || s.wgPort < 1 || s.wgPort > 65535)) fail('wg-port', 'must be 1-65535');
  if (s.wgPool !== undefined && parseCidr(s.wgPool).family !== 4) fail('wg-pool', 'must be an IPv4 CIDR');
  for (const dns of s.wgDns ?? []) if (isIP(dns) === 0) fail('wg-dns', `"${dns}" is not an IP address`);
  for (const cidr of s.wgAllowedIps ?? []) parseCidr(cidr);
  if (s.wgKeepalive !== undefined && (!Number.isInteger(s.wgKeepalive) || s.wgKeepalive < 0 || s.wgKeepalive > 65535)) fail('wg-keepalive', 'must be 0-65535 seconds');
  const { ipsecSecret, ...plain } = s;
  return deps.db.router.update({
    where: { id: router.id },
    data: { ...plain, ...(ipsecSecret !== undefined ? { ipsecSecretEnc: deps.secretBox.seal(ipsecSecret) } : {}) },
  });
}
