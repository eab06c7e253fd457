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

describe('/interface/wireguard', () => {
  // RFC 7748 section 6.1 test vector: Alice's private key and X25519(a, 9).
  const PRIVATE = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
  const PUBLIC = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');
  const PEER_KEY = Buffer.alloc(32, 7).toString('base64');
  const OTHER_KEY = Buffer.alloc(32, 8).toString('base64');

  test('interfaces: public key derived with X25519, private key only for sensitive users', async () => {
    const sim = await startSim({ version: '7.17' });
    const raw = await openRaw(sim);
    assert.deepEqual(await raw.command(['/interface/wireguard/add', '=name=wg0', '=listen-port=13231', `=private-key=${PRIVATE}`]), [['!done', '=ret=*10']]);
    const [row] = rows(await raw.command(['/interface/wireguard/print']));
    assert.deepEqual(row, {
      '.id': '*10',
      name: 'wg0',
      mtu: '1420',
      'listen-port': '13231',
      'private-key': PRIVATE,
      'public-key': PUBLIC,
      running: 'true',
      disabled: 'false',
    });
    const reader = await openRaw(sim, READER);
    const [hidden] = rows(await reader.command(['/interface/wireguard/print']));
    assert.equal(hidden?.['private-key'], undefined);
    assert.equal(hidden?.['public-key'], PUBLIC);

    // Without a private key the router makes one; without a name it picks wireguardN.
    assert.equal((await raw.command(['/interface/wireguard/add', '=listen-port=13232']))[0]![0], '!done');
    const made = sim.wireguardInterfaces().find((i) => i.name === 'wireguard1');
    assert.ok(made && made.privateKey !== PRIVATE && made.publicKey.length === 44);
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/add', '=name=wg0'])), 'failure: already have interface with such name');
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/add', '=name=wg2', '=private-key=abc'])), 'invalid value for argument private-key');
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/add', '=name=wg2', '=listen-port=70000'])), 'invalid value for argument listen-port');
    assert.deepEqual(sim.wireguardInterfaces().map((i) => i.name), ['wg0', 'wireguard1']);
    assert.deepEqual(sim.addWireguardInterface({ name: 'wg9', listenPort: 51820, privateKey: PRIVATE }).publicKey, PUBLIC);
  });

  test('peers: add, print fields, checks, set, remove', async () => {
    const sim = await startSim({ version: '7.17' });
    const wg0 = sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    sim.addWireguardInterface({ name: 'wg1', listenPort: 13232 });
    const raw = await openRaw(sim);
    const psk = Buffer.alloc(32, 9).toString('base64');
    const added = await raw.command([
      '/interface/wireguard/peers/add',
      '=interface=wg0',
      `=public-key=${PEER_KEY}`,
      `=preshared-key=${psk}`,
      '=allowed-address=10.9.0.2,10.9.1.7/24,2001:DB8::1/64',
      '=endpoint-address=vpn.example.com',
      '=endpoint-port=51820',
      '=persistent-keepalive=25s',
      '=comment=alice',
    ]);
    assert.deepEqual(added, [['!done', '=ret=*1']]);
    const [row] = rows(await raw.command(['/interface/wireguard/peers/print', '?interface=wg0']));
    assert.deepEqual(row, {
      '.id': '*1',
      interface: 'wg0',
      'public-key': PEER_KEY,
      'preshared-key': psk,
      'endpoint-address': 'vpn.example.com',
      'endpoint-port': '51820',
      'allowed-address': '10.9.0.2/32,10.9.1.0/24,2001:db8::/64',
      'persistent-keepalive': '25s',
      rx: '0',
      tx: '0',
      comment: 'alice',
      disabled: 'false',
    });
    // The interface can be named by its id too; the peer shows the name.
    assert.equal((await raw.command(['/interface/wireguard/peers/add', `=interface=${wg0.id}`, `=public-key=${OTHER_KEY}`]))[0]![0], '!done');
    assert.deepEqual(rows(await raw.command(['/interface/wireguard/peers/print', `?public-key=${OTHER_KEY}`])).map((r) => r.interface), ['wg0']);

    const add = (...words: string[]) => raw.command(['/interface/wireguard/peers/add', ...words]);
    assert.equal(trapMessage(await add('=interface=wg7', `=public-key=${Buffer.alloc(32, 1).toString('base64')}`)), 'input does not match any value of interface');
    assert.equal(trapMessage(await add('=interface=wg0', '=public-key=abc')), 'invalid value for argument public-key');
    assert.equal(trapMessage(await add('=interface=wg0', `=public-key=${Buffer.alloc(31).toString('base64')}`)), 'invalid value for argument public-key');
    // One peer per public key on the whole router, whichever interface.
    assert.equal(trapMessage(await add('=interface=wg0', `=public-key=${PEER_KEY}`)), 'failure: entry already exists');
    assert.equal(trapMessage(await add('=interface=wg1', `=public-key=${PEER_KEY}`)), 'failure: entry already exists');
    assert.equal(trapMessage(await add('=interface=wg1', `=public-key=${Buffer.alloc(32, 1).toString('base64')}`, '=allowed-address=10.0.0.0/33')), 'invalid value for argument allowed-address');
    assert.equal(trapMessage(await add('=interface=wg1', `=public-key=${Buffer.alloc(32, 1).toString('base64')}`, '=persistent-keepalive=soon')), 'invalid value for argument persistent-keepalive');
    assert.match(trapMessage(await add('=interface=wg1')) ?? '', /missing value/);
    assert.equal(sim.wireguardPeers().length, 2);

    // A rejected set changes nothing; a good one does.
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/peers/set', '=.id=*1', '=comment=changed', `=public-key=${OTHER_KEY}`])), 'failure: entry already exists');
    assert.equal(sim.wireguardPeers()[0]?.comment, 'alice');
    assert.deepEqual(await raw.command(['/interface/wireguard/peers/set', '=.id=*1', '=interface=wg1', '=disabled=yes', '=comment=', '=preshared-key=', '=persistent-keepalive=0']), [['!done']]);
    const [moved] = sim.wireguardPeers().filter((p) => p.id === '*1');
    assert.deepEqual([moved?.interface, moved?.disabled, moved?.comment, moved?.presharedKey, moved?.persistentKeepaliveSeconds], ['wg1', true, undefined, undefined, undefined]);

    // Peers follow a renamed interface and go when it is removed.
    await raw.command(['/interface/wireguard/set', `=.id=${wg0.id}`, '=name=wg-home']);
    assert.deepEqual(sim.wireguardPeers().map((p) => p.interface).sort(), ['wg-home', 'wg1']);
    await raw.command(['/interface/wireguard/remove', `=.id=${wg0.id}`]);
    assert.deepEqual(sim.wireguardPeers().map((p) => p.id), ['*1']);
    assert.deepEqual(await raw.command(['/interface/wireguard/peers/remove', '=.id=*1']), [['!done']]);
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/peers/remove', '=.id=*1'])), 'no such item');
  });

  test('peers: preshared key only for sensitive users; handshake fields appear after the first handshake', async () => {
    const sim = await startSim({ version: '7.17' });
    sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    sim.addWireguardPeer({ interface: 'wg0', publicKey: PEER_KEY, presharedKey: OTHER_KEY, allowedAddress: ['10.9.0.2'] });
    const reader = await openRaw(sim, READER);
    const [before] = rows(await reader.command(['/interface/wireguard/peers/print']));
    assert.equal(before?.['preshared-key'], undefined);
    for (const absent of ['last-handshake', 'current-endpoint-address', 'current-endpoint-port']) assert.equal(before?.[absent], undefined, absent);

    sim.wireguardHandshake(PEER_KEY, { endpointAddress: '198.51.100.7', endpointPort: 51820 });
    sim.advanceClock(89_000);
    const [after] = rows(await reader.command(['/interface/wireguard/peers/print']));
    assert.equal(after?.['last-handshake'], '1m29s');
    assert.equal(after?.['current-endpoint-address'], '198.51.100.7');
    assert.equal(after?.['current-endpoint-port'], '51820');
    assert.equal(after?.rx, '148');
    assert.equal(after?.tx, '92');
    assert.ok((sim.wireguardPeers()[0]?.lastHandshakeAgoMs ?? 0) >= 89_000);
  });

  test('peer names exist from 7.15', async () => {
    const older = await startSim({ version: '7.14.3' });
    older.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const olderRaw = await openRaw(older);
    assert.equal(trapMessage(await olderRaw.command(['/interface/wireguard/peers/add', '=interface=wg0', `=public-key=${PEER_KEY}`, '=name=phone'])), 'unknown parameter name');
    assert.equal(rows(await olderRaw.command(['/interface/wireguard/peers/print'])).length, 0);

    const sim = await startSim({ version: '7.15.3' });
    sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const raw = await openRaw(sim);
    assert.equal((await raw.command(['/interface/wireguard/peers/add', '=interface=wg0', `=public-key=${PEER_KEY}`, '=name=phone']))[0]![0], '!done');
    assert.equal(rows(await raw.command(['/interface/wireguard/peers/print']))[0]?.name, 'phone');
  });

  test('RouterOS 6 has no /interface/wireguard', async () => {
    const sim = await startSim({ version: '6.49.10' });
    const raw = await openRaw(sim);
    assert.deepEqual(await raw.command(['/interface/wireguard/print']), [
      ['!trap', '=category=0', '=message=no such command or directory (wireguard)'],
      ['!done'],
    ]);
    assert.equal(trapMessage(await raw.command(['/interface/wireguard/peers/add', '=interface=wg0'])), 'no such command or directory (wireguard)');
  });

  test('7.18 sends !empty for a peer print that matches nothing', async () => {
    const sim = await startSim({ version: '7.18' });
    sim.addWireguardInterface({ name: 'wg0', listenPort: 13231 });
    const raw = await openRaw(sim);
    assert.deepEqual(await raw.command(['/interface/wireguard/peers/print'], 'p'), [['!empty', '.tag=p'], ['!done', '.tag=p']]);
  });
});

