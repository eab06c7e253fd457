// End to end, on Telegram and on Discord: an invite code → signup in the bot → the device is
// created on the router (RouterOS simulator) → the configuration arrives privately (.conf file and
// a QR code that decodes to exactly that file) → more devices, resend, rotate, remove.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PERMIT, SANDBOX, Stack } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import { decodeQrPng } from '../support/qr.js';
import type { ChatUser, Platform } from '../support/chatDrivers.js';
import { DiscordUser, TelegramUser } from '../support/chatDrivers.js';
import { parseWireguardConf } from '../../src/provisioning/clientConfig.js';
import { publicKeyFromPrivate } from '../../src/router/wireguardKeys.js';

let stack: Stack;
let serverPublicKey: string;

before(async () => {
  stack = await Stack.start({ discord: true, env: { DEVICE_LIMIT: '2', WIREGUARD_POLL_SECONDS: '2' }, router: { version: '7.18.2', users: [{ name: 'warden', password: 'router-secret', group: 'full' }] } });
  serverPublicKey = stack.router.addWireguardInterface({ name: 'wg-warden', listenPort: 13231 }).publicKey;
  await stack.cli(['router', 'set', 'office', '--vpn-host', 'vpn.example.net', '--wg-interface', 'wg-warden', '--wg-pool', '10.66.0.0/24', '--wg-dns', '10.66.0.1', '--ppp-service', 'sstp']);
});

after(async () => {
  await stack?.stop();
});

function newUser(platform: Platform, name: string): ChatUser {
  return platform === 'telegram' ? new TelegramUser(stack.telegram, name) : new DiscordUser(stack.discordFake!, name);
}

