// RouterOS time values: `1w2d3h4m5s` (what print shows), `00:30:00`, plain seconds.

const UNIT_SECONDS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** Seconds for a RouterOS time value (`29m59s`, `1d02:00:00`, `1800`), or undefined when it is not one. */
export function parseRouterDuration(text: string): number | undefined {
  const input = text.trim();
  if (/^\d+$/.test(input)) return Number(input);
  const clock = /^(?:(\d+)d\s*)?(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(input);
  if (clock) {
    const [, days, hours, minutes, seconds, fraction] = clock;
    return Number(days ?? 0) * 86400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) + Number(`0.${fraction ?? 0}`);
  }
  if (!/^(\d+(ms|w|d|h|m|s))+$/.test(input)) return undefined;
  let total = 0;
  for (const [, amount, unit] of input.matchAll(/(\d+)(ms|w|d|h|m|s)/g)) total += Number(amount) * UNIT_SECONDS[unit!]!;
  return total;
}

/** Whole seconds as RouterOS writes them: 5400 -> `1h30m`. */
export function formatRouterDuration(totalSeconds: number): string {
  let rest = Math.floor(totalSeconds);
  if (rest <= 0) return '0s';
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_SECONDS[unit]!;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