describe('/ppp/profile and secrets that use them', () => {
  test('profiles print; a secret must name an existing one', async () => {
    const sim = await startSim();
    sim.addPppProfile({ name: 'sandbox', localAddress: '10.8.0.1', remoteAddress: 'sandbox-pool', onUp: ':log info "up $user"' });
    const raw = await openRaw(sim);
    const listed = rows(await raw.command(['/ppp/profile/print', '=.proplist=.id,name,local-address,remote-address,on-up,on-down']));
    assert.deepEqual(listed, [
      { '.id': '*0', name: 'default', 'on-up': '', 'on-down': '' },
      { '.id': '*FFFFFFFE', name: 'default-encryption', 'on-up': '', 'on-down': '' },
      { '.id': '*1', name: 'sandbox', 'local-address': '10.8.0.1', 'remote-address': 'sandbox-pool', 'on-up': ':log info "up $user"', 'on-down': '' },
    ]);
    assert.deepEqual(sim.pppProfiles().map((p) => p.name), ['default', 'default-encryption', 'sandbox']);

    assert.equal(trapMessage(await raw.command(['/ppp/secret/add', '=name=dave', '=profile=gold'])), 'input does not match any value of profile');
    assert.deepEqual(await raw.command(['/ppp/secret/add', '=name=dave', '=password=pw', '=profile=sandbox', '=local-address=10.8.0.1']), [['!done', '=ret=*1']]);
    assert.equal(trapMessage(await raw.command(['/ppp/secret/set', '=.id=*1', '=profile=gold'])), 'input does not match any value of profile');
    assert.equal(trapMessage(await raw.command(['/ppp/secret/set', '=.id=*1', '=remote-address=pool'])), 'invalid value for argument remote-address');
    const [secret] = rows(await raw.command(['/ppp/secret/print', '?name=dave']));
    assert.equal(secret?.profile, 'sandbox');
    assert.equal(secret?.['local-address'], '10.8.0.1');
    assert.equal(secret?.['remote-address'], undefined);
    assert.throws(() => sim.addPppSecret({ name: 'erin', profile: 'gold' }), /no PPP profile/);
    assert.throws(() => sim.addPppProfile({ name: 'sandbox' }), /exists already/);
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
