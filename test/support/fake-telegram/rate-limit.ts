// Flood control modelled on the Bot FAQ: about one message per second per chat (short bursts
// tolerated), at most 20 messages per minute in a group, about 30 messages per second per bot.
// Exceeding any of them answers 429 with the number of seconds to wait, like Telegram.

export interface RateLimits {
  /** Per-chat token bucket: `burst` messages at once, refilled at `perSecond`; false disables. */
  perChat: { burst: number; perSecond: number } | false;
  /** Messages per rolling minute in a group or supergroup; false disables. */
  perGroupPerMinute: number | false;
  /** Messages per rolling second across all chats of one bot; false disables. */
  perBotPerSecond: number | false;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perChat: { burst: 3, perSecond: 1 },
  perGroupPerMinute: 20,
  perBotPerSecond: 30,
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class FloodControl {
  private readonly buckets = new Map<number, Bucket>();
  private readonly groupSends = new Map<number, number[]>();
  private botSends: number[] = [];

  constructor(private readonly limits: RateLimits | false) {}

  /**
   * Records a message to `chatId` if every limit allows it; otherwise returns the whole
   * seconds to wait (at least 1) and records nothing.
   */
  admit(chatId: number, isGroup: boolean, now: number): number | null {
    if (this.limits === false) return null;
    const waits: number[] = [];

    const { perChat, perGroupPerMinute, perBotPerSecond } = this.limits;
    let bucket: Bucket | undefined;
    if (perChat !== false) {
      const stored = this.buckets.get(chatId) ?? { tokens: perChat.burst, updatedAt: now };
      const refilled = Math.min(perChat.burst, stored.tokens + ((now - stored.updatedAt) / 1000) * perChat.perSecond);
      bucket = { tokens: refilled, updatedAt: now };
      if (refilled < 1) waits.push((1 - refilled) / perChat.perSecond);
    }
    let group: number[] | undefined;
    if (isGroup && perGroupPerMinute !== false) {
      group = (this.groupSends.get(chatId) ?? []).filter((at) => at > now - 60_000);
      if (group.length >= perGroupPerMinute) waits.push((group[0]! + 60_000 - now) / 1000);
    }
    let bot: number[] | undefined;
    if (perBotPerSecond !== false) {
      bot = this.botSends.filter((at) => at > now - 1000);
      if (bot.length >= perBotPerSecond) waits.push((bot[0]! + 1000 - now) / 1000);
    }

    if (waits.length > 0) {
      // Keep the refill progress so waiting really frees the bucket.
      if (bucket !== undefined) this.buckets.set(chatId, bucket);
      return Math.max(1, Math.ceil(Math.max(...waits)));
    }
    if (bucket !== undefined) this.buckets.set(chatId, { tokens: bucket.tokens - 1, updatedAt: now });
    if (group !== undefined) this.groupSends.set(chatId, [...group, now]);
    if (bot !== undefined) this.botSends = [...bot, now];
    return null;
  }
}
