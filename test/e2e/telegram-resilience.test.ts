// End to end: Telegram misbehaving (flood control, 5xx, lost answers, a full outage) and Warden
// restarting while a prompt is open. Warden runs from its entry point against the fake Bot API
// and the RouterOS simulator; faults are injected into the fake between the steps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PERMIT, SANDBOX, Stack, type Login } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import type { ApiCall, FakeMessage, TgUser } from '../support/fake-telegram/index.js';

let stack: Stack;
let alice: TgUser;
let db: pg.Client;

// Long enough for a prompt to survive a few seconds of Telegram trouble; the restart test that
// needs a deadline to pass runs a Warden with a shorter one.
const APPROVAL_TIMEOUT_SECONDS = 25;

before(async () => {
  stack = await Stack.start({ env: { APPROVAL_TIMEOUT_SECONDS: String(APPROVAL_TIMEOUT_SECONDS) } });
  alice = await stack.addLinkedPerson('Alice', 'alice');
  db = new pg.Client({ connectionString: stack.env.DATABASE_URL });
  await db.connect();
});

after(async () => {
  await db?.end();
  await stack?.stop();
});

let next = 20;
function login(user = 'alice'): Login {
  next++;
  return { user, callerId: `198.51.100.${next}`, address: `10.9.0.${next}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every bot message in Alice's chat that is about this login (prompts, in any state). */
function promptsFor(l: Login): FakeMessage[] {
  return stack.telegram.messagesIn(alice.id).filter((m) => (m.text ?? '').includes(`session address ${l.address}`));
}

/** sendMessage calls that carried the prompt for this login, successful or not, in order. */
function promptSends(l: Login): ApiCall[] {
  return stack.telegram.callsTo('sendMessage').filter((c) => String(c.params.text ?? '').includes(`session address ${l.address}`));
}

/** The prompts Warden recorded for this login's session (the messages it will edit). */
async function recordedPrompts(l: Login): Promise<Array<{ chat_id: string; message_id: string; rendered_state: string }>> {
  const { rows } = await db.query(
    `SELECT p.chat_id, p.message_id, p.rendered_state FROM session_prompts p
     JOIN connection_sessions s ON s.id = p.session_id WHERE s.session_address = $1 ORDER BY p.created_at`,
    [l.address],
  );
  return rows as Array<{ chat_id: string; message_id: string; rendered_state: string }>;
}

async function sessionState(l: Login): Promise<string | undefined> {
  const { rows } = await db.query(`SELECT state FROM connection_sessions WHERE session_address = $1 ORDER BY created_at DESC LIMIT 1`, [l.address]);
  return (rows[0] as { state: string } | undefined)?.state;
}

async function approveAndExpectPermit(l: Login, prompt: FakeMessage): Promise<void> {
  const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
  assert.match((await click.answer).text ?? '', /^Approved/);
  await eventually('permit on the router', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
}

test('429 on the prompt: Warden waits retry_after, then the prompt arrives exactly once and Approve works', async () => {
  const l = login();
  stack.telegram.failNext('sendMessage', { code: 429, retryAfter: 2 });
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);

  const sends = promptSends(l);
  assert.equal(sends[0]?.httpStatus, 429, 'the first attempt met flood control');
  const delivered = sends.find((c) => c.ok);
  assert.ok(delivered, 'a later attempt was delivered');
  const waited = delivered.at - sends[0]!.at;
  assert.ok(waited >= 1900, `Warden honoured retry_after=2 (waited ${waited} ms)`);

  await sleep(1500); // a stray retry would show up by now
  assert.equal(promptsFor(l).length, 1, 'exactly one prompt');
  assert.equal(promptSends(l).filter((c) => c.ok).length, 1);
  assert.ok(stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address), 'sandboxed until the owner answers');

  await approveAndExpectPermit(l, prompt);
  await stack.waitForEdit(prompt, /Approved/);
});

test('502 then 500 on the prompt: it arrives later, exactly once', async () => {
  const l = login();
  stack.telegram.failNext('sendMessage', { code: 502 });
  stack.telegram.failNext('sendMessage', { code: 500 });
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await sleep(1500);
  assert.deepEqual(promptSends(l).map((c) => c.httpStatus), [502, 500, 200]);
  assert.equal(promptsFor(l).length, 1, 'exactly one prompt');
  assert.equal((await recordedPrompts(l)).length, 1);
  await approveAndExpectPermit(l, prompt);
  await stack.waitForEdit(prompt, /Approved/);
});

// Telegram delivered the prompt but the connection dropped before its answer reached Warden.
// Telegram's sendMessage has no idempotency key, so Warden cannot tell this apart from a send
// that never arrived; it retries and the owner gets the prompt twice. That is the right trade:
// not retrying would leave the owner without any prompt whenever a send really failed. Both
// copies carry the same decision token, so either one decides; Warden edits the copy it recorded.
async function duplicatePrompt(l: Login): Promise<{ orphan: FakeMessage; recorded: FakeMessage }> {
  stack.telegram.failNext('sendMessage', { network: 'close', afterEffect: true });
  await stack.routerUp(l);
  await eventually('the prompt twice', () => promptsFor(l).length >= 2);
  await sleep(1500);
  const copies = promptsFor(l);
  assert.equal(copies.length, 2, 'one retry, not more');
  assert.deepEqual(promptSends(l).map((c) => c.httpStatus), [0, 200], 'the first answer was lost, the retry succeeded');
  const recorded = await recordedPrompts(l);
  assert.equal(recorded.length, 1, 'Warden knows about the copy whose answer it got');
  const [first, second] = copies as [FakeMessage, FakeMessage];
  assert.equal(recorded[0]!.message_id, String(second.messageId));
  assert.deepEqual(first.replyMarkup, second.replyMarkup, 'both copies carry the same buttons');
  return { orphan: first, recorded: second };
}

test('lost answer to sendMessage: a second prompt is sent; Approve on the copy Warden never heard of still decides', async () => {
  const l = login();
  const { orphan, recorded } = await duplicatePrompt(l);
  assert.ok(stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address));
  await approveAndExpectPermit(l, orphan);
  await stack.waitForEdit(recorded, /Approved/);
  assert.equal(stack.current(recorded).replyMarkup, undefined, 'the recorded copy lost its buttons');
  const decisions = await stack.cli(['audit', '--limit', '50']);
  assert.equal(decisions.split('\n').filter((line) => line.includes('session.approved') && line.includes(l.address)).length, 1);
});

test('lost answer to sendMessage: Deny on the recorded copy decides; the other copy then answers "already denied"', async () => {
  const l = login();
  const { orphan, recorded } = await duplicatePrompt(l);
  const click = await stack.telegram.clickButton(alice, recorded, '⛔ Deny');
  assert.match((await click.answer).text ?? '', /^Denied/);
  await stack.waitForEdit(recorded, /Denied/);
  await eventually('disconnected', () => !stack.isConnected(l));
  // The orphan copy still shows its buttons (Warden has no record of it); they are harmless.
  const late = await stack.telegram.clickButton(alice, orphan, '✅ Approve');
  assert.match((await late.answer).text ?? '', /already denied/);
  await sleep(500);
  assert.ok(!stack.inList(PERMIT, l.address));
  assert.equal(await sessionState(l), 'denied');
});

test('429 on the outcome edit: the message still ends up showing Approved', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  const editsBefore = stack.telegram.callsTo('editMessageText').length;
  stack.telegram.failNext('editMessageText', { code: 429, retryAfter: 2 });
  await approveAndExpectPermit(l, prompt);
  const edited = await stack.waitForEdit(prompt, /Approved/);
  assert.equal(edited.replyMarkup, undefined);
  const edits = stack.telegram.callsTo('editMessageText').slice(editsBefore);
  assert.equal(edits[0]?.httpStatus, 429);
  const done = edits.find((c) => c.ok);
  assert.ok(done && done.at - edits[0]!.at >= 1900, 'the edit waited for retry_after');
  assert.equal((await recordedPrompts(l))[0]?.rendered_state, 'approved');
});

test('Telegram down (every call 502) while a login arrives: the client stays sandboxed; the prompt arrives after recovery', async () => {
  const l = login();
  const callsBefore = stack.telegram.calls.length;
  stack.telegram.failNext('*', { code: 502 }, 1_000_000);
  stack.telegram.disconnectAll(); // the long poll in progress goes down with it
  try {
    await stack.routerUp(l);
    await eventually('Warden retrying the prompt', () => promptSends(l).length >= 3);
    // Polling meets the outage too (telegraf retries it every 5 s); let it.
    await eventually('a failed poll', () => stack.telegram.calls.slice(callsBefore).some((c) => c.method === 'getUpdates' && c.httpStatus === 502));
    assert.equal(promptsFor(l).length, 0, 'nothing got through');
    assert.equal(await sessionState(l), 'pending');
    assert.ok(stack.inList(SANDBOX, l.address), 'client sandboxed while Telegram is down');
    assert.ok(!stack.inList(PERMIT, l.address), 'and not permitted');
    assert.ok(stack.isConnected(l));
  } finally {
    stack.telegram.clearFaults();
  }
  const prompt = await stack.waitForPrompt(alice.id, l, 40_000);
  assert.equal(promptsFor(l).length, 1);
  await approveAndExpectPermit(l, prompt);
  await stack.waitForEdit(prompt, /Approved/);
});

test('Telegram hanging (no answers, then every connection dropped): the prompt arrives once it answers again', async () => {
  const l = login();
  stack.telegram.setDelay(10 * 60_000);
  stack.telegram.disconnectAll(); // the long poll in progress goes too
  try {
    await stack.routerUp(l);
    await sleep(3000);
    assert.equal(promptsFor(l).length, 0);
    assert.ok(stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address), 'client sandboxed while Telegram hangs');
  } finally {
    stack.telegram.clearFaults();
    stack.telegram.disconnectAll(); // the requests stuck in the delay fail as a network error
  }
  const prompt = await stack.waitForPrompt(alice.id, l, 40_000);
  await sleep(1000);
  assert.equal(promptsFor(l).length, 1, 'exactly one prompt');
  await approveAndExpectPermit(l, prompt);
  await stack.waitForEdit(prompt, /Approved/);
});

test('Warden restarted while a prompt is open: Approve after the restart still works', async () => {
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await stack.restartWarden();
  await approveAndExpectPermit(l, prompt);
  const edited = await stack.waitForEdit(prompt, /Approved/);
  assert.equal(edited.replyMarkup, undefined);
});

test('Warden down past a prompt\'s deadline: on its return the session is expired, disconnected, the message says Expired', async () => {
  // A short deadline for this one login (sessions keep the deadline they were created with).
  const shortTimeout = 5;
  await stack.restartWarden({ APPROVAL_TIMEOUT_SECONDS: String(shortTimeout) });
  const l = login();
  await stack.routerUp(l);
  const prompt = await stack.waitForPrompt(alice.id, l);
  await stack.warden.stop();
  await sleep(shortTimeout * 1000 + 1500);
  assert.ok(stack.isConnected(l), 'nobody disconnected it while Warden was down');
  assert.ok(stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address));
  assert.equal(await sessionState(l), 'pending');
  await stack.restartWarden();
  const edited = await stack.waitForEdit(prompt, /Expired/);
  assert.equal(edited.replyMarkup, undefined);
  await eventually('expired session disconnected', () => !stack.isConnected(l));
  assert.ok(!stack.inList(PERMIT, l.address));
  assert.equal(await sessionState(l), 'expired');
  await eventually('lists clean after the on-down script', () => !stack.inList(SANDBOX, l.address));
});
