// Discord-specific behaviour end to end: closed DMs, REST rate limits, gateway reconnects during a
// pending prompt, slash commands, and two Warden instances sharing one bot (one gateway holder).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PERMIT, SANDBOX, Stack } from '../support/stack.js';
import { eventually, startWardenProcess } from '../support/wardenProcess.js';
import type { DiscordUser } from '../support/chatDrivers.js';

let stack: Stack;
let next = 40;

before(async () => {
  stack = await Stack.start({ discord: true, env: { APPROVAL_TIMEOUT_SECONDS: '8' } });
});

after(async () => {
  await stack?.stop();
});

function login(user: string) {
  next++;
  return { user, callerId: `192.0.2.${next}`, address: `10.8.1.${next}` };
}

test('/status and /help answer ephemerally; /prompts cannot switch off the only chat', async () => {
  const dora = (await stack.addChatUser('discord', 'Dora', 'dora')) as DiscordUser;
  const fake = stack.discordFake!;
  const reply = async (name: string, options?: Record<string, string | boolean>) => {
    const handle = await fake.runSlashCommand(dora.user, name, options);
    const ack = await handle.acknowledged;
    assert.equal(ack.type, 5, 'deferred first, inside the 3-second window');
    return eventually(`/${name} reply`, () => {
      const record = fake.interactions.find((i) => i.id === handle.interactionId);
      const message = record?.originalMessageId ? fake.message(record.originalMessageId) : undefined;
      return message?.content ? message : undefined;
    });
  };
  const status = await reply('status');
  assert.ok(status.ephemeral);
  assert.match(status.content, /\*\*Dora\*\*[\s\S]*`dora` on `office`/);
  assert.match((await reply('help')).content, /\/status/);
  assert.match((await reply('prompts', { enabled: false })).content, /only chat/);
});

test('DMs closed: the prompt cannot be delivered, the operator sees it, the client stays sandboxed', async () => {
  const erin = (await stack.addChatUser('discord', 'Erin', 'erin')) as DiscordUser;
  stack.discordFake!.closeDms(erin.user);
  const l = login('erin');
  await stack.routerUp(l);
  await eventually('undeliverable prompt in the audit log', async () => (await stack.cli(['audit', '--limit', '30'])).includes('prompt.undeliverable'));
  assert.match(await stack.cli(['audit', '--limit', '30']), /Cannot send messages to this user/);
  assert.ok(stack.inList(SANDBOX, l.address));
  assert.ok(!stack.inList(PERMIT, l.address));
  assert.equal(erin.promptsFor(l.address), 0);
  // Nobody answered: the session expires and is disconnected like any other.
  await eventually('expired and disconnected', () => !stack.isConnected(l), 20_000);
  stack.discordFake!.openDms(erin.user);
});

test('Discord REST 429 on the prompt: discord.js waits as told, the prompt arrives once and works', async () => {
  const fay = await stack.addChatUser('discord', 'Fay', 'fay');
  stack.discordFake!.failNext('POST', /\/channels\/\d+\/messages$/, { status: 429, retryAfter: 1.5 });
  const l = login('fay');
  const started = Date.now();
  await stack.routerUp(l);
  const prompt = await fay.waitForPrompt(l.address);
  assert.ok(Date.now() - started >= 1400, 'not before retry_after');
  assert.equal(fay.promptsFor(l.address), 1);
  assert.match(await prompt.press('approve'), /Approved/);
  await eventually('permit', () => stack.inList(PERMIT, l.address));
});

test('gateway reconnect and an abrupt drop during a pending prompt: the click is still handled, once', async () => {
  const gus = await stack.addChatUser('discord', 'Gus', 'gus');
  const l = login('gus');
  await stack.routerUp(l);
  const prompt = await gus.waitForPrompt(l.address);
  const fake = stack.discordFake!;
  fake.gatewayReconnect();
  await eventually('resumed', () => fake.gatewayConnected);
  fake.dropGateway();
  await eventually('gateway back', () => fake.gatewayConnected, 20_000);
  assert.match(await prompt.press('approve'), /Approved/);
  await eventually('permit', () => stack.inList(PERMIT, l.address));
  const approvals = (await stack.cli(['audit', '--limit', '100'])).split('\n').filter((line) => line.includes('session.approved') && line.includes(`"${l.address}"`));
  assert.equal(approvals.length, 1);
});

test('two instances share one bot: only the lock holder is on the gateway; it dies, the other takes over', async () => {
  const fake = stack.discordFake!;
  const second = await startWardenProcess({ ...stack.env });
  try {
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(fake.sessions.filter((s) => s.state === 'connected').length, 1, 'exactly one gateway session');
    const hana = await stack.addChatUser('discord', 'Hana', 'hana');
    const l = login('hana');
    await stack.routerUp(l);
    const prompt = await hana.waitForPrompt(l.address);
    assert.match(await prompt.press('approve'), /Approved/);
    await eventually('permit', () => stack.inList(PERMIT, l.address));
    const refused = fake.calls.filter((c) => c.errorCode === 40060);
    assert.equal(refused.length, 0, 'no second acknowledgement: the click was handled once');

    // The first instance dies; the second takes the gateway over within the lock TTL.
    stack.warden.child.kill('SIGKILL');
    await eventually('takeover', () => fake.sessions.filter((s) => s.state === 'connected').length === 1 && second.logs().includes('holding the Discord gateway lock'), 20_000);
    // A login handled entirely by the surviving instance: hook, prompt, click, permit.
    const l2 = login('hana');
    stack.router.connectPpp({ name: l2.user, service: 'l2tp', callerId: l2.callerId, address: l2.address });
    const up = await stack.hook('up', l2, { baseUrl: second.url });
    assert.equal(up.status, 202);
    const prompt2 = await hana.waitForPrompt(l2.address);
    assert.match(await prompt2.press('approve'), /Approved/);
    await eventually('permit via the second instance', () => stack.inList(PERMIT, l2.address), 20_000);
  } finally {
    await second.stop();
    await stack.restartWarden();
  }
});
