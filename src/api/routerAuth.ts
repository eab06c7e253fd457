// Authenticating a router's hook call: its own bearer token (stored hashed, compared in constant
// time) and, optionally, the source addresses it may call from.
import { BlockList, isIP } from 'node:net';
import type { Router } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { sha256Hex, tokenMatchesHash } from '../crypto/tokens.js';
import { parseCidr } from '../domain/admin.js';
import { ROUTER_NAME } from '../domain/hookClaims.js';
import { WardenError } from '../domain/errors.js';

// Compared against when the router name is unknown, so both failures take the same time.
const DUMMY_HASH = sha256Hex('warden-no-such-router');

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,256})$/.exec(header ?? '');
  return match ? match[1]! : null;
}

export function ipInCidrs(ip: string, cidrs: string[]): boolean {
  // Node reports IPv4 clients on a dual-stack socket as ::ffff:a.b.c.d.
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(plain);
  if (family === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { address, prefix, family: f } = parseCidr(cidr);
    list.addSubnet(address, prefix, f === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

export async function authenticateRouter(db: Db, routerName: string, authorization: string | undefined, sourceIp: string): Promise<Router> {
  const token = bearerToken(authorization);
  if (!token) throw new WardenError('unauthorized', 'missing or malformed "Authorization: Bearer <token>" header');
  const router = ROUTER_NAME.test(routerName) ? await db.router.findUnique({ where: { name: routerName } }) : null;
  const ok = tokenMatchesHash(token, router?.hookTokenHash ?? DUMMY_HASH);
  if (!router || !ok) throw new WardenError('unauthorized', 'unknown router or wrong token');
  if (router.allowedCidrs.length > 0 && !ipInCidrs(sourceIp, router.allowedCidrs)) {
    throw new WardenError('forbidden', `source address ${sourceIp} is not allowed for router "${router.name}"`);
  }
  return router;
}
