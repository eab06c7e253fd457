// End to end: Warden receiving Telegram updates by webhook (TELEGRAM_MODE=webhook) instead of
// polling, with the secret-token check, and two instances sharing one database and Redis as in a
// scaled-out deployment. The fake Bot API insists on an https URL on loopback and delivers over
// plain HTTP, as a TLS-terminating proxy in front of Warden would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { BANNED, PERMIT, SANDBOX, Stack, type Login } from '../support/stack.js';
import { eventually, freePort, startWardenProcess, type WardenProcess } from '../support/wardenProcess.js';
import type { TgUser } from '../support/fake-telegram/index.js';

let stack: Stack;
let alice: TgUser;
let second: WardenProcess | undefined;
let webhookUrl: string;
let secret: string;

before(async () => {
  const port = await freePort();
  webhookUrl = `https://127.0.0.1:${port}/telegram/webhook`;
  secret = randomBytes(24).toString('base64url'); // 32 characters of A-Z a-z 0-9 _ -
  stack = await Stack.start({
    env: {
      HTTP_PORT: String(port),
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_URL: webhookUrl,
      TELEGRAM_WEBHOOK_SECRET: secret,
      APPROVAL_TIMEOUT_SECONDS: '20',
    },
  });
});

after(async () => {
  if (second) {
    await second.stop();
    mkdirSync('.tmp', { recursive: true });
    writeFileSync(`.tmp/${stack.env.WARDEN_QUEUE_PREFIX}-second.log`, second.logs());
  }
  await stack?.stop();
});

let next = 20;
function login(user = 'alice'): Login {
  next++;
  return { user, callerId: `192.0.2.${next}`, address: `10.10.0.${next}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function postUpdate(baseUrl: string, update: unknown, secretHeader?: string): Promise<Response> {
  return fetch(`${baseUrl}/telegram/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secretHeader === undefined ? {} : { 'x-telegram-bot-api-secret-token': secretHeader }) },
    body: JSON.stringify(update),
  });
}

function approvals(auditText: string, l: Login): number {
  return auditText.split('\n').filter((line) => line.includes('session.approved') && line.includes(l.address)).length;
}

test('Warden registers the webhook with its secret and does not poll', async () => {
  const bot = stack.telegram.bot;
  await eventually('webhook registered', () => bot.webhookUrl === webhookUrl);
  const set = stack.telegram.callsTo('setWebhook').filter((c) => c.ok);
  assert.equal(set.length, 1);
  assert.equal(set[0]!.params.url, webhookUrl);
  assert.equal(set[0]!.params.secret_token, secret);
  assert.deepEqual(set[0]!.params.allowed_updates, ['message', 'callback_query']);
  assert.equal(stack.telegram.callsTo('getUpdates').length, 0, 'no polling in webhook mode');
  assert.ok(!bot.isLongPolling);
});

test('linking by /start CODE arrives through the webhook', async () => {
  // The fake sends the registered secret with every delivery; Warden accepting them shows it matches.
  alice = await stack.addLinkedPerson('Alice', 'alice');
  // The bot's reply can arrive before Warden's 200 to the delivery, so wait for the acknowledgement.
  await eventually('every update accepted by Warden', () => stack.telegram.bot.pendingUpdates().length === 0, 10_000);
});

test('approve end to end: prompt, click delivered by webhook, permit on the router, message edited', async () => {
  const l = login();
  const up = await stack.routerUp(l);
  assert.equal(up.body.status, 'pending');
  const prompt = await stack.waitForPrompt(alice.id, l);
  const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
  assert.match((await click.answer).text ?? '', /^Approved/);
  await eventually('permit on the router', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
  const edited = await stack.waitForEdit(prompt, /Approved/);
  assert.equal(edited.replyMarkup, undefined);
});

test('a webhook call with a wrong or missing secret gets 401 and changes nothing', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  // A forged click: a real decision token, sent straight to Warden without Telegram's secret.
  const approveData = prompt.replyMarkup!.inline_keyboard.flat().find((b) => b.text === '✅ Approve')!.callback_data!;
  const forged = {
    update_id: 900_000_001,
    callback_query: {
      id: '4242424242',
      from: alice,
      chat_instance: '1',
      data: approveData,
      message: { message_id: prompt.messageId, date: prompt.date, chat: { id: alice.id, type: 'private', first_name: 'Alice' }, text: prompt.text },
    },
  };
  const wrong = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
  for (const header of [wrong, undefined, '', secret + 'x']) {
    const res = await postUpdate(stack.warden.url, forged, header);
    assert.equal(res.status, 401, `secret ${JSON.stringify(header)}`);
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized');
  }
  await sleep(1000);
  assert.ok(!stack.inList(PERMIT, l.address), 'no permit');
  assert.ok(stack.inList(SANDBOX, l.address), 'still sandboxed');
  assert.ok(stack.current(prompt).replyMarkup, 'prompt unchanged');
  assert.equal(stack.telegram.callsTo('answerCallbackQuery').filter((c) => c.params.callback_query_id === '4242424242').length, 0);
  assert.equal(approvals(await stack.cli(['audit', '--limit', '200']), l), 0);
  // The owner can still answer for real.
  const click = await stack.telegram.clickButton(alice, prompt, '⛔ Deny');
  assert.match((await click.answer).text ?? '', /^Denied/);
  await eventually('banned', () => stack.inList(BANNED, l.callerId));
});

test('two instances in webhook mode on one database and Redis: both take hooks; a click is handled once', async () => {
  second = await startWardenProcess({ ...stack.env, WARDEN_ROLES: 'api,worker', HTTP_PORT: String(await freePort()) });
  await second.waitForLog(/HTTP API listening/);
  await sleep(1500);
  assert.equal(stack.telegram.callsTo('setWebhook').filter((c) => c.ok).length, 1, 'only the bots role registers the webhook');

  const viaFirst = login();
  const viaSecond = login();
  const upFirst = await stack.routerUp(viaFirst);
  const upSecond = await stack.routerUp(viaSecond, { baseUrl: second.url });
  assert.equal(upFirst.body.status, 'pending');
  assert.equal(upSecond.body.status, 'pending');
  await second.waitForLog(/ppp up reported/, 5000); // the second instance served its hook

  const prompts = await Promise.all([stack.waitForPrompt(alice.id, viaFirst), stack.waitForPrompt(alice.id, viaSecond)]);
  for (const [l, prompt] of [[viaFirst, prompts[0]], [viaSecond, prompts[1]]] as const) {
    const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
    assert.match((await click.answer).text ?? '', /^Approved/);
    await eventually(`permit for ${l.address}`, () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
    await stack.waitForEdit(prompt, /Approved/);

    // Telegram delivers at least once: the same update reaching the other instance (a retry
    // behind a load balancer) is answered but decides nothing twice.
    assert.ok(click.update, 'the click became an update');
    const again = await postUpdate(second.url, click.update, secret);
    assert.equal(again.status, 200);
    await sleep(500);
    assert.equal(approvals(await stack.cli(['audit', '--limit', '200']), l), 1, 'one approval');
    const edits = stack.telegram.callsTo('editMessageText').filter((c) => c.ok && Number(c.params.message_id) === prompt.messageId);
    assert.equal(edits.length, 1, 'the outcome was written once');
    assert.equal(stack.telegram.messagesIn(alice.id).filter((m) => (m.text ?? '').includes(`session address ${l.address}`)).length, 1, 'one prompt');
  }
  await second.waitForLog(/"url":"\/telegram\/webhook"/, 5000); // the second instance took the repeated updates
});
