// Exactly one Warden instance holds the Discord gateway. Discord does not stop two sessions of
// the same shard, and both would receive (and handle) every click. The holder keeps a Redis key
// alive; if it dies the key expires and another instance takes over within one TTL.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class GatewayLock {
  readonly holderId = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private held = false;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly onAcquired: () => void,
    private readonly onLost: () => void,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
  }

  private async tick(): Promise<void> {
    try {
      if (this.held) {
        const renewed = await this.redis.eval(RENEW, 1, this.key, this.holderId, String(this.ttlMs));
        if (renewed !== 1) this.lose();
      } else {
        const acquired = await this.redis.set(this.key, this.holderId, 'PX', this.ttlMs, 'NX');
        if (acquired === 'OK' && !this.stopped) {
          this.held = true;
          this.onAcquired();
        }
      }
    } catch {
      // Redis unreachable: we cannot prove we still hold the lock, so behave as if we lost it.
      if (this.held) this.lose();
    }
    this.schedule();
  }

  private lose(): void {
    this.held = false;
    this.onLost();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.held) {
      this.held = false;
      await this.redis.eval(RELEASE, 1, this.key, this.holderId).catch(() => {});
    }
  }
}
