// The RouterOS simulator checked at the wire (raw socket) and with the unmodified node-routeros
// library, so other tests can trust it as a stand-in for a router.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';

import { RouterOSAPI } from 'node-routeros';

import {
  attributesOf,
  encodeLength,
  RawApiConnection,
  RouterOsSimulator,
  SentenceDecoder,
  tagOf,
  type RouterOsSimulatorOptions,
} from '../support/routeros-sim/index.js';

const ADMIN = { name: 'admin', password: 'secret', group: 'full' as const };
const READER = { name: 'reader', password: 'r', group: 'read' as const };

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startSim(options: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const sim = await RouterOsSimulator.start({ users: [ADMIN, READER], ...options });
  cleanups.push(() => sim.stop());
  return sim;
}

async function openRaw(sim: RouterOsSimulator, login: false | { name: string; password: string } = ADMIN): Promise<RawApiConnection> {
  const raw = await RawApiConnection.open(sim.port);
  cleanups.push(() => raw.close());
  if (login) {
    const reply = await raw.login(login.name, login.password);
    assert.deepEqual(reply, [['!done']]);
  }
  return raw;
}

function rows(reply: string[][]): Record<string, string>[] {
  return reply.filter((s) => s[0] === '!re').map(attributesOf);
}

function trapMessage(reply: string[][]): string | undefined {
  const trap = reply.find((s) => s[0] === '!trap');
  return trap ? attributesOf(trap).message : undefined;
}

describe('wire protocol', () => {
  test('length prefixes use all five forms at their boundaries', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [0x7f, '7f'],
      [0x80, '8080'],
      [0x3fff, 'bfff'],
      [0x4000, 'c04000'],
      [0x1fffff, 'dfffff'],
      [0x200000, 'e0200000'],
      [0xfffffff, 'efffffff'],
      [0x10000000, 'f010000000'],
    ];
    for (const [length, hex] of cases) assert.equal(encodeLength(length).toString('hex'), hex, `length ${length}`);
  });

  test('decoder reads every prefix form, split at any byte, including over-long encodings', () => {
    const word = 'x'.repeat(5);
    const forms = [
      Buffer.from([5]),
      Buffer.from([0x80, 5]),
      Buffer.from([0xc0, 0, 5]),
      Buffer.from([0xe0, 0, 0, 5]),
      Buffer.from([0xf0, 0, 0, 0, 5]),
    ];
    const stream = Buffer.concat([...forms.flatMap((prefix) => [prefix, Buffer.from(word), Buffer.from([0])]), Buffer.from([0])]);
    for (let chunk = 1; chunk <= stream.length; chunk++) {
      const decoder = new SentenceDecoder();
      const sentences: string[][] = [];
      for (let i = 0; i < stream.length; i += chunk) sentences.push(...decoder.push(stream.subarray(i, i + chunk)));
      assert.deepEqual(sentences, forms.map(() => [word]), `chunk size ${chunk}`);
    }
  });

  test('a reserved prefix byte makes the router drop the connection', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim, false);
    raw.sendBytes(Buffer.from([0xf8, 0, 0, 0, 0]));
    await raw.waitClosed();
  });

  test('empty sentences are ignored and long words travel in 2-, 3- and 4-byte forms both ways', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    raw.sendBytes(Buffer.from([0, 0]));
    const comments = ['c'.repeat(0x90), 'd'.repeat(0x5000), 'e'.repeat(0x200001)];
    for (const [i, comment] of comments.entries()) {
      const reply = await raw.command(['/ip/firewall/address-list/add', '=list=long', `=address=10.0.0.${i + 1}`, `=comment=${comment}`]);
      assert.equal(reply[0]![0], '!done');
    }
    const listed = rows(await raw.command(['/ip/firewall/address-list/print', '?list=long']));
    assert.deepEqual(
      listed.map((r) => r.comment?.length),
      comments.map((c) => c.length),
    );
  });

  test('split-writes mode delivers the same sentences in many small pieces', async () => {
    const sim = await startSim({ splitWrites: true });
    const raw = await openRaw(sim);
    const before = raw.chunksReceived;
    const reply = await raw.command(['/system/identity/print'], 't1');
    assert.deepEqual(reply, [
      ['!re', '.tag=t1', '=name=MikroTik'],
      ['!done', '.tag=t1'],
    ]);
    assert.ok(raw.chunksReceived - before > 5, `arrived in ${raw.chunksReceived - before} pieces`);
  });
});

