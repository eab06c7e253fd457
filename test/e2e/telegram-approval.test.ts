// End to end: Warden started from its entry point, set up with its CLI, driven by router hook
// calls (as the PPP profile scripts make them) against the RouterOS simulator, and by a Telegram
// user clicking buttons in the fake Bot API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BANNED, PERMIT, SANDBOX, Stack, type Login } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import type { TgUser } from '../support/fake-telegram/index.js';

let stack: Stack;
let alice: TgUser;
let mallory: TgUser;

before(async () => {
  stack = await Stack.start({ env: { MAX_UNCONFIRMED_ATTEMPTS: '2' } });
  alice = await stack.addLinkedPerson('Alice', 'alice');
  mallory = await stack.addLinkedPerson('Mallory', 'mallory');
});

after(async () => {
  await stack?.stop();
});

let next = 20;
function login(user = 'alice'): Login {
  next++;
  return { user, callerId: `203.0.113.${next}`, address: `10.8.0.${next}` };
}

test('approve: the prompt names account, router, source and address; Approve moves the address to the permit list', async () => {
  const l = login();
  const up = await stack.routerUp(l);
  assert.equal(up.status, 202);
  assert.equal(up.body.status, 'pending');
  const prompt = await stack.waitForPrompt(alice.id, l);
  assert.match(prompt.text!, /VPN login: account alice on router office from 203\.0\.113\.\d+ \(session address 10\.8\.0\.\d+\) at \d\d:\d\d/);
  const buttons = prompt.replyMarkup!.inline_keyboard.flat().map((b) => b.text);
  assert.deepEqual(buttons, ['✅ Approve', '⛔ Deny']);
  assert.ok(stack.inList(SANDBOX, l.address));
  assert.ok(!stack.inList(PERMIT, l.address));

  const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
  assert.match((await click.answer).text ?? '', /Approved/);
  await eventually('permit on the router', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
  const edited = await stack.waitForEdit(prompt, /Approved/);
  assert.equal(edited.replyMarkup, undefined, 'buttons are gone after the decision');
  assert.ok(stack.isConnected(l));
});

test('double click: two quick clicks on Approve decide once; the second is told politely', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  const [first, second] = await Promise.all([
    stack.telegram.clickButton(alice, prompt, '✅ Approve'),
    stack.telegram.clickButton(alice, prompt, '✅ Approve'),
  ]);
  const answers = [(await first.answer).text, (await second.answer).text].sort();
  assert.match(answers[0]!, /^Approved/);
  assert.match(answers[1]!, /already approved/);
  await eventually('permit', () => stack.inList(PERMIT, l.address));
  const decisions = await stack.cli(['audit', '--limit', '200']);
  assert.equal(decisions.split('\n').filter((line) => line.includes('session.approved') && line.includes(l.address)).length, 1);
});

test('deny: the source is banned on the router with a timeout and the session is disconnected', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  const click = await stack.telegram.clickButton(alice, prompt, '⛔ Deny');
  assert.match((await click.answer).text ?? '', /Denied/);
  await eventually('ban and disconnect', () => stack.inList(BANNED, l.callerId) && !stack.isConnected(l));
  const ban = stack.router.addressList(BANNED).find((e) => e.address === l.callerId)!;
  assert.ok(ban.dynamic, 'ban entry has a timeout, so the router lifts it by itself');
  assert.ok(ban.timeoutMs! > 29 * 60_000 && ban.timeoutMs! <= 30 * 60_000, `timeout ${ban.timeoutMs}`);
  assert.ok(!stack.inList(PERMIT, l.address));
  const edited = await stack.waitForEdit(prompt, /Denied/);
  assert.match(edited.text!, /banned until/);
  // The router ran its on-down script when Warden disconnected the session: lists are clean.
  await eventually('on-down cleanup', () => !stack.inList(SANDBOX, l.address));

  // A new login from the banned source is disconnected without asking anyone.
  const again = { ...l, address: `10.8.0.${++next}` };
  const up = await stack.routerUp(again);
  assert.equal(up.body.status, 'banned');
  await eventually('banned source disconnected', () => !stack.isConnected(again));

  // The operator lifts the ban; the router entry goes away.
  const bans = await stack.cli(['bans', 'list']);
  const banId = bans.split('\n').find((line) => line.includes(l.callerId))!.split(/\s+/)[0]!;
  await stack.cli(['unban', banId]);
  await eventually('ban entry removed', () => !stack.inList(BANNED, l.callerId));
});

test('timeout: no answer in time disconnects the session and the message says Expired', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  const edited = await stack.waitForEdit(prompt, /Expired/, 20_000);
  assert.equal(edited.replyMarkup, undefined);
  assert.ok(!stack.isConnected(l), 'expired session was disconnected');
  assert.ok(!stack.inList(PERMIT, l.address));
});

test('too many unconfirmed attempts in a row ban the source', async () => {
  // MAX_UNCONFIRMED_ATTEMPTS=2 in this stack; the previous test left one expired attempt for alice.
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await stack.waitForEdit(prompt, /Expired/, 20_000);
  await eventually('ban after repeated unconfirmed attempts', () => stack.inList(BANNED, l.callerId));
  const edited = stack.current(prompt);
  assert.match(edited.text!, /banned until/);
});

