// End to end against the RouterOS versions Warden supports: the approve and deny flows on
// 6.42.12 (pre-6.43 challenge login), 6.49.10, 7.17 and 7.18.2 (answers an empty print with
// `!empty`), a `!fatal` from the router while a prompt is open, and an API user that may only
// read. One Stack per case, started and stopped in turn.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BANNED, PERMIT, SANDBOX, Stack, type Login } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import type { TgUser } from '../support/fake-telegram/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let next = 20;
function login(user = 'alice'): Login {
  next++;
  return { user, callerId: `203.0.113.${next}`, address: `10.11.0.${next}` };
}

/** Warden's log lines at warn level or above, as "msg: err" strings. */
function problemsInLog(stack: Stack): string[] {
  return stack.warden
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { level: number; msg: string; err?: unknown };
        if (entry.level < 40) return [];
        const err = entry.err as { message?: string } | string | undefined;
        return [`${entry.msg}: ${typeof err === 'string' ? err : (err?.message ?? '')}`];
      } catch {
        return [];
      }
    });
}

for (const version of ['6.42.12', '6.49.10', '7.17', '7.18.2']) {
  describe(`RouterOS ${version}`, () => {
    let stack: Stack;
    let alice: TgUser;

    before(async () => {
      stack = await Stack.start({ router: { version }, env: { APPROVAL_TIMEOUT_SECONDS: '20' } });
      alice = await stack.addLinkedPerson('Alice', 'alice');
    });

    after(async () => {
      await stack?.stop();
    });

    test('approve: permit on the router, out of the sandbox', async () => {
      const l = login();
      const up = await stack.routerUp(l);
      assert.equal(up.body.status, 'pending');
      const prompt = await stack.waitForPrompt(alice.id, l);
      const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
      assert.match((await click.answer).text ?? '', /^Approved/);
      await eventually('permit', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
      await stack.waitForEdit(prompt, /Approved/);
      assert.ok(stack.isConnected(l));

      // Warden logged in the way this version wants.
      const logins = stack.router.commandLog.filter((c) => c.command === '/login');
      assert.ok(logins.length > 0);
      if (version === '6.42.12') {
        assert.ok(logins.some((c) => c.words.some((w) => w.startsWith('=response='))), 'challenge-response login');
      } else {
        assert.ok(logins.every((c) => !c.words.some((w) => w.startsWith('=response='))), 'plain login');
      }
    });

    test('deny: source banned with a timeout, session disconnected, lists clean', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await stack.waitForPrompt(alice.id, l);
      const click = await stack.telegram.clickButton(alice, prompt, '⛔ Deny');
      assert.match((await click.answer).text ?? '', /^Denied/);
      await eventually('ban and disconnect', () => stack.inList(BANNED, l.callerId) && !stack.isConnected(l));
      const ban = stack.router.addressList(BANNED).find((e) => e.address === l.callerId)!;
      assert.ok(ban.dynamic && ban.timeoutMs! > 29 * 60_000, 'ban entry times out by itself');
      await stack.waitForEdit(prompt, /Denied/);
      await eventually('on-down cleanup', () => !stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address));
    });

    test('!fatal from the router while a prompt is open: Warden logs in again and the approval applies', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await stack.waitForPrompt(alice.id, l);
      const loginsBefore = stack.router.commandLog.filter((c) => c.command === '/login').length;
      stack.router.sendFatal('too many commands before login');
      // Keep Warden from logging in again until the owner has answered, so the approval is
      // certain to be decided while the link is down.
      await stack.router.setRefuseConnections(true);
      await eventually('connection closed by the router', () => stack.router.connectionCount === 0, 5000);
      const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
      assert.match((await click.answer).text ?? '', /^Approved/);
      await sleep(1500);
      assert.ok(stack.inList(SANDBOX, l.address) && !stack.inList(PERMIT, l.address), 'sandboxed while the link is down');
      await stack.router.setRefuseConnections(false);
      await eventually('permit after the link came back', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address), 30_000);
      assert.ok(stack.router.commandLog.filter((c) => c.command === '/login').length > loginsBefore, 'Warden logged in again');
      await stack.waitForEdit(prompt, /Approved/);
    });

    test('Warden did not trip over anything this version sends', async () => {
      await sleep(200);
      // The expected complaints are about the link loss the !fatal test caused.
      const expected = /^(router link down|cannot connect to router|job failed; will retry): .*(!fatal|ECONNREFUSED|not connected|connection lost)/;
      const unexpected = problemsInLog(stack).filter((p) => !expected.test(p));
      assert.deepEqual(unexpected, []);
    });
  });
}

describe('router API user with the read policy only', () => {
  let stack: Stack;
  let alice: TgUser;

  before(async () => {
    stack = await Stack.start({
      router: { users: [{ name: 'warden', password: 'router-secret', group: 'read' }] },
      env: { ROUTER_JOB_ATTEMPTS: '2', APPROVAL_TIMEOUT_SECONDS: '30' },
    });
    alice = await stack.addLinkedPerson('Alice', 'alice');
  });

  after(async () => {
    await stack?.stop();
  });

  test('the approval cannot be applied: the client stays sandboxed and the session is listed as a problem', async () => {
    const l = login();
    await stack.routerUp(l);
    const prompt = await stack.waitForPrompt(alice.id, l);
    const click = await stack.telegram.clickButton(alice, prompt, '✅ Approve');
    assert.match((await click.answer).text ?? '', /^Approved/);

    const problem = await eventually('the session among the problems', async () => {
      const out = await stack.cli(['sessions', 'list', '--problems']);
      return out.split('\n').find((line) => line.includes(l.address));
    }, 30_000);
    assert.match(problem, /\bapproved\b/);
    assert.match(problem, /\bfailed\b/);
    assert.match(problem, /not enough permissions/);
    assert.ok(stack.inList(SANDBOX, l.address), 'still sandboxed');
    assert.ok(!stack.inList(PERMIT, l.address), 'never permitted');
    assert.ok(stack.isConnected(l));
    const writes = stack.router.commandLog.filter((c) => c.command === '/ip/firewall/address-list/add' && c.user === 'warden');
    assert.ok(writes.length >= 2, 'Warden tried (and retried) to permit');
    const audit = await stack.cli(['audit', '--limit', '50']);
    assert.match(audit, /router\.sync-failed/);
  });
});