describe('login', () => {
  test('modern login; wrong password traps and the connection stays usable', async () => {
    const sim = await startSim({ version: '7.17' });
    const raw = await openRaw(sim, false);
    assert.equal(trapMessage(await raw.command(['/system/identity/print'])), 'not logged in');
    const failed = await raw.login('admin', 'wrong');
    assert.deepEqual(failed, [['!trap', '=message=invalid user name or password (6)'], ['!done']]);
    assert.equal(raw.closed, false);
    assert.deepEqual(await raw.login('admin', 'secret'), [['!done']]);
    assert.equal(rows(await raw.command(['/system/identity/print']))[0]?.name, 'MikroTik');
  });

  test('pre-6.43 challenge login', async () => {
    const sim = await startSim({ legacyLogin: true });
    const raw = await openRaw(sim, false);
    const [challenge] = await raw.command(['/login']);
    assert.equal(challenge![0], '!done');
    assert.match(attributesOf(challenge!).ret ?? '', /^[0-9a-f]{32}$/);
    // A plain password is not understood by an old router: it just answers with a new challenge.
    const plain = await raw.login('admin', 'secret');
    assert.match(attributesOf(plain[0]!).ret ?? '', /^[0-9a-f]{32}$/);
    assert.equal(trapMessage(await raw.legacyLogin('admin', 'wrong')), 'cannot log in');
    assert.deepEqual(await raw.legacyLogin('admin', 'secret'), [['!done']]);
    assert.equal(rows(await raw.command(['/system/resource/print']))[0]?.version, '6.42.12 (stable)');
  });

  test('/quit answers !fatal and closes', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    raw.send('/quit');
    assert.deepEqual(await raw.next(), ['!fatal', 'session terminated on request']);
    await raw.waitClosed();
  });
});

describe('tags, concurrency and cancel', () => {
  test('every reply carries its command tag; commands run side by side', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    sim.setDelay(30);
    raw.send('/system/identity/print', '.tag=a');
    raw.send('/system/resource/print', '=.proplist=version', '.tag=b');
    raw.send('/ip/firewall/address-list/add', '=list=x', '=address=1.1.1.1', '.tag=c');
    const seen = [await raw.next(), await raw.next(), await raw.next(), await raw.next(), await raw.next()];
    sim.setDelay(0);
    assert.deepEqual(seen.map(tagOf).sort(), ['a', 'a', 'b', 'b', 'c']);
    assert.deepEqual(seen.find((s) => tagOf(s) === 'c'), ['!done', '.tag=c', '=ret=*1']);
  });

  test('/cancel interrupts a running command', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    sim.setNoReply('/ip/firewall/address-list/print');
    raw.send('/ip/firewall/address-list/print', '.tag=slow');
    raw.send('/cancel', '=tag=slow', '.tag=stop');
    assert.deepEqual(await raw.next(), ['!trap', '.tag=slow', '=category=2', '=message=interrupted']);
    assert.deepEqual(await raw.next(), ['!done', '.tag=stop']);
    assert.deepEqual(await raw.next(), ['!done', '.tag=slow']);
  });
});

