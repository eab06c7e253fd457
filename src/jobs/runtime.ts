// BullMQ plumbing: one queue per QueueName, workers that dispatch by job name to the typed
// handler registry, retries with capped exponential backoff, and a hook for jobs that finally fail.
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { JOB_QUEUES, QUEUE_NAMES, type JobName, type JobPayloads, type QueueName } from './types.js';

export interface JobContext {
  job: Job;
  /** Re-run this job later without counting an attempt (e.g. a chat platform's retry_after). */
  retryLater(delayMs: number): Promise<never>;
}

export interface JobHandler<N extends JobName> {
  run(payload: JobPayloads[N], ctx: JobContext): Promise<unknown>;
  /** Called once when the last attempt failed: make it visible to the operator. */
  onFinalFailure?(payload: JobPayloads[N], error: Error): Promise<void>;
}

export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface QueueSettings {
  attempts: Record<QueueName, number>;
  concurrency: Record<QueueName, number>;
  /** Max jobs per second on the notify queue, across all instances (Telegram's global limit). */
  notifyPerSecond: number;
}

/** Retry delay: 0.5 s doubling to a 30 s ceiling, with jitter so retries of many jobs spread out. */
export function retryDelayMs(attemptsMade: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function createQueues(redisUrl: string, prefix: string, settings: QueueSettings): Record<QueueName, Queue> {
  // No offline queue: when Redis is down `add` must fail at once so the outbox keeps the row,
  // instead of hanging on a command buffered in memory.
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  connection.on('error', () => {}); // reported by the relay when it matters
  const queues = {} as Record<QueueName, Queue>;
  for (const name of QUEUE_NAMES) {
    queues[name] = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: settings.attempts[name],
        backoff: { type: 'custom' },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 5000 },
      },
    });
  }
  return queues;
}

export async function closeQueues(queues: Record<QueueName, Queue>): Promise<void> {
  const connections = new Set(Object.values(queues).map((q) => q.opts.connection));
  await Promise.all(Object.values(queues).map((q) => q.close().catch(() => {})));
  for (const c of connections) if (c instanceof Redis) c.disconnect();
}

export function startWorkers(args: {
  redisUrl: string;
  prefix: string;
  handlers: JobHandlers;
  settings: QueueSettings;
  logger: Logger;
}): Worker[] {
  const { handlers, logger, settings } = args;
  for (const name of Object.keys(JOB_QUEUES) as JobName[]) {
    if (!handlers[name]) throw new Error(`job "${name}" has no handler`);
  }
  return QUEUE_NAMES.map((queueName) => {
    // Workers block on Redis; they need their own connection, retrying forever while Redis is down.
    const connection = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => {}); // the worker's own 'error' event below reports it
    const worker: Worker = new Worker(
      queueName,
      async (job: Job, token?: string) => {
        const handler = handlers[job.name as JobName] as JobHandler<JobName> | undefined;
        if (!handler) throw new Error(`no handler for job "${job.name}"`);
        const ctx: JobContext = {
          job,
          async retryLater(delayMs: number): Promise<never> {
            await job.moveToDelayed(Date.now() + delayMs, token);
            throw new DelayedError();
          },
        };
        return handler.run(job.data, ctx);
      },
      {
        connection,
        prefix: args.prefix,
        concurrency: settings.concurrency[queueName],
        settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade) },
        ...(queueName === 'notify' ? { limiter: { max: settings.notifyPerSecond, duration: 1000 } } : {}),
      },
    );
    worker.on('failed', (job, err) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade >= attempts;
      const log = { queue: queueName, job: job.name, jobId: job.id, attempt: job.attemptsMade, attempts, err: err.message };
      if (!final) {
        logger.warn(log, 'job failed; will retry');
        return;
      }
      logger.error(log, 'job failed for good');
      const handler = handlers[job.name as JobName] as JobHandler<JobName> | undefined;
      handler?.onFinalFailure?.(job.data, err).catch((e: unknown) => logger.error({ err: e, job: job.name }, 'onFinalFailure failed'));
    });
    worker.on('completed', (job, result: unknown) => {
      const payload = job.data as Record<string, unknown>;
      logger.info({ queue: queueName, job: job.name, jobId: job.id, ...payload, result: typeof result === 'string' ? result : undefined }, 'job done');
    });
    worker.on('error', (err) => logger.warn({ queue: queueName, err: err.message }, 'worker error'));
    // BullMQ does not close a connection it was given.
    worker.on('closed', () => connection.disconnect());
    return worker;
  });
}