for (const platform of ['telegram', 'discord'] as Platform[]) {
  describe(`${platform}: signup and devices`, () => {
    const name = platform === 'telegram' ? 'Wanda' : 'Wes';
    let user: ChatUser;

    test('an invite code signs the user up; the WireGuard config arrives as a .conf and a QR code of exactly that file', async () => {
      const invite = await stack.cli(['invite', 'create', '--router', 'office', '--uses', '1']);
      const code = /invite code: (\S+)/.exec(invite)![1]!;
      user = newUser(platform, name);
      if (platform === 'telegram') await user.command('start');
      const answer = await user.command('signup', { code });
      assert.match(answer, new RegExp(`Welcome, ${name}`));

      const files = await eventually('config files', () => (user.files().length >= 2 ? user.files() : undefined), 30_000);
      const conf = files.find((f) => f.kind === 'document')!;
      const qr = files.find((f) => f.kind === 'photo')!;
      assert.equal(conf.filename, 'warden-phone.conf');
      const text = conf.bytes.toString('utf8');
      assert.equal(decodeQrPng(qr.bytes), text, 'the QR code decodes to exactly the config file');

      const parsed = parseWireguardConf(text);
      const peer = stack.router.wireguardPeers().find((p) => p.publicKey === publicKeyFromPrivate(parsed.privateKey));
      assert.ok(peer, 'the router has a peer for the key in the file');
      assert.equal(peer.interface, 'wg-warden');
      assert.equal(parsed.serverPublicKey, serverPublicKey);
      assert.equal(parsed.endpoint, 'vpn.example.net:13231');
      assert.deepEqual(peer.allowedAddress, [parsed.address]);
      assert.match(parsed.address, /^10\.66\.0\.\d+\/32$/);
      assert.equal(parsed.presharedKey !== undefined, true);
      assert.ok(user.texts().some((t) => /WireGuard configuration/.test(t)));
      // The same invite cannot be used twice.
      const other = newUser(platform, `${name}2`);
      if (platform === 'telegram') await other.command('start');
      assert.match(await other.command('signup', { code }), /not valid/);
    });

    test('a WireGuard handshake is gated like a PPP login: sandboxed, prompted, permitted on Approve', async () => {
      const conf = parseWireguardConf(user.files().find((f) => f.kind === 'document')!.bytes.toString('utf8'));
      const publicKey = publicKeyFromPrivate(conf.privateKey);
      const address = conf.address.replace('/32', '');
      const endpoint = platform === 'telegram' ? '198.51.100.77' : '198.51.100.78';
      stack.router.wireguardHandshake(publicKey, { endpointAddress: endpoint, endpointPort: 51820 });
      const prompt = await user.waitForPrompt(address, 20_000);
      assert.match(prompt.current().text, new RegExp(`phone \\(WireGuard\\).? on router .?office.? from ${endpoint.replace(/\./g, '\\.')}`));
      assert.ok(stack.inList(SANDBOX, address), 'sandboxed while waiting');
      assert.ok(!stack.inList(PERMIT, address));
      assert.match(await prompt.press('approve'), /Approved/);
      await eventually('permitted', () => stack.inList(PERMIT, address) && !stack.inList(SANDBOX, address));
    });

    test('a PPP device gets a secret on the router and the credentials with setup steps, privately', async () => {
      assert.match(await user.command('adddevice', { kind: 'ppp', name: 'laptop' }), /Creating PPP device "laptop"/);
      const instructions = await eventually('PPP instructions', () => user.texts().find((t) => /SSTP/i.test(t) && /vpn\.example\.net/.test(t)), 30_000);
      const secret = stack.router.pppSecrets().find((s) => instructions.includes(s.name));
      assert.ok(secret, 'the secret named in the message exists on the router');
      assert.ok(instructions.includes(secret.password), 'the password on the router is the one sent');
      assert.ok(secret.password.length >= 20);
      assert.match(await user.command('adddevice', { kind: 'wireguard', name: 'tablet' }), /device limit reached \(2\)/);
    });

    test('/devices lists them; /config sends again; /rotate makes new keys and the old peer disappears', async () => {
      const list = await user.command('devices');
      assert.match(list, /phone — WireGuard 10\.66\.0\.\d+ on office/);
      assert.match(list, /laptop — PPP user \S+ on office/);

      const before = user.files().length;
      assert.match(await user.command('config', { name: 'phone' }), /Sending the configuration of "phone" again/);
      await eventually('resent files', () => user.files().length >= before + 2, 30_000);

      const oldKey = publicKeyFromPrivate(parseWireguardConf(user.files().at(-2)!.bytes.toString('utf8')).privateKey);
      assert.match(await user.command('rotate', { name: 'phone' }), /New keys for "phone"/);
      await eventually('rotated files', () => user.files().length >= before + 4, 30_000);
      const newConf = parseWireguardConf(user.files().filter((f) => f.kind === 'document').at(-1)!.bytes.toString('utf8'));
      const newKey = publicKeyFromPrivate(newConf.privateKey);
      assert.notEqual(newKey, oldKey);
      await eventually('old peer removed, new peer present', () => {
        const keys = stack.router.wireguardPeers().map((p) => p.publicKey);
        return !keys.includes(oldKey) && keys.includes(newKey);
      });
    });

    test('/remove asks first; Remove deletes the device from the router', async () => {
      const secretsBefore = stack.router.pppSecrets().length;
      assert.match(await user.command('remove', { name: 'laptop' }), /Remove device "laptop"\?/);
      assert.match(await user.pressLatest('Remove'), /Removing "laptop"/);
      await eventually('secret removed from the router', () => stack.router.pppSecrets().length === secretsBefore - 1);
      assert.doesNotMatch(await user.command('devices'), /laptop/);
    });
  });
}

describe('signup requests', () => {
  test('without an invite, the request goes to the admins; an admin approves it with a button', async () => {
    const fake = stack.telegram;
    const adminUser = fake.createUser({ first_name: 'Admin', username: 'admin' });
    // Admins are configured by id; restart Warden with this admin.
    await stack.restartWarden({ WARDEN_ADMINS: `telegram:${adminUser.id}` });
    fake.userSends(adminUser, '/start');
    const requester = new TelegramUser(fake, 'Newcomer');
    await requester.command('start');
    assert.match(await requester.command('signup'), /sent to the admins/);
    const prompt = await stack.waitForMessage(adminUser.id, (m) => /Signup request: Newcomer/.test(m.text ?? ''));
    const click = await fake.clickButton(adminUser, prompt, 'Approve');
    assert.equal((await click.answer).text, 'Approved.');
    await eventually('requester told', () => requester.texts().some((t) => /signup was approved/.test(t)));
    await stack.waitForMessage(adminUser.id, (m) => /Approved by telegram:/.test(m.text ?? ''));
    // The newcomer is a member now.
    assert.match(await requester.command('devices'), /No devices yet/);
  });
});
