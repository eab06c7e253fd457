// Precise "when did it happen" observers for the bench, so latencies are not rounded up to a
// polling interval:
// - PromptWatcher notes the moment each Approve/Deny prompt is delivered by the fake Telegram.
//   It rides on FakeTelegram.waitFor, whose probe runs on every change of the fake's state, and
//   reads only the Bot API calls completed since the last change (cheap with hundreds of chats).
// - ListWatcher notes the moment an address is in a simulator address list. It checks only when
//   the simulator has received a new command (cheap to poll every millisecond).
import { performance } from 'node:perf_hooks';
import type { ApiCall, FakeTelegram, MessageRef, TgMessage } from '../test/support/fake-telegram/index.js';
import type { RouterOsSimulator } from '../test/support/routeros-sim/index.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface SeenPrompt {
  /** performance.now() when the prompt was delivered. */
  at: number;
  ref: MessageRef;
}

const PROMPT_ADDRESS = /session address ([0-9A-Fa-f.:]+)\)/;

export class PromptWatcher {
  readonly seen = new Map<string, SeenPrompt>();
  private readonly waiters = new Map<string, Waiter<SeenPrompt>>();
  /** Next index in the fake's call log to look at. */
  private cursor = 0;
  /** sendMessage calls that had not been answered yet when last looked at. */
  private unfinished: ApiCall[] = [];
  private stopped = false;
  private readonly subscription: Promise<unknown>;

  constructor(
    private readonly telegram: FakeTelegram,
    budgetMs: number,
  ) {
    // A probe that never "succeeds" until stop(): it is called on every change of the fake.
    this.subscription = telegram
      .waitFor(
        () => {
          this.scan();
          return this.stopped;
        },
        { timeoutMs: budgetMs, description: 'bench prompt watcher' },
      )
      .catch(() => undefined);
  }

  /** Resolves when the prompt for `address` has been delivered (at once if it already has). */
  waitFor(address: string, timeoutMs: number): Promise<SeenPrompt> {
    const already = this.seen.get(address);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(address);
        reject(new Error(`no prompt for ${address} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(address, { resolve, reject, timer });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.telegram.changed();
    await this.subscription;
    for (const [address, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`watcher stopped before the prompt for ${address}`));
    }
    this.waiters.clear();
  }

  private scan(): void {
    const now = performance.now();
    const calls = this.telegram.calls;
    const look = [...this.unfinished, ...calls.slice(this.cursor)];
    this.cursor = calls.length;
    this.unfinished = [];
    for (const call of look) {
      if (call.method.toLowerCase() !== 'sendmessage') continue;
      if (call.httpStatus === 0) {
        this.unfinished.push(call);
        continue;
      }
      const message = call.ok ? (call.result as TgMessage | undefined) : undefined;
      const address = PROMPT_ADDRESS.exec(message?.text ?? '')?.[1];
      if (message === undefined || address === undefined || this.seen.has(address)) continue;
      const seen = { at: now, ref: { chatId: message.chat.id, messageId: message.message_id } };
      this.seen.set(address, seen);
      const waiter = this.waiters.get(address);
      if (waiter) {
        clearTimeout(waiter.timer);
        this.waiters.delete(address);
        waiter.resolve(seen);
      }
    }
  }
}

export class ListWatcher {
  private readonly waiters = new Map<string, Waiter<number>>();
  private timer: NodeJS.Timeout | undefined;
  private lastLogLength = -1;

  constructor(
    private readonly router: RouterOsSimulator,
    private readonly list: string,
  ) {}

  /** Resolves with performance.now() at the moment `address` was seen in the list. */
  waitFor(address: string, timeoutMs: number): Promise<number> {
    if (this.present().has(address)) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(address);
        this.idle();
        reject(new Error(`${address} not in ${this.list} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(address, { resolve, reject, timer });
      this.timer ??= setInterval(() => this.poll(), 1);
    });
  }

  stop(): void {
    for (const [address, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`watcher stopped before ${address} was in ${this.list}`));
    }
    this.waiters.clear();
    this.idle();
  }

  private present(): Set<string> {
    return new Set(this.router.addressList(this.list).map((entry) => entry.address));
  }

  private poll(): void {
    // The list only changes through an API command (Warden) or the bench itself.
    const length = this.router.commandLog.length;
    if (length === this.lastLogLength) return;
    this.lastLogLength = length;
    const now = performance.now();
    const present = this.present();
    for (const [address, waiter] of this.waiters) {
      if (!present.has(address)) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(address);
      waiter.resolve(now);
    }
    this.idle();
  }

  private idle(): void {
    if (this.waiters.size > 0 || this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
