// The WireGuard poll's clock. Every WIREGUARD_POLL_SECONDS, each worker instance enqueues one
// `router.watchWireguard` job per router with a WireGuard interface; it only enqueues, the
// workers do the work. The job id names the router and the poll slot (time / interval, the same
// on every instance), so the instances' identical enqueues collapse into one job and each poll
// runs once, wherever a worker picks it up.
//
// Why a timer aligned to the slot boundaries and not node-cron: a cron expression cannot say
// "every 45 seconds" (WIREGUARD_POLL_SECONDS is any value from 2 to 600), and the slot id is what
// deduplicates anyway. Why not BullMQ's job schedulers: one scheduler per router would have to be
// created and removed as routers gain and lose a WireGuard interface; the database already says
// which routers to poll, at every tick.
import type { Queue } from 'bullmq';
import type { Db } from '../db/client.js';
import type { Logger } from '../log.js';
import type { JobPayloads } from './types.js';

/** BullMQ refuses ":" in custom ids. */
export function wireguardWatchJobId(routerId: string, slot: number): string {
  return `wgwatch-${routerId}-${slot}`;
}

/** Enqueues this poll slot's watch job for every WireGuard router; returns how many routers. */
export async function enqueueWireguardWatches(db: Db, queue: Queue, pollMs: number, now = Date.now()): Promise<number> {
  const slot = Math.floor(now / pollMs);
  const routers = await db.router.findMany({ where: { wgInterface: { not: null } }, select: { id: true } });
  // A finished job must outlive the other instances' ticks for the same slot (clock skew), or
  // their add would create it again.
  const keepSeconds = Math.max(120, Math.ceil((4 * pollMs) / 1000));
  for (const { id } of routers) {
    const payload: JobPayloads['router.watchWireguard'] = { routerId: id };
    await queue.add('router.watchWireguard', payload, {
      jobId: wireguardWatchJobId(id, slot),
      // The next poll is the retry: a router that is away must not pile up retried reads.
      attempts: 1,
      removeOnComplete: { age: keepSeconds },
      removeOnFail: { age: keepSeconds },
    });
  }
  return routers.length;
}

/** Starts the poll clock; `stop()` ends it. */
export function startWireguardPolling(args: { db: Db; queue: Queue; pollMs: number; logger: Logger }): { stop(): void } {
  const { db, queue, pollMs, logger } = args;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let lastErrorLogged = 0;
  const schedule = (): void => {
    if (stopped) return;
    // The next slot boundary: every instance ticks at about the same moment for the same slot.
    timer = setTimeout(() => {
      enqueueWireguardWatches(db, queue, pollMs)
        .catch((err: unknown) => {
          // Redis or the database is down: this poll is skipped, the next one tries again.
          if (Date.now() - lastErrorLogged > 60_000) {
            lastErrorLogged = Date.now();
            logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not enqueue the WireGuard poll');
          }
        })
        .finally(schedule);
    }, pollMs - (Date.now() % pollMs));
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