test('down-hook: a client that disconnects leaves no trace in the address lists', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await (await stack.telegram.clickButton(alice, prompt, '✅ Approve')).answer;
  await eventually('permit', () => stack.inList(PERMIT, l.address));
  const res = await stack.routerDown(l);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'closed');
  await eventually('lists clean', () => !stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
  await stack.waitForEdit(prompt, /Closed/);
});

test('duplicate hooks: a repeated up-hook does not prompt twice; a down before any up changes nothing', async () => {
  const l = login();
  const down = await stack.hook('down', { user: l.user, callerId: l.callerId, address: l.address });
  assert.equal(down.status, 200);
  assert.deepEqual(await down.json(), { status: 'no-session' });
  const first = await stack.routerUp(l);
  const second = await stack.hook('up', { user: l.user, callerId: l.callerId, address: l.address });
  const secondBody = (await second.json()) as { status: string; sessionId: string };
  assert.equal(secondBody.status, 'duplicate');
  assert.equal(secondBody.sessionId, first.body.sessionId);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await new Promise((r) => setTimeout(r, 1000));
  const prompts = stack.telegram.messagesIn(alice.id).filter((m) => (m.text ?? '').includes(`session address ${l.address}`));
  assert.equal(prompts.length, 1);
  await (await stack.telegram.clickButton(alice, prompt, '⛔ Deny')).answer;
});

test('a click by someone who is not the owner is refused and changes nothing', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  // The operator hands the account to Mallory while Alice's prompt is open: Alice is no longer the owner.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: stack.env.DATABASE_URL });
  await client.connect();
  await client.query(`UPDATE vpn_accounts SET person_id = (SELECT id FROM people WHERE display_name = 'Mallory') WHERE username = 'alice'`);
  try {
    const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
    const answer = await click.answer;
    assert.match(answer.text ?? '', /only the owner/);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!stack.inList(PERMIT, l.address));
    assert.ok(stack.inList(SANDBOX, l.address));
    assert.ok(stack.current(prompt).replyMarkup, 'prompt unchanged');
  } finally {
    await client.query(`UPDATE vpn_accounts SET person_id = (SELECT id FROM people WHERE display_name = 'Alice') WHERE username = 'alice'`);
    await client.end();
  }
  void mallory;
});

test('a leaked token cannot produce a prompt: claims the router does not confirm are rejected', async () => {
  const l = login();
  // No session on the router: someone with the token invents one.
  const res = await stack.hook('up', { user: l.user, callerId: l.callerId, address: l.address });
  assert.equal(res.status, 202);
  await eventually('claim rejected', async () => (await stack.cli(['audit', '--limit', '20'])).includes('login.claim-rejected'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(stack.telegram.messagesIn(alice.id).filter((m) => (m.text ?? '').includes(`session address ${l.address}`)).length, 0);
});

test('bad tokens and malformed bodies get a 4xx with a clear message and change nothing', async () => {
  const l = login();
  const valid = { user: l.user, callerId: l.callerId, address: l.address };
  const cases: Array<[string, Promise<Response>, number, RegExp]> = [
    ['wrong token', stack.hook('up', valid, { token: 'wdn_' + 'x'.repeat(43) }), 401, /wrong token/],
    ['unknown router', stack.hook('up', valid, { router: 'nowhere' }), 401, /unknown router or wrong token/],
    ['no auth header', fetch(`${stack.warden.url}/hooks/v1/routers/office/ppp/up`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(valid) }), 401, /Authorization/],
    ['bad address', stack.hook('up', { ...valid, address: '10.8.0.999' }), 400, /address: not an IP address/],
    ['bad user', stack.hook('up', { ...valid, user: 'alice"; /system reset' }), 400, /user: must be/],
    ['unknown field', stack.hook('up', { ...valid, permit: true }), 400, /unknown field/],
    ['not JSON', stack.hook('up', null, { rawBody: '{"user":' }), 400, /JSON/i],
    ['huge body', stack.hook('up', null, { rawBody: JSON.stringify({ ...valid, interface: 'x'.repeat(10_000) }) }), 413, /too large/i],
    ['unknown hook', fetch(`${stack.warden.url}/hooks/v1/routers/office/ppp/sideways`, { method: 'POST', headers: { authorization: `Bearer ${stack.hookToken}`, 'content-type': 'application/json' }, body: '{}' }), 404, /unknown hook/],
  ];
  for (const [name, pending, status, message] of cases) {
    const res = await pending;
    const body = (await res.json()) as { message: string };
    assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
    assert.match(body.message, message, name);
  }
  const sessions = await stack.cli(['sessions', 'list', '--limit', '500']);
  assert.ok(!sessions.includes(l.address), 'no session was created');
});

test('router unreachable during approval: the client stays sandboxed, and the approval applies when the link returns', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await stack.router.setRefuseConnections(true);
  stack.router.dropConnections();
  const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
  assert.match((await click.answer).text ?? '', /Approved/);
  await new Promise((r) => setTimeout(r, 2000));
  assert.ok(!stack.inList(PERMIT, l.address), 'nothing changes on an unreachable router');
  assert.ok(stack.inList(SANDBOX, l.address), 'client stays sandboxed');
  await stack.router.setRefuseConnections(false);
  await eventually('approval applied after the link returns', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address), 40_000);
});