describe('queries', () => {
  async function seeded() {
    const sim = await startSim();
    sim.addAddressListEntry({ list: 'a', address: '10.0.0.1', comment: '1' });
    sim.addAddressListEntry({ list: 'a', address: '10.0.0.2', comment: '5' });
    sim.addAddressListEntry({ list: 'b', address: '10.0.0.3', comment: '10' });
    sim.addAddressListEntry({ list: 'c', address: '10.0.0.4' });
    const raw = await openRaw(sim);
    const print = async (...words: string[]) =>
      rows(await raw.command(['/ip/firewall/address-list/print', ...words])).map((r) => r.address);
    return { sim, raw, print };
  }

  test('?name=x, ?name, ?-name, ?<, ?>', async () => {
    const { print } = await seeded();
    assert.deepEqual(await print('?list=a'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(await print('?=list=b'), ['10.0.0.3']);
    assert.deepEqual(await print('?comment'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.deepEqual(await print('?-comment'), ['10.0.0.4']);
    assert.deepEqual(await print('?>comment=4'), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(await print('?<comment=5'), ['10.0.0.1']);
    assert.deepEqual(await print('?list=a', '?comment=5'), ['10.0.0.2']);
  });

  test('?# stack operations: | & ! and indexes', async () => {
    const { print } = await seeded();
    assert.deepEqual(await print('?list=a', '?list=b', '?#|'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    // The manual's example shape: neither a nor b.
    assert.deepEqual(await print('?list=a', '?list=b', '?#|!'), ['10.0.0.4']);
    assert.deepEqual(await print('?list=a', '?comment=5', '?#&!'), ['10.0.0.1', '10.0.0.3', '10.0.0.4']);
    // `1` at the end replaces the stack with the value at index 1 (the first query).
    assert.deepEqual(await print('?list=b', '?list=a', '?#1'), ['10.0.0.3']);
    // `0.` pushes a copy of the top; `&` of a value with itself is the value.
    assert.deepEqual(await print('?list=c', '?#0.&'), ['10.0.0.4']);
  });

  test('.proplist limits the properties; a bad query traps', async () => {
    const { raw } = await seeded();
    const listed = rows(await raw.command(['/ip/firewall/address-list/print', '?list=b', '=.proplist=.id,address']));
    assert.deepEqual(listed, [{ '.id': '*3', address: '10.0.0.3' }]);
    assert.match(trapMessage(await raw.command(['/ip/firewall/address-list/print', '?#&'])) ?? '', /invalid query/);
  });
});

describe('!empty', () => {
  for (const [version, expectEmpty] of [
    ['6.49.10', false],
    ['7.17', false],
    ['7.18', true],
    ['7.18.2', true],
  ] as const) {
    test(`version ${version} ${expectEmpty ? 'sends' : 'does not send'} !empty for a print that matches nothing`, async () => {
      const sim = await startSim({ version });
      const raw = await openRaw(sim);
      const reply = await raw.command(['/ip/firewall/address-list/print', '?list=none'], 'q');
      assert.deepEqual(reply, expectEmpty ? [['!empty', '.tag=q'], ['!done', '.tag=q']] : [['!done', '.tag=q']]);
      // Non-print commands never get it.
      assert.deepEqual(await raw.command(['/ip/firewall/address-list/add', '=list=x', '=address=1.2.3.4'], 'w'), [
        ['!done', '.tag=w', '=ret=*1'],
      ]);
    });
  }
});

describe('/ip/firewall/address-list', () => {
  test('add, duplicate, set, remove, missing item', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    const added = await raw.command(['/ip/firewall/address-list/add', '=list=ban', '=address=192.0.2.7/32', '=comment=hi']);
    assert.deepEqual(added, [['!done', '=ret=*1']]);
    assert.equal(
      trapMessage(await raw.command(['/ip/firewall/address-list/add', '=list=ban', '=address=192.0.2.7'])),
      'failure: already have such entry',
    );
    const [row] = rows(await raw.command(['/ip/firewall/address-list/print']));
    assert.equal(row?.address, '192.0.2.7');
    assert.equal(row?.dynamic, 'false');
    assert.equal(row?.disabled, 'false');
    assert.equal(row?.comment, 'hi');
    assert.match(row?.['creation-time'] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(row?.timeout, undefined);

    assert.deepEqual(await raw.command(['/ip/firewall/address-list/set', '=.id=*1', '=disabled=yes', '=comment=']), [['!done']]);
    assert.deepEqual(sim.addressList('ban').map((e) => [e.disabled, e.comment]), [[true, undefined]]);

    assert.deepEqual(await raw.command(['/ip/firewall/address-list/remove', '=.id=*1']), [['!done']]);
    assert.equal(trapMessage(await raw.command(['/ip/firewall/address-list/remove', '=.id=*1'])), 'no such item');
    assert.match(trapMessage(await raw.command(['/ip/firewall/address-list/add', '=list=x', '=address=1.2.3.4', '=bogus=1'])) ?? '', /^unknown parameter/);
    assert.match(trapMessage(await raw.command(['/ip/firewall/address-list/add', '=list=x'])) ?? '', /missing value/);
  });

  test('timeouts: input forms, RouterOS print form, expiry on the sim clock', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    const inputs: [string, string][] = [
      ['30m', '29m59s'],
      ['00:30:00', '29m59s'],
      ['1800', '29m59s'],
      ['1d2h', '1d1h59m59s'],
    ];
    for (const [i, [input]] of inputs.entries()) {
      const reply = await raw.command(['/ip/firewall/address-list/add', '=list=t', `=address=10.1.0.${i}`, `=timeout=${input}`]);
      assert.equal(reply[0]![0], '!done', `timeout ${input}`);
    }
    sim.advanceClock(500);
    const listed = rows(await raw.command(['/ip/firewall/address-list/print', '?list=t']));
    assert.deepEqual(listed.map((r) => r.timeout), inputs.map(([, shown]) => shown));
    assert.ok(listed.every((r) => r.dynamic === 'true'));

    sim.advanceClock(30 * 60_000);
    assert.deepEqual(sim.addressList('t').map((e) => e.address), ['10.1.0.3']);
    assert.deepEqual(rows(await raw.command(['/ip/firewall/address-list/print', '?list=t'])).map((r) => r.address), ['10.1.0.3']);
    assert.equal(trapMessage(await raw.command(['/ip/firewall/address-list/add', '=list=t', '=address=10.9.9.9', '=timeout=soon'])), 'invalid value for argument timeout');
  });

  test('timeouts also run out in real time', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    await raw.command(['/ip/firewall/address-list/add', '=list=t', '=address=10.2.0.1', '=timeout=200ms']);
    assert.equal(sim.addressList('t').length, 1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(sim.addressList('t').length, 0);
  });
});

describe('/ppp', () => {
  test('active sessions: print fields, remove disconnects and emits ppp-removed', async () => {
    const sim = await startSim();
    const id = sim.connectPpp({ name: 'alice', service: 'l2tp', callerId: '198.51.100.4', address: '10.8.0.2', uptimeMs: 65_000 });
    const raw = await openRaw(sim);
    const [row] = rows(await raw.command(['/ppp/active/print', '?name=alice']));
    assert.equal(row?.['.id'], id);
    assert.equal(row?.service, 'l2tp');
    assert.equal(row?.['caller-id'], '198.51.100.4');
    assert.equal(row?.address, '10.8.0.2');
    assert.equal(row?.uptime, '1m5s');
    assert.match(row?.['session-id'] ?? '', /^0x[0-9A-F]+$/);
    assert.ok(row?.encoding);

    const removed = once(sim, 'ppp-removed');
    assert.deepEqual(await raw.command(['/ppp/active/remove', `=.id=${id}`]), [['!done']]);
    const [session] = (await removed) as [{ name: string; callerId: string }];
    assert.equal(session.name, 'alice');
    assert.equal(sim.pppActive().length, 0);
    assert.equal(trapMessage(await raw.command(['/ppp/active/remove', `=.id=${id}`])), 'no such item');
    assert.equal(trapMessage(await raw.command(['/ppp/active/add', '=name=x'])), 'no such command or directory (add)');

    const other = sim.connectPpp({ name: 'bob', callerId: '203.0.113.9', address: '10.8.0.3' });
    assert.equal(sim.disconnectPpp(other), true);
    assert.equal(sim.disconnectPpp(other), false);
  });

  test('secrets: add, duplicate name, enum check, set, password only for sensitive users', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    const added = await raw.command(['/ppp/secret/add', '=name=alice', '=password=pw', '=service=l2tp', '=remote-address=10.8.0.2']);
    assert.deepEqual(added, [['!done', '=ret=*1']]);
    assert.equal(trapMessage(await raw.command(['/ppp/secret/add', '=name=alice'])), 'failure: secret with the same name already exists');
    assert.equal(trapMessage(await raw.command(['/ppp/secret/add', '=name=bob', '=service=telnet'])), 'input does not match any value of service');
    assert.deepEqual(await raw.command(['/ppp/secret/set', '=.id=*1', '=disabled=yes', '=comment=vpn']), [['!done']]);
    const [row] = rows(await raw.command(['/ppp/secret/print']));
    assert.equal(row?.password, 'pw');
    assert.equal(row?.disabled, 'true');
    assert.equal(row?.profile, 'default');
    assert.equal(row?.['remote-address'], '10.8.0.2');

    const reader = await openRaw(sim, READER);
    const [hidden] = rows(await reader.command(['/ppp/secret/print']));
    assert.equal(hidden?.password, undefined);
    assert.equal(trapMessage(await reader.command(['/ppp/secret/remove', '=.id=*1'])), 'not enough permissions (9)');
    assert.deepEqual(await raw.command(['/ppp/secret/remove', '=.id=*1']), [['!done']]);
  });
});

describe('system menus and errors', () => {
  test('resource, identity, unknown commands, permissions', async () => {
    const sim = await startSim({ version: '7.17', identity: 'edge-1' });
    const raw = await openRaw(sim);
    assert.equal(rows(await raw.command(['/system/identity/print']))[0]?.name, 'edge-1');
    const [resource] = rows(await raw.command(['/system/resource/print']));
    assert.equal(resource?.version, '7.17 (stable)');
    assert.ok(resource?.uptime);
    assert.equal(rows(await raw.command(['/system/resource/getall']))[0]?.version, '7.17 (stable)');

    assert.deepEqual(await raw.command(['/ip/firewall/adress-list/print']), [
      ['!trap', '=category=0', '=message=no such command or directory (adress-list)'],
      ['!done'],
    ]);
    assert.equal(trapMessage(await raw.command(['/ip/firewall'])), 'no such command prefix');
    assert.equal(trapMessage(await raw.command(['/system/identity/frobnicate'])), 'no such command or directory (frobnicate)');

    const reader = await openRaw(sim, READER);
    assert.equal(trapMessage(await reader.command(['/ip/firewall/address-list/add', '=list=x', '=address=1.2.3.4'])), 'not enough permissions (9)');
    assert.equal(trapMessage(await reader.command(['/system/identity/set', '=name=x'])), 'not enough permissions (9)');
    assert.equal(rows(await reader.command(['/system/identity/print']))[0]?.name, 'edge-1');
    assert.equal(sim.addressList().length, 0);
  });
});

describe('fault injection', () => {
  test('failNext traps the next matching commands only', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    sim.failNext('/ip/firewall/address-list/add', 'failure: simulated', 2);
    const add = (i: number) => raw.command(['/ip/firewall/address-list/add', '=list=f', `=address=10.3.0.${i}`]);
    assert.equal(trapMessage(await add(1)), 'failure: simulated');
    assert.equal(trapMessage(await add(2)), 'failure: simulated');
    assert.equal((await add(3))[0]![0], '!done');
    assert.deepEqual(sim.addressList('f').map((e) => e.address), ['10.3.0.3']);
  });

  test('sendFatal sends !fatal with the reason, then closes', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    sim.sendFatal('out of memory');
    assert.deepEqual(await raw.next(), ['!fatal', 'out of memory']);
    await raw.waitClosed();
  });

  test('dropConnections closes sockets; refusing connections keeps the port for later', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    sim.dropConnections();
    await raw.waitClosed();
    const port = sim.port;

    await sim.setRefuseConnections(true);
    await assert.rejects(RawApiConnection.open(port), /ECONNREFUSED/);
    await sim.setRefuseConnections(false);
    assert.equal(sim.port, port);
    await openRaw(sim);
    assert.equal(sim.connectionCount, 1);
  });

  test('commandLog records every sentence received', async () => {
    const sim = await startSim();
    const raw = await openRaw(sim);
    await raw.command(['/system/identity/print'], 'x');
    assert.deepEqual(
      sim.commandLog.map((c) => c.command),
      ['/login', '/system/identity/print'],
    );
    assert.deepEqual(sim.commandLog[1], { connection: sim.commandLog[1]!.connection, command: '/system/identity/print', words: ['/system/identity/print', '.tag=x'], user: 'admin' });
  });
});

describe('with node-routeros 1.6.9, unmodified', () => {
  async function connectApi(sim: RouterOsSimulator, password = ADMIN.password): Promise<RouterOSAPI> {
    const api = new RouterOSAPI({ host: sim.host, port: sim.port, user: ADMIN.name, password, timeout: 5 });
    api.on('error', () => undefined);
    cleanups.push(() => void api.close().catch(() => undefined));
    await api.connect();
    return api;
  }

  test('logs in, prints, adds, and rejects traps', async () => {
    const sim = await startSim({ version: '7.17' });
    const api = await connectApi(sim);
    assert.deepEqual(await api.write('/system/identity/print'), [{ name: 'MikroTik' }]);
    assert.deepEqual(await api.write(['/ip/firewall/address-list/add', '=list=n', '=address=1.2.3.4']), [{ ret: '*1' }]);
    await assert.rejects(api.write(['/ip/firewall/address-list/add', '=list=n', '=address=1.2.3.4']), /already have such entry/);
    const listed = await api.write(['/ip/firewall/address-list/print', '?list=n', '=.proplist=address']);
    assert.deepEqual(listed, [{ address: '1.2.3.4' }]);
  });

  test('challenge login against a pre-6.43 router', async () => {
    const sim = await startSim({ legacyLogin: true });
    const api = await connectApi(sim);
    assert.deepEqual(await api.write('/system/identity/print'), [{ name: 'MikroTik' }]);
    assert.deepEqual(
      sim.commandLog.filter((c) => c.command === '/login').map((c) => c.words.some((w) => w.startsWith('=response='))),
      [false, true],
    );
  });

  test('wrong password is rejected', async () => {
    const sim = await startSim({ version: '7.17' });
    await assert.rejects(connectApi(sim, 'nope'), /Username or password is invalid/);
  });

  test('its reader dies on !empty: the reason src/router replaces it', () => {
    // Run in a child process: the failure is an uncaught exception that ends the process.
    const script = `
      import { RouterOSAPI } from 'node-routeros';
      import { RouterOsSimulator } from ${JSON.stringify(new URL('../support/routeros-sim/index.ts', import.meta.url).href)};
      const sim = await RouterOsSimulator.start({ version: '7.18.2', users: [{ name: 'a', password: 'b', group: 'full' }] });
      const api = new RouterOSAPI({ host: sim.host, port: sim.port, user: 'a', password: 'b' });
      await api.connect();
      setTimeout(() => { console.log('survived'); process.exit(0); }, 1000);
      await api.write(['/ip/firewall/address-list/print', '?list=none']);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(child.status, 0, child.stdout);
    assert.match(child.stderr, /Tried to process unknown reply: !empty/);
  });
});
