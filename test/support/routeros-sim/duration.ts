// RouterOS time values as the simulator accepts and prints them.
// Input: plain seconds (`1800`), unit runs (`1w2d3h4m5s`, `30m`, `500ms`) and clock form
// (`00:30:00`, `1d 02:00:00`, `1d02:00:00`). Output: `29m59s`, `1w2d3h`, `0s`.

const UNIT_MS: Record<string, number> = {
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** Milliseconds for a RouterOS time value, or undefined when it is not one. */
export function parseRouterDuration(input: string): number | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;

  const clock = /^(?:(\d+)d\s*)?(\d+):([0-5]?\d):([0-5]?\d)(?:\.(\d{1,3}))?$/.exec(text);
  if (clock) {
    const [, days, hours, minutes, seconds, fraction] = clock;
    return (
      Number(days ?? 0) * UNIT_MS.d! +
      Number(hours) * UNIT_MS.h! +
      Number(minutes) * UNIT_MS.m! +
      Number(seconds) * 1000 +
      (fraction ? Number(fraction.padEnd(3, '0')) : 0)
    );
  }

  if (!/^(\d+(ms|w|d|h|m|s))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|w|d|h|m|s)/g)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return total;
}

/** RouterOS print form, whole seconds (rounded down): 1799500 -> `29m59s`. */
export function formatRouterDuration(ms: number): string {
  let seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(seconds / size);
    if (count > 0) {
      out += `${count}${unit}`;
      seconds -= count * size;
    }
  }
  return out;
}
