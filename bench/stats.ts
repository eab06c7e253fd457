// Numbers and tables for the bench: latency samples, percentiles, a bounded worker pool, and
// fixed-width text tables. Nothing here knows about Warden.
import { performance } from 'node:perf_hooks';

/** One measured figure: latencies of `count` attempts, `errors` of which failed. */
export interface Measurement {
  name: string;
  /** Attempts made (successes + errors). */
  count: number;
  errors: number;
  /** Latencies in ms of the successful attempts. */
  samples: number[];
  /** Wall time of the whole run in ms; throughput = successes / wall. */
  wallMs: number;
  /** Paced runs have no meaningful throughput (it is the pace); it is printed as "-". */
  paced?: boolean;
  note?: string;
}

/** Nearest-rank percentile of an ascending array; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(m: Measurement) {
  const sorted = [...m.samples].sort((a, b) => a - b);
  const ok = m.count - m.errors;
  return {
    ok,
    throughput: m.paced || m.wallMs <= 0 ? undefined : ok / (m.wallMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1),
  };
}

export function elapsedSince(start: number): number {
  return performance.now() - start;
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight, issuing no new task
 * once `budgetMs` has passed. Resolves with the latencies of the successes and the error count;
 * tasks not started for lack of time count as errors too.
 */
export async function runPool(
  name: string,
  opts: { count: number; concurrency: number; budgetMs: number; note?: string },
  task: (i: number) => Promise<unknown>,
): Promise<Measurement & { firstError?: unknown }> {
  const samples: number[] = [];
  let errors = 0;
  let next = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + opts.budgetMs;
  const worker = async () => {
    while (next < opts.count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        await task(i);
        samples.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.count)) }, worker));
  const wallMs = performance.now() - start;
  const skipped = opts.count - next;
  return {
    name,
    count: opts.count,
    errors: errors + skipped,
    samples,
    wallMs,
    ...(opts.note === undefined ? {} : { note: opts.note }),
    ...(skipped > 0 ? { note: `${opts.note ? `${opts.note}; ` : ''}${skipped} not started: time budget ran out` } : {}),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Runs `task(i)` for i in [0, count), starting one every `intervalMs` regardless of the others. */
export async function runPaced<T>(
  opts: { count: number; intervalMs: number; budgetMs: number },
  task: (i: number) => Promise<T>,
): Promise<{ results: PromiseSettledResult<T>[]; wallMs: number; started: number }> {
  const start = performance.now();
  const running: Promise<T>[] = [];
  for (let i = 0; i < opts.count; i++) {
    if (performance.now() - start > opts.budgetMs) break;
    running.push(task(i));
    if (i < opts.count - 1 && opts.intervalMs > 0) await sleep(opts.intervalMs);
  }
  const results = await Promise.allSettled(running);
  return { results, wallMs: performance.now() - start, started: running.length };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ----- formatting -----

export function fmtMs(value: number | undefined): string {
  if (value === undefined) return '-';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function fmtRate(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function fmtMb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : (bytes / (1024 * 1024)).toFixed(1);
}

/** A plain text table: first row is the header; columns listed in `right` are right-aligned. */
export function textTable(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function measurementTable(measurements: readonly Measurement[]): string {
  const rows = [['figure', 'count', 'err', 'wall s', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']];
  for (const m of measurements) {
    const s = summarize(m);
    rows.push([
      m.name,
      String(m.count),
      String(m.errors),
      (m.wallMs / 1000).toFixed(1),
      fmtRate(s.throughput),
      fmtMs(s.p50),
      fmtMs(s.p95),
      fmtMs(s.p99),
      fmtMs(s.max),
    ]);
  }
  return textTable(rows, new Set([1, 2, 3, 4, 5, 6, 7, 8]));
}
