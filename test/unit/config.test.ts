import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, EnvSchema, loadConfig } from '../../src/config.js';

const key = randomBytes(32).toString('base64');

test('defaults give a working configuration', () => {
  const config = loadConfig({ WARDEN_SECRET_KEY: key });
  assert.deepEqual(config.roles, ['api', 'worker', 'bots']);
  assert.equal(config.policy.approvalTimeoutMs, 60_000);
  assert.equal(config.policy.maxUnconfirmedAttempts, 5);
  assert.equal(config.policy.banDurationMs, 30 * 60_000);
  assert.equal(config.telegram.enabled, false);
  assert.equal(config.databaseUrl, 'postgresql://postgres@127.0.0.1:5432/warden');
});

test('bad values are reported together, each naming its variable', () => {
  try {
    loadConfig({ WARDEN_SECRET_KEY: key, HTTP_PORT: 'eighty', WARDEN_ROLES: 'api,cron', APPROVAL_TIMEOUT_SECONDS: '0', TELEGRAM_BOT_TOKEN: 'nope' });
    assert.fail('expected ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.message;
    assert.match(text, /HTTP_PORT/);
    assert.match(text, /WARDEN_ROLES: unknown role "cron"/);
    assert.match(text, /APPROVAL_TIMEOUT_SECONDS/);
    assert.match(text, /TELEGRAM_BOT_TOKEN/);
  }
});

test('webhook mode requires its URL and secret', () => {
  assert.throws(
    () => loadConfig({ WARDEN_SECRET_KEY: key, TELEGRAM_BOT_TOKEN: '123456:' + 'A'.repeat(30), TELEGRAM_MODE: 'webhook' }),
    /TELEGRAM_WEBHOOK_URL: required[\s\S]*TELEGRAM_WEBHOOK_SECRET: required/,
  );
  const config = loadConfig({
    WARDEN_SECRET_KEY: key,
    TELEGRAM_BOT_TOKEN: '123456:' + 'A'.repeat(30),
    TELEGRAM_MODE: 'webhook',
    TELEGRAM_WEBHOOK_URL: 'https://warden.example.com/telegram/webhook',
    TELEGRAM_WEBHOOK_SECRET: 's'.repeat(32),
  });
  assert.equal(config.telegram.enabled && config.telegram.mode.kind, 'webhook');
});

test('a bad secret key is refused; without one a key file is created once, private', () => {
  assert.throws(() => loadConfig({ WARDEN_SECRET_KEY: 'c2hvcnQ=' }), /WARDEN_SECRET_KEY: must be 32 bytes/);
  const file = join(mkdtempSync(join(tmpdir(), 'warden-key-')), 'sub', 'secret.key');
  const first = loadConfig({ WARDEN_SECRET_KEY_FILE: file });
  const second = loadConfig({ WARDEN_SECRET_KEY_FILE: file });
  assert.deepEqual(first.secretKey, second.secretKey);
  assert.equal(first.secretKey.length, 32);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('.env.example documents exactly the settings Warden reads', () => {
  const documented = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split('=')[0]!)
    .sort();
  const known = Object.keys(EnvSchema.shape).sort();
  assert.deepEqual(documented, known);
});
