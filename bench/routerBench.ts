// RouterOS client raw performance: RouterOps calls against a RouterOS simulator of its own, over
// one RouterClient (one API connection, as Warden keeps per router), first one caller at a time,
// then several callers sharing the connection the way Warden's job workers do.
import { pino } from 'pino';
import { RouterClient } from '../src/router/index.js';
import { RouterOsSimulator } from '../test/support/routeros-sim/index.js';
import { runPool, type Measurement } from './stats.js';

export interface RouterBenchOptions {
  /** Calls per operation and mode. */
  ops: number;
  concurrency: number;
  /** PPP sessions on the simulator that findPppActive searches through. */
  pppSessions: number;
  /** Time allowed for each operation and mode. */
  budgetMs: number;
  progress: (text: string) => void;
}

const LIST = 'bench-permit';

function address(base: number, i: number): string {
  const n = base + i;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export async function runRouterBench(opts: RouterBenchOptions): Promise<{ measurements: Measurement[]; firstError?: unknown }> {
  const sim = await RouterOsSimulator.start({ users: [{ name: 'warden', password: 'router-secret', group: 'warden' }] });
  const client = new RouterClient(
    { name: 'bench', host: sim.host, port: sim.port, tls: false, user: 'warden', password: 'router-secret' },
    { logger: pino({ level: 'silent' }), heartbeatIntervalMs: 0 },
  );
  const measurements: Measurement[] = [];
  let firstError: unknown;
  try {
    for (let i = 0; i < opts.pppSessions; i++) {
      sim.connectPpp({ name: `user${i}`, service: 'l2tp', callerId: `198.51.100.${i % 250}`, address: address(0x0a_9000, i) });
    }
    client.start();
    await client.waitForUp(10_000);
    const ops = client.ops;
    const modes: Array<[label: string, concurrency: number, base: number]> = [
      ['sequential', 1, 0xc8_0000],
      [`${opts.concurrency} callers`, opts.concurrency, 0xc9_0000],
    ];
    for (const [label, concurrency, base] of modes) {
      const run = async (name: string, task: (i: number) => Promise<unknown>) => {
        opts.progress(`router: ${name}, ${label}`);
        const { firstError: error, ...m } = await runPool(`${name} (${label})`, { count: opts.ops, concurrency, budgetMs: opts.budgetMs }, task);
        firstError ??= error;
        measurements.push(m);
        sim.clearCommandLog(); // the simulator keeps every sentence; do not let it grow
      };
      await run('addToAddressList', async (i) => {
        const result = await ops.addToAddressList(LIST, address(base, i), { comment: 'bench' });
        if (!result.created) throw new Error(`expected a new entry for ${address(base, i)}`);
      });
      await run('findPppActive', async (i) => {
        const rows = await ops.findPppActive({ name: `user${i % opts.pppSessions}` });
        if (rows.length !== 1) throw new Error(`expected one session, got ${rows.length}`);
      });
      await run('removeFromAddressList', async (i) => {
        const removed = await ops.removeFromAddressList(LIST, address(base, i));
        if (removed !== 1) throw new Error(`expected to remove one entry for ${address(base, i)}, removed ${removed}`);
      });
    }
  } finally {
    await client.close();
    await sim.stop();
  }
  return { measurements, ...(firstError === undefined ? {} : { firstError }) };
}
