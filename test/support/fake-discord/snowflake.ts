// Ids and tokens shaped like Discord's, so code that parses them (timestamps from snowflakes,
// token segments) sees what it would see in production.

import { randomBytes } from 'node:crypto';

const DISCORD_EPOCH = 1_420_070_400_000n;

/** Snowflakes: milliseconds since 2015 << 22, then worker, process and an increment. */
export class Snowflakes {
  private lastId = 0n;

  next(now = Date.now()): string {
    let id = ((BigInt(now) - DISCORD_EPOCH) << 22n) | (1n << 17n) | (1n << 12n);
    // Strictly increasing, as Discord's are, even for many ids within one millisecond.
    if (id <= this.lastId) id = this.lastId + 1n;
    this.lastId = id;
    return id.toString();
  }
}

export const timestampOf = (snowflake: string): number => Number((BigInt(snowflake) >> 22n) + DISCORD_EPOCH);

/** `base64(user id).<6 chars>.<38 chars>`, the shape of a bot token. */
export const botToken = (botId: string): string =>
  `${Buffer.from(botId).toString('base64url')}.${randomBytes(5).toString('base64url').slice(0, 6)}.${randomBytes(29)
    .toString('base64url')
    .slice(0, 38)}`;

/** Interaction tokens are long opaque strings starting with base64("interaction:<id>:"). */
export const interactionToken = (interactionId: string): string =>
  Buffer.from(`interaction:${interactionId}:${randomBytes(48).toString('base64url')}`).toString('base64url');

export const sessionId = (): string => randomBytes(16).toString('hex');

/** Discord timestamps: ISO 8601 with microseconds and an explicit offset. */
export const isoTimestamp = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
