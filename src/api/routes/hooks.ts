// The router hook API: PPP up and down, called by the router's profile scripts, and WireGuard
// handshakes, called by the optional watch script (wireguard-watch.rsc) run by its scheduler.
import type { FastifyInstance } from 'fastify';
import { reportPppDown, reportPppUp } from '../../domain/connections.js';
import { describeZodError, PppHookBody, WireguardHandshakeBody } from '../../domain/hookClaims.js';
import { reportWireguardHandshake } from '../../domain/wireguardWatch.js';
import { WardenError } from '../../domain/errors.js';
import type { DomainDeps } from '../../domain/ports.js';
import { authenticateRouter } from '../routerAuth.js';

export function registerHookRoutes(app: FastifyInstance, deps: DomainDeps): void {
  app.post<{ Params: { router: string; event: string } }>(
    '/hooks/v1/routers/:router/ppp/:event',
    { bodyLimit: 4096 },
    async (request, reply) => {
      const { event } = request.params;
      if (event !== 'up' && event !== 'down') throw new WardenError('not-found', `unknown hook "${event}" (expected up or down)`);
      const router = await authenticateRouter(deps.db, request.params.router, request.headers.authorization, request.ip);
      const parsed = PppHookBody.safeParse(request.body ?? {});
      if (!parsed.success) throw new WardenError('invalid-input', describeZodError(parsed.error));
      const claim = parsed.data;
      const log = request.log.child({ router: router.name, user: claim.user, address: claim.address, hook: event });
      if (event === 'up') {
        const result = await reportPppUp(deps, router, claim);
        log.info({ result: result.status }, 'ppp up reported');
        return reply.code(result.status === 'pending' ? 202 : 200).send(result);
      }
      const result = await reportPppDown(deps, router, claim);
      log.info({ result: result.status }, 'ppp down reported');
      return reply.code(200).send(result);
    },
  );

  app.post<{ Params: { router: string } }>(
    '/hooks/v1/routers/:router/wireguard/handshake',
    { bodyLimit: 4096 },
    async (request, reply) => {
      const router = await authenticateRouter(deps.db, request.params.router, request.headers.authorization, request.ip);
      const parsed = WireguardHandshakeBody.safeParse(request.body ?? {});
      if (!parsed.success) throw new WardenError('invalid-input', describeZodError(parsed.error));
      const result = await reportWireguardHandshake(deps, router, parsed.data);
      // Routine reports (no change, peers Warden does not manage) come every few seconds.
      const level = result.status === 'queued' ? 'info' : 'debug';
      request.log[level]({ router: router.name, publicKey: parsed.data.publicKey, result: result.status }, 'wireguard handshake reported');
      return reply.code(result.status === 'queued' ? 202 : 200).send(result);
    },
  );
}
