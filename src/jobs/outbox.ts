// Transactional outbox: a job is written into the database in the same transaction as the state
// change it reacts to, and relayed to BullMQ only after commit. If Redis is down the rows simply
// wait, so a decision is never lost and never acted on before it is durable.
import type { Queue } from 'bullmq';
import type { Db, Tx } from '../db/client.js';
import type { Logger } from '../log.js';
import { JOB_QUEUES, type JobName, type JobPayloads, type QueueName } from './types.js';

export async function enqueueAfterCommit<N extends JobName>(
  tx: Tx | Db,
  name: N,
  payload: JobPayloads[N],
  opts: { runAt?: Date } = {},
): Promise<void> {
  await tx.outboxJob.create({
    data: { queue: JOB_QUEUES[name], name, payload: payload as object, runAt: opts.runAt ?? new Date() },
  });
}

interface OutboxRow {
  id: bigint;
  queue: string;
  name: string;
  payload: unknown;
  run_at: Date;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private lastErrorLogged = 0;

  constructor(
    private readonly db: Db,
    private readonly queues: Record<QueueName, Queue>,
    private readonly logger: Logger,
    private readonly pollMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.kick();
  }

  /** Relay now (called right after a commit so jobs start without waiting for the poll). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.relayAll()
      .catch((err: unknown) => {
        // Redis or the database is down: rows stay in the outbox and the next poll retries.
        if (Date.now() - this.lastErrorLogged > 10_000) {
          this.lastErrorLogged = Date.now();
          this.logger.warn({ err }, 'outbox relay failed; jobs stay in the outbox until it works');
        }
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async relayAll(): Promise<void> {
    for (;;) {
      const relayed = await this.relayBatch(100);
      if (relayed < 100) return;
    }
  }

  private async relayBatch(limit: number): Promise<number> {
    return this.db.$transaction(
      async (tx) => {
        // SKIP LOCKED lets several instances relay side by side without sending a row twice.
        const rows = await tx.$queryRaw<OutboxRow[]>`
          SELECT id, queue, name, payload, run_at FROM outbox_jobs
          WHERE dispatched_at IS NULL ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
        for (const row of rows) {
          const queue = this.queues[row.queue as QueueName];
          if (!queue) throw new Error(`outbox row ${row.id} names unknown queue ${row.queue}`);
          await queue.add(row.name, row.payload, {
            // The outbox id as job id: a relay repeated after a crash cannot create a second job.
            jobId: `ob-${row.id}`,
            delay: Math.max(0, row.run_at.getTime() - Date.now()),
          });
        }
        if (rows.length) {
          await tx.outboxJob.updateMany({
            where: { id: { in: rows.map((r) => r.id) } },
            data: { dispatchedAt: new Date() },
          });
        }
        return rows.length;
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
  }
}
