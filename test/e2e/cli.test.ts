// The operator CLI as an operator runs it: clear errors and exit codes for bad input, and the
// commands the README tells a user to run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { runCli, runCliOk } from '../support/wardenProcess.js';

let database: TestDatabase;
let env: Record<string, string>;

before(async () => {
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url, WARDEN_SECRET_KEY: randomBytes(32).toString('base64'), WARDEN_PUBLIC_URL: 'https://192.0.2.10:8443' };
});

after(async () => {
  await database.drop();
});

test('help lists every command', async () => {
  const out = await runCliOk(['help'], env);
  for (const command of ['db migrate', 'router add', 'router scripts', 'person add', 'account add', 'link-code', 'sessions list', 'bans list', 'unban', 'audit']) {
    assert.ok(out.includes(command), command);
  }
});

test('router add validates its input and never prints the password', async () => {
  const bad = await runCli(['router', 'add', 'Office!', '--host', '192.0.2.1', '--user', 'warden', '--password', 'pw'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /name: lower-case letters/);
  const missing = await runCli(['router', 'add', 'office', '--host', '192.0.2.1', '--user', 'warden'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing --password or --password-env/);
  const badCidr = await runCli(['router', 'add', 'office', '--host', '192.0.2.1', '--user', 'warden', '--password', 'pw', '--allow-cidr', '192.0.2.0/40'], env);
  assert.equal(badCidr.code, 2);
  assert.match(badCidr.stderr, /invalid prefix/);

  const added = await runCliOk(['router', 'add', 'office', '--host', '192.0.2.1', '--user', 'warden', '--password-env', 'PW', '--allow-cidr', '192.0.2.1/32'], { ...env, PW: 'very-secret-pw' });
  assert.match(added, /hook token \(shown once, stored only as a hash\): wdn_[A-Za-z0-9_-]{43}/);
  const again = await runCli(['router', 'add', 'office', '--host', '192.0.2.1', '--user', 'warden', '--password', 'x'], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const list = await runCliOk(['router', 'list'], env);
  assert.match(list, /office\s+api:\/\/warden@192\.0\.2\.1:8728/);
  assert.ok(!list.includes('very-secret-pw'));
});

test('router scripts are printed filled in, and need a token', async () => {
  const noToken = await runCli(['router', 'scripts', 'office'], env);
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /--rotate-token/);
  const out = await runCliOk(['router', 'scripts', 'office', '--rotate-token', '--vpn-pool', '10.9.0.0/24'], env);
  assert.match(out, /new hook token issued/);
  assert.match(out, /https:\/\/192\.0\.2\.10:8443\/hooks\/v1\/routers\/office\/ppp\/up/);
  assert.match(out, /https:\/\/192\.0\.2\.10:8443\/hooks\/v1\/routers\/office\/ppp\/down/);
  assert.match(out, /warden-sandbox/);
  assert.match(out, /10\.9\.0\.0\/24/);
  assert.match(out, /Bearer wdn_[A-Za-z0-9_-]{43}/);
  assert.ok(!/\{[A-Z_]+\}/.test(out), 'no unfilled placeholders');
  const bad = await runCli(['router', 'scripts', 'office', '--token', 'abc"; /system reset', '--vpn-pool', '10.9.0.0/24'], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /token/i);
});

test('router set validates provisioning settings; scripts can include the WireGuard watch', async () => {
  const bad = await runCli(['router', 'set', 'office', '--wg-pool', '10.66.0.0/40'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /prefix/);
  const badHost = await runCli(['router', 'set', 'office', '--vpn-host', 'bad host!'], env);
  assert.match(badHost.stderr, /vpn-host/);
  const noWg = await runCli(['router', 'scripts', 'office', '--rotate-token', '--vpn-pool', '10.9.0.0/24', '--wireguard-watch'], env);
  assert.equal(noWg.code, 2);
  assert.match(noWg.stderr, /no WireGuard interface/);
  assert.match(await runCliOk(['router', 'set', 'office', '--vpn-host', 'vpn.example.com', '--wg-interface', 'wg-warden', '--wg-pool', '10.66.0.0/24'], env), /wireguard wg-warden pool 10\.66\.0\.0\/24/);
  const out = await runCliOk(['router', 'scripts', 'office', '--rotate-token', '--vpn-pool', '10.9.0.0/24', '--wireguard-watch'], env);
  assert.match(out, /WireGuard watch/);
  assert.match(out, /\/hooks\/v1\/routers\/office\/wireguard\/handshake/);
  assert.match(out, /wg-warden/);
  const invite = await runCliOk(['invite', 'create', '--router', 'office', '--uses', '3'], env);
  assert.match(invite, /invite code: [A-Z2-9]{12} \(3 use\(s\), wireguard on office/);
});

test('people, accounts and link codes', async () => {
  const id = (await runCliOk(['person', 'add', 'Alice', 'Example'], env)).trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const unknownOwner = await runCli(['account', 'add', '--router', 'office', '--user', 'alice', '--owner', 'Bob'], env);
  assert.equal(unknownOwner.code, 1);
  assert.match(unknownOwner.stderr, /no person "Bob"/);
  const badUser = await runCli(['account', 'add', '--router', 'office', '--user', 'al ice', '--owner', 'Alice Example'], env);
  assert.equal(badUser.code, 2);
  assert.match(await runCliOk(['account', 'add', '--router', 'office', '--user', 'alice', '--owner', id], env), /account alice added/);
  const dup = await runCli(['account', 'add', '--router', 'office', '--user', 'alice', '--owner', id], env);
  assert.match(dup.stderr, /already exists/);
  assert.match(await runCliOk(['account', 'list'], env), /office\s+ppp\s+alice\s+Alice Example/);
  const code = await runCliOk(['link-code', 'Alice Example'], env);
  assert.match(code, /link code for Alice Example: [A-Z2-9]{10}/);
  assert.match(await runCliOk(['person', 'list'], env), /Alice Example/);
});

test('unknown commands and options fail with usage and exit code 2', async () => {
  const unknown = await runCli(['frobnicate'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badOption = await runCli(['sessions', 'list', '--colour'], env);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /colour/);
  const badState = await runCli(['sessions', 'list', '--state', 'happy'], env);
  assert.equal(badState.code, 2);
  assert.match(badState.stderr, /--state must be one of/);
  assert.match(await runCliOk(['sessions', 'list'], env), /\(none\)/);
  assert.match(await runCliOk(['bans', 'list'], env), /\(none\)/);
  const audit = await runCliOk(['audit', '--limit', '5'], env);
  assert.match(audit, /account\.added|person\.added|router\./);
});

test('a bad configuration stops the CLI with a message naming the variable', async () => {
  const result = await runCli(['router', 'list'], { ...env, DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /DATABASE_URL: must be a postgresql:\/\/ URL/);
  assert.match(result.stderr, /LOG_LEVEL/);
});
