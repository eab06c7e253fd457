// The HTTP API (fastify): router hooks, health, and the Telegram webhook in webhook mode.
// One error mapper turns domain errors into a status and a clear message.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import { httpStatusFor, WardenError } from '../domain/errors.js';
import type { DomainDeps } from '../domain/ports.js';
import { registerHookRoutes } from './routes/hooks.js';

export interface HealthProbe {
  name: string;
  check(): Promise<unknown>;
}

export function buildServer(args: {
  deps: DomainDeps;
  logger: Logger;
  trustProxy: boolean;
  probes: HealthProbe[];
  extraRoutes?: Array<(app: FastifyInstance) => void>;
}): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance type the plain default.
    loggerInstance: args.logger.child({ component: 'http' }) as FastifyBaseLogger,
    trustProxy: args.trustProxy,
    bodyLimit: 64 * 1024,
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof WardenError) {
      const status = httpStatusFor[error.code];
      if (status >= 500) request.log.error({ err: error }, error.message);
      else request.log.info({ code: error.code, msg: error.message }, 'request refused');
      return reply.code(status).send({ error: error.code, message: error.message });
    }
    const fastifyError = error as { statusCode?: number; message?: string; code?: string };
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      // Malformed JSON, wrong content type, body too large: fastify's own checks.
      return reply.code(fastifyError.statusCode).send({ error: 'invalid-input', message: fastifyError.message ?? 'bad request' });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(503).send({ error: 'unavailable', message: 'Warden could not process the request; the client stays sandboxed. Try again.' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url}` }),
  );

  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    const results: Record<string, string> = {};
    let healthy = true;
    await Promise.all(
      args.probes.map(async (probe) => {
        try {
          await probe.check();
          results[probe.name] = 'ok';
        } catch (err) {
          healthy = false;
          results[probe.name] = err instanceof Error ? err.message : 'failed';
        }
      }),
    );
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'degraded', checks: results });
  });

  registerHookRoutes(app, args.deps);
  for (const register of args.extraRoutes ?? []) register(app);
  return app;
}
