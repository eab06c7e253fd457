// End to end, the same scenarios on Telegram and on Discord: Warden started from its entry point,
// set up with its CLI, driven by router hook calls (as the PPP profile scripts make them) against
// the RouterOS simulator and by a chat user pressing buttons in the fake Telegram / fake Discord.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BANNED, PERMIT, SANDBOX, Stack, type Login } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import type { ChatUser, Platform } from '../support/chatDrivers.js';

let stack: Stack;
let next = 20;

before(async () => {
  stack = await Stack.start({ env: { MAX_UNCONFIRMED_ATTEMPTS: '2' }, discord: true });
});

after(async () => {
  await stack?.stop();
});

for (const platform of ['telegram', 'discord'] as Platform[]) {
  describe(`${platform}: login approval`, () => {
    let owner: ChatUser;
    const account = platform === 'telegram' ? 'alice' : 'dora';
    const name = platform === 'telegram' ? 'Alice' : 'Dora';

    function login(): Login {
      next++;
      return { user: account, callerId: `203.0.113.${next}`, address: `10.8.0.${next}` };
    }

    before(async () => {
      owner = await stack.addChatUser(platform, name, account);
    });

    test('approve: the prompt names account, router, source and address; Approve moves the address to the permit list', async () => {
      const l = login();
      const up = await stack.routerUp(l);
      assert.equal(up.status, 202);
      assert.equal(up.body.status, 'pending');
      const prompt = await owner.waitForPrompt(l.address);
      assert.match(prompt.current().text, new RegExp(`VPN login: account .?${account}.? on router .?office.? from 203\\.0\\.113\\.\\d+ \\(session address 10\\.8\\.0\\.\\d+\\) at \\d\\d:\\d\\d`));
      assert.equal(prompt.current().buttons.length, 2);
      assert.ok(stack.inList(SANDBOX, l.address));
      assert.ok(!stack.inList(PERMIT, l.address));

      assert.match(await prompt.press('approve'), /Approved/);
      await eventually('permit on the router', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
      const edited = await prompt.waitFor(/Approved/);
      assert.deepEqual(edited.buttons, [], 'buttons are gone after the decision');
      assert.ok(stack.isConnected(l));
    });

    test('double click: two quick presses decide once; the second is told politely', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      const answers = (await Promise.all([prompt.press('approve'), prompt.press('approve')])).sort();
      assert.match(answers[0]!, /^Approved/);
      assert.match(answers[1]!, /already approved/);
      await eventually('permit', () => stack.inList(PERMIT, l.address));
      const audit = await stack.cli(['audit', '--limit', '300']);
      assert.equal(audit.split('\n').filter((line) => line.includes('session.approved') && line.includes(`"${l.address}"`)).length, 1);
    });

    test('deny: the source is banned on the router with a timeout and the session is disconnected', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      assert.match(await prompt.press('deny'), /Denied/);
      await eventually('ban and disconnect', () => stack.inList(BANNED, l.callerId) && !stack.isConnected(l));
      const ban = stack.router.addressList(BANNED).find((e) => e.address === l.callerId)!;
      assert.ok(ban.dynamic, 'ban entry has a timeout, so the router lifts it by itself');
      assert.ok(ban.timeoutMs! > 29 * 60_000 && ban.timeoutMs! <= 30 * 60_000, `timeout ${ban.timeoutMs}`);
      assert.ok(!stack.inList(PERMIT, l.address));
      const edited = await prompt.waitFor(/Denied/);
      assert.match(edited.text, /banned until/);
      await eventually('on-down cleanup', () => !stack.inList(SANDBOX, l.address));

      // A new login from the banned source is disconnected without asking anyone.
      const again = { ...l, address: `10.8.0.${++next}` };
      const up = await stack.routerUp(again);
      assert.equal(up.body.status, 'banned');
      await eventually('banned source disconnected', () => !stack.isConnected(again));
      assert.equal(owner.promptsFor(again.address), 0);

      // The operator lifts the ban; the router entry goes away.
      const bans = await stack.cli(['bans', 'list']);
      const banId = bans.split('\n').find((line) => line.includes(l.callerId))!.split(/\s+/)[0]!;
      await stack.cli(['unban', banId]);
      await eventually('ban entry removed', () => !stack.inList(BANNED, l.callerId));
    });

    test('timeout: no answer in time disconnects the session and the message says Expired', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      const edited = await prompt.waitFor(/Expired/, 20_000);
      assert.deepEqual(edited.buttons, []);
      assert.ok(!stack.isConnected(l), 'expired session was disconnected');
      assert.ok(!stack.inList(PERMIT, l.address));
    });

    test('too many unconfirmed attempts in a row ban the source', async () => {
      // MAX_UNCONFIRMED_ATTEMPTS=2 in this stack; the previous test left one expired attempt.
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      await prompt.waitFor(/Expired/, 20_000);
      await eventually('ban after repeated unconfirmed attempts', () => stack.inList(BANNED, l.callerId));
      await prompt.waitFor(/banned until/);
    });

    test('down-hook: a client that disconnects leaves no trace in the address lists', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      await prompt.press('approve');
      await eventually('permit', () => stack.inList(PERMIT, l.address));
      const res = await stack.routerDown(l);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { status: string }).status, 'closed');
      await eventually('lists clean', () => !stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address));
      await prompt.waitFor(/Closed/);
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
      const prompt = await owner.waitForPrompt(l.address);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(owner.promptsFor(l.address), 1);
      await prompt.press('deny');
    });

    test('a press by someone who is not the owner is refused and changes nothing', async () => {
      const l = login();
      await stack.routerUp(l);
      const prompt = await owner.waitForPrompt(l.address);
      // The operator hands the account to someone else while the prompt is open: the presser is
      // no longer the owner.
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: stack.env.DATABASE_URL });
      await client.connect();
      await client.query(`INSERT INTO people (id, display_name) VALUES (gen_random_uuid(), 'Other ${platform}')`);
      await client.query(`UPDATE vpn_accounts SET person_id = (SELECT id FROM people WHERE display_name = 'Other ${platform}') WHERE username = $1`, [account]);
      try {
        assert.match(await prompt.press('approve'), /only the owner/);
        await new Promise((r) => setTimeout(r, 500));
        assert.ok(!stack.inList(PERMIT, l.address));
        assert.ok(stack.inList(SANDBOX, l.address));
        assert.equal(prompt.current().buttons.length, 2, 'prompt unchanged');
      } finally {
        await client.query(`UPDATE vpn_accounts SET person_id = (SELECT id FROM people WHERE display_name = $1) WHERE username = $2`, [name, account]);
        await client.end();
      }
      // The real owner can still decide it.
      assert.match(await prompt.press('deny'), /Denied/);
    });
  });
}

describe('router hooks', () => {
  test('a leaked token cannot produce a prompt: claims the router does not confirm are rejected', async () => {
    const l = { user: 'alice', callerId: '198.51.100.200', address: '10.8.9.1' };
    // No session on the router: someone with the token invents one.
    const res = await stack.hook('up', l);
    assert.equal(res.status, 202);
    await eventually('claim rejected', async () => (await stack.cli(['audit', '--limit', '50'])).includes('login.claim-rejected'));
    const sessions = await stack.cli(['sessions', 'list', '--limit', '500']);
    assert.match(sessions.split('\n').find((line) => line.includes(l.address)) ?? '', /closed.*not-active-on-router/);
  });

  test('bad tokens and malformed bodies get a 4xx with a clear message and change nothing', async () => {
    const valid = { user: 'alice', callerId: '198.51.100.201', address: '10.8.9.2' };
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
    for (const [label, pending, status, message] of cases) {
      const res = await pending;
      const body = (await res.json()) as { message: string };
      assert.equal(res.status, status, `${label}: ${JSON.stringify(body)}`);
      assert.match(body.message, message, label);
    }
    const sessions = await stack.cli(['sessions', 'list', '--limit', '500']);
    assert.ok(!sessions.includes(valid.address), 'no session was created');
  });

  test('router unreachable during approval: the client stays sandboxed, and the approval applies when the link returns', async () => {
    const owner = await stack.addChatUser('telegram', 'Rita', 'rita');
    const l = { user: 'rita', callerId: '198.51.100.202', address: '10.8.9.3' };
    await stack.routerUp(l);
    const prompt = await owner.waitForPrompt(l.address);
    await stack.router.setRefuseConnections(true);
    stack.router.dropConnections();
    assert.match(await prompt.press('approve'), /Approved/);
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(!stack.inList(PERMIT, l.address), 'nothing changes on an unreachable router');
    assert.ok(stack.inList(SANDBOX, l.address), 'client stays sandboxed');
    await stack.router.setRefuseConnections(false);
    await eventually('approval applied after the link returns', () => stack.inList(PERMIT, l.address) && !stack.inList(SANDBOX, l.address), 40_000);
  });
});
