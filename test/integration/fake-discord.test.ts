// Runs the real, unmodified discord.js against the fake Discord: proves the fake speaks the
// REST and gateway protocol discord.js expects, and that it is as strict as discord.com where
// the product depends on it (interaction windows, error codes, form-body limits, uploads,
// rate limits, reconnects and resumes).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  MessageType,
  Partials,
  PermissionFlagsBits,
  Routes,
  TextChannel,
  ThreadAutoArchiveDuration,
  ChannelType,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ClientOptions,
  type Interaction,
  type Message,
  type ThreadChannel,
  type User,
} from 'discord.js';
import {
  DEFAULT_PERMISSIONS,
  FakeDiscord,
  PERMISSIONS,
  type DiscordUser,
  type FakeDiscordOptions,
  type FakeGuild,
  type GuildTextChannel,
} from '../support/fake-discord/index.js';

// A valid 1x1 PNG.
const PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Asserts a DiscordAPIError with exactly this HTTP status, JSON code and message. */
function apiError(status: number, code: number, message: string) {
  return (error: unknown): true => {
    assert.ok(error instanceof DiscordAPIError, `expected a DiscordAPIError, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    assert.equal((error.rawError as { message: string }).message, message);
    return true;
  };
}

/** Asserts 50035 Invalid Form Body with one error at `path` (as discord.js prints it) with `fieldCode`. */
function formError(path: string, fieldCode: string, fieldMessage: string) {
  return (error: unknown): true => {
    apiError(400, 50035, 'Invalid Form Body')(error);
    assert.match((error as Error).message, new RegExp(`${path.replace(/[.[\]]/g, '\\$&')}\\[${fieldCode}\\]: ${fieldMessage.replace(/[.()]/g, '\\$&')}`));
    return true;
  };
}

const approvalRow = (): ActionRowBuilder<ButtonBuilder> =>
  new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId('approve:42').setLabel('Approve').setStyle(ButtonStyle.Success),
    new ButtonBuilder().setCustomId('deny:42').setLabel('Deny').setStyle(ButtonStyle.Danger),
    new ButtonBuilder().setURL('https://example.com/help').setLabel('Help').setStyle(ButtonStyle.Link),
  );

interface Harness {
  fake: FakeDiscord;
  client: Client;
  alice: DiscordUser;
  /** discord.js's view of alice. */
  aliceUser: User;
  /** Registers an interaction handler; errors it throws fail the test instead of escaping. */
  onInteraction: (handler: (interaction: Interaction) => Promise<void>) => void;
  /** Starts another logged-in client on the same fake (destroyed after the test). */
  login: (options?: Partial<ClientOptions>) => Promise<Client>;
}

async function harness(t: TestContext, options: FakeDiscordOptions = {}, clientOptions: Partial<ClientOptions> = {}): Promise<Harness> {
  const fake = await FakeDiscord.start(options);
  const clients: Client[] = [];
  const handlerErrors: unknown[] = [];
  t.after(async () => {
    for (const client of clients) await client.destroy();
    await fake.stop();
    assert.deepEqual(handlerErrors, [], 'interaction handlers threw');
  });
  const login = async (extra: Partial<ClientOptions> = {}): Promise<Client> => {
    const client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages],
      partials: [Partials.Channel],
      rest: { api: fake.restRoot },
      ...extra,
    });
    clients.push(client);
    await Promise.all([once(client, Events.ClientReady), client.login(fake.token)]);
    return client;
  };
  const client = await login(clientOptions);
  const alice = fake.createUser({ username: 'alice', global_name: 'Alice' });
  const aliceUser = await client.users.fetch(alice.id);
  const onInteraction = (handler: (interaction: Interaction) => Promise<void>): void => {
    client.on(Events.InteractionCreate, (interaction) => {
      handler(interaction).catch((error: unknown) => handlerErrors.push(error));
    });
  };
  return { fake, client, alice, aliceUser, onInteraction, login };
}

test('login: discord.js fetches /gateway/bot, identifies and becomes ready', async (t) => {
  const { fake, client } = await harness(t);
  assert.equal(client.user?.id, fake.botUser.id);
  assert.equal(client.user?.bot, true);
  assert.equal(client.application?.id, fake.applicationId);
  const application = await client.application!.fetch(); // GET /applications/@me
  assert.equal(application.name, 'Warden Test');
  assert.equal(application.botPublic, false);
  assert.equal(fake.callsTo('GET', '/gateway/bot')[0]?.status, 200);
  assert.deepEqual(
    fake.gatewayLog.map((event) => event.kind),
    ['connect', 'identify'],
  );
  assert.equal(fake.sessions.length, 1);
  assert.equal(fake.sessions[0]!.intents, GatewayIntentBits.Guilds | GatewayIntentBits.DirectMessages);

  // A wrong token fails on GET /gateway/bot (401), which discord.js reports as TokenInvalid.
  const impostor = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restRoot } });
  await assert.rejects(impostor.login('not-the-token'), (error: Error & { code?: string }) => error.code === 'TokenInvalid');
  await impostor.destroy();
  // Privileged intents are off for a new app: IDENTIFY with MessageContent is closed with 4014.
  const greedy = new Client({ intents: [GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent], rest: { api: fake.restRoot } });
  await assert.rejects(greedy.login(fake.token), /disallowed intents/i);
  await greedy.destroy();
  await fake.waitFor(() => fake.gatewayLog.some((event) => event.kind === 'close' && event.code === 4014 && event.by === 'server'));
  const unauthorized = await fetch(`${fake.restRoot}/v10/users/@me`);
  assert.equal(unauthorized.status, 401);
  assert.deepEqual(await unauthorized.json(), { message: '401: Unauthorized', code: 0 });
});

test('a DM with an Approve/Deny row; a click reaches the handler and update() edits the message (type 7)', async (t) => {
  const { fake, client, alice, aliceUser, onInteraction } = await harness(t);
  const seen: ButtonInteraction[] = [];
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    seen.push(interaction);
    await interaction.update({ content: `Approved by ${interaction.user.username}`, components: [] });
  });

  const sent = await aliceUser.send({ content: 'New VPN login from 203.0.113.7 — approve?', components: [approvalRow()] });
  const dm = fake.dmChannelOf(alice);
  assert.ok(dm !== undefined);
  assert.equal(sent.channelId, dm.id);
  const stored = fake.messagesIn(dm.id)[0]!;
  assert.equal(stored.id, sent.id);
  assert.deepEqual(
    stored.components[0]!.components.map((button) => [button.id, button.custom_id ?? button.url, button.style]),
    [
      [2, 'approve:42', 3],
      [3, 'deny:42', 4],
      [4, 'https://example.com/help', 5],
    ],
  );
  await assert.rejects(fake.clickButton(alice, stored, 'Help'), /link button/);

  const click = await fake.clickButton(alice, stored, 'Approve');
  const ack = await click.acknowledged;
  assert.equal(ack.type, 7);
  assert.equal(seen.length, 1);
  const interaction = seen[0]!;
  assert.equal(interaction.customId, 'approve:42');
  assert.equal(interaction.user.id, alice.id);
  assert.equal(interaction.message.id, sent.id);
  assert.equal(interaction.channel?.isDMBased(), true);
  assert.equal(interaction.context, 1);

  assert.equal(stored.content, 'Approved by alice');
  assert.deepEqual(stored.components, []);
  assert.equal(stored.history.length, 1);
  assert.equal(stored.history[0]!.content, 'New VPN login from 203.0.113.7 — approve?');
  assert.ok(stored.editedAt !== null);
  // The buttons are gone from the current message, so they cannot be clicked again.
  await assert.rejects(fake.clickButton(alice, stored, 'approve:42'), /has no button/);

  // A DM from the user arrives as MESSAGE_CREATE (DIRECT_MESSAGES intent; DMs carry content).
  const incoming = once(client, Events.MessageCreate, { signal: AbortSignal.timeout(2000) });
  fake.userSends(alice, 'thanks!');
  const [received] = (await incoming) as [Message];
  assert.equal(received.author.id, alice.id);
  assert.equal(received.content, 'thanks!');
  assert.equal(received.channelId, dm.id);
});

test('deferUpdate() then editReply() edits the clicked message through the interaction webhook', async (t) => {
  const { fake, alice, aliceUser, onInteraction } = await harness(t);
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    await interaction.deferUpdate();
    await sleep(20);
    const disabled = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('approve:42').setLabel('Approved').setStyle(ButtonStyle.Success).setDisabled(true),
    );
    await interaction.editReply({ content: 'Access granted for 8 h', components: [disabled] });
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  const click = await fake.clickButton(alice, sent.id, 'Deny');
  assert.equal((await click.acknowledged).type, 6);
  const stored = await fake.waitFor(() => {
    const message = fake.message(sent.id);
    return message?.content === 'Access granted for 8 h' ? message : undefined;
  });
  assert.equal(fake.callsTo('PATCH', '/webhooks/:app/:token/messages/@original').length, 1);
  await assert.rejects(fake.clickButton(alice, stored, 'Approved'), /disabled/);
});

test('acknowledging an interaction twice answers 400 / 40060', async (t) => {
  const { fake, alice, aliceUser, client, onInteraction } = await harness(t);
  let second: unknown;
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    await interaction.deferUpdate();
    try {
      await client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), { body: { type: 7, data: { content: 'x' } }, auth: false });
    } catch (error) {
      second = error;
    }
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  await (await fake.clickButton(alice, sent.id, 'Approve')).acknowledged;
  await fake.waitFor(() => second !== undefined);
  apiError(400, 40060, 'Interaction has already been acknowledged.')(second);
});

test('an acknowledgement after the window answers 404 / 10062 Unknown interaction', async (t) => {
  const { fake, alice, aliceUser, onInteraction } = await harness(t, { interactionAckWindowMs: 150 });
  let late: unknown;
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    await sleep(300);
    await interaction.deferUpdate().catch((error: unknown) => {
      late = error;
    });
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  const click = await fake.clickButton(alice, sent.id, 'Approve');
  await assert.rejects(click.acknowledged, /not acknowledged within 150 ms/);
  await fake.waitFor(() => late !== undefined);
  apiError(404, 10062, 'Unknown interaction')(late);
});

test('DMs to a user who closed them answer 403 / 50007', async (t) => {
  const { fake, client } = await harness(t);
  const bob = fake.createUser({ username: 'bob' });
  fake.closeDms(bob);
  const bobUser = await client.users.fetch(bob.id);
  await assert.rejects(bobUser.send('Your VPN login needs approval'), apiError(403, 50007, 'Cannot send messages to this user'));
  // The DM channel itself opens; only the message is refused, as on Discord.
  assert.ok(fake.dmChannelOf(bob) !== undefined);
  assert.deepEqual(fake.messagesIn(fake.dmChannelOf(bob)!.id), []);
  await assert.rejects(client.users.fetch('1234567890123456789'), apiError(404, 10013, 'Unknown User'));
});

test('message limits answer 50035 Invalid Form Body with Discord’s error tree', async (t) => {
  const { fake, alice, aliceUser, client } = await harness(t);
  await aliceUser.send('hi');
  const dm = fake.dmChannelOf(alice)!;
  const post = (body: unknown) => client.rest.post(Routes.channelMessages(dm.id), { body });

  await assert.rejects(aliceUser.send('x'.repeat(2001)), formError('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.'));
  await aliceUser.send('é'.repeat(2000)); // limits count characters, not bytes
  await assert.rejects(
    post({ components: [{ type: 1, components: [{ type: 2, style: 1, label: 'Approve' }] }] }),
    formError('components[0].components[0].custom_id', 'BUTTON_COMPONENT_CUSTOM_ID_REQUIRED', 'A custom id is required'),
  );
  await assert.rejects(
    post({ components: [{ type: 1, components: [{ type: 2, style: 1, label: 'x'.repeat(81), custom_id: 'a' }] }] }),
    formError('components[0].components[0].label', 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.'),
  );
  await assert.rejects(
    post({ components: [{ type: 1, components: [{ type: 2, style: 1, label: 'x', custom_id: 'c'.repeat(101) }] }] }),
    formError('components[0].components[0].custom_id', 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.'),
  );
  await assert.rejects(
    post({ components: [{ type: 1, components: [{ type: 2, style: 9, label: 'x', custom_id: 'a' }] }] }),
    formError('components[0].components[0].style', 'ENUM_TYPE_COERCE', 'Value "9" is not a valid enum value.'),
  );
  const six = Array.from({ length: 6 }, (_, index) => ({ type: 2, style: 2, label: `${index}`, custom_id: `b${index}` }));
  await assert.rejects(
    post({ components: [{ type: 1, components: six }] }),
    formError('components[0].components', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.'),
  );
  const twin = { type: 2, style: 2, label: 'same', custom_id: 'same' };
  await assert.rejects(
    post({ components: [{ type: 1, components: [twin, twin] }] }),
    formError('components[0].components[1].custom_id', 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
  );
  await assert.rejects(post({ content: '' }), apiError(400, 50006, 'Cannot send an empty message'));
  // The error tree is Discord's shape, for code that inspects rawError.
  await assert.rejects(aliceUser.send('y'.repeat(2001)), (error: DiscordAPIError) => {
    assert.deepEqual((error.rawError as { errors: unknown }).errors, {
      content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] },
    });
    return true;
  });
  assert.equal(fake.messagesIn(dm.id).length, 2);
});

test('slash commands: application.commands.set() registers them; /status answers with an ephemeral deferred reply', async (t) => {
  const { fake, alice, client, onInteraction } = await harness(t);
  const application = client.application!;
  await assert.rejects(
    client.rest.put(Routes.applicationCommands(application.id), { body: [{ name: 'Status', description: 'Show your VPN status' }] }),
    formError('0.name', 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'),
  );
  await assert.rejects(
    client.rest.put(Routes.applicationCommands(application.id), { body: [{ name: 'status', description: 'd'.repeat(101) }] }),
    formError('0.description', 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.'),
  );
  await assert.rejects(fake.runSlashCommand(alice, 'status'), /no global slash command \/status/);

  const registered = await application.commands.set([
    { name: 'status', description: 'Show your VPN status' },
    { name: 'revoke', description: 'Revoke a device', options: [{ type: 3, name: 'device', description: 'Device name', required: true }] },
  ]);
  assert.deepEqual([...registered.values()].map((command) => command.name).sort(), ['revoke', 'status']);
  assert.deepEqual(fake.commands().map((command) => command.name), ['status', 'revoke']);
  // A second overwrite keeps ids of unchanged commands, as Discord does.
  const again = await application.commands.set([{ name: 'status', description: 'Show your VPN status' }]);
  assert.equal(again.first()!.id, registered.find((command) => command.name === 'status')!.id);

  const handled: ChatInputCommandInteraction[] = [];
  onInteraction(async (interaction) => {
    if (!interaction.isChatInputCommand() || interaction.commandName !== 'status') return;
    handled.push(interaction);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.editReply('2 devices connected');
  });
  const run = await fake.runSlashCommand(alice, 'status');
  const ack = await run.acknowledged;
  assert.equal(ack.type, 5);
  assert.deepEqual(ack.data, { flags: MessageFlags.Ephemeral });
  const dm = fake.dmChannelOf(alice)!;
  const reply = await fake.waitForMessage(dm.id, (message) => message.content === '2 devices connected');
  assert.equal(reply.ephemeral, true);
  assert.equal(reply.flags, MessageFlags.Ephemeral); // the loading flag is gone after the edit
  assert.equal(reply.type, 20);
  assert.equal(handled[0]!.channel?.isDMBased(), true);
  // Ephemeral messages are not readable through the channel.
  await assert.rejects(client.rest.get(Routes.channelMessage(dm.id, reply.id)), apiError(404, 10008, 'Unknown Message'));
  await assert.rejects(fake.runSlashCommand(alice, 'revoke'), /no global slash command \/revoke/);

  // Guild commands: only where the app is installed.
  const guild = fake.createGuild('Home lab');
  await application.commands.set([{ name: 'approve-all', description: 'Approve pending logins' }], guild.id);
  assert.deepEqual(fake.commands(guild.id).map((command) => [command.name, command.guild_id]), [['approve-all', guild.id]]);
  await assert.rejects(application.commands.set([], '1234567890123456789'), apiError(403, 50001, 'Missing Access'));
});

test('follow-ups and the 15-minute interaction token (shortened here)', async (t) => {
  const { fake, alice, client, onInteraction } = await harness(t, { interactionTokenTtlMs: 400 });
  await client.application!.commands.set([{ name: 'devices', description: 'List your devices' }]);
  let expired: unknown;
  onInteraction(async (interaction) => {
    if (!interaction.isChatInputCommand()) return;
    await interaction.reply({ content: 'Your devices:' });
    await interaction.followUp({ content: 'laptop, phone', flags: MessageFlags.Ephemeral });
    await sleep(500);
    expired = await interaction.editReply('too late').catch((error: unknown) => error);
  });
  const run = await fake.runSlashCommand(alice, 'devices');
  assert.equal((await run.acknowledged).type, 4);
  const dm = fake.dmChannelOf(alice)!;
  const followUp = await fake.waitForMessage(dm.id, (message) => message.content === 'laptop, phone');
  assert.equal(followUp.ephemeral, true);
  assert.equal(followUp.interactionId, run.interactionId);
  await fake.waitFor(() => expired !== undefined, { timeoutMs: 3000 });
  apiError(401, 50027, 'Invalid Webhook Token')(expired);
  assert.deepEqual(fake.messagesIn(dm.id).map((message) => message.content), ['Your devices:', 'laptop, phone']);
});

test('a PNG sent with AttachmentBuilder arrives as multipart and reads back byte for byte', async (t) => {
  const { fake, alice, aliceUser } = await harness(t);
  const sent = await aliceUser.send({
    content: 'Your WireGuard QR code',
    files: [new AttachmentBuilder(PIXEL_PNG, { name: 'wg-qr.png', description: 'WireGuard config' })],
  });
  const stored = fake.messagesIn(fake.dmChannelOf(alice)!.id)[0]!;
  const attachment = stored.attachments[0]!;
  assert.deepEqual(attachment.bytes, PIXEL_PNG);
  assert.equal(attachment.filename, 'wg-qr.png');
  assert.equal(attachment.description, 'WireGuard config');
  assert.equal(attachment.content_type, 'image/png');
  assert.deepEqual([attachment.width, attachment.height], [1, 1]);
  const call = fake.callsTo('POST', '/channels/:id/messages').at(-1)!;
  assert.deepEqual(call.files.map((file) => [file.field, file.filename, file.contentType]), [['files[0]', 'wg-qr.png', 'image/png']]);

  const received = sent.attachments.first()!;
  assert.equal(received.name, 'wg-qr.png');
  assert.equal(received.size, PIXEL_PNG.length);
  const download = await fetch(received.url);
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), PIXEL_PNG);

  // PATCH /channels/{id}/messages/{id}: attachments not listed in `attachments` are removed.
  const edited = await sent.edit({ content: 'QR code expired', attachments: [] });
  assert.equal(edited.content, 'QR code expired');
  assert.deepEqual(stored.attachments, []);
  assert.equal(stored.history.length, 1);
  assert.deepEqual(stored.history[0]!.attachments[0]!.bytes, PIXEL_PNG);
});

test('REST 429 and 500: discord.js waits as told and retries on its own', async (t) => {
  const { fake, aliceUser, alice, client } = await harness(t);
  await aliceUser.send('warm-up'); // opens the DM channel
  fake.failNext('POST', '/channels/:id/messages', { status: 429, retryAfter: 0.3 });
  const started = Date.now();
  await aliceUser.send('after a route limit');
  assert.ok(Date.now() - started >= 300, 'discord.js should wait retry_after');
  assert.deepEqual(
    fake.callsTo('POST', '/channels/:id/messages').map((call) => call.status),
    [200, 429, 200],
  );

  fake.failNext('GET', '/users/:id', { status: 429, retryAfter: 0.2, global: true });
  const globalStarted = Date.now();
  await client.users.fetch(alice.id, { force: true });
  assert.ok(Date.now() - globalStarted >= 200);
  assert.deepEqual(fake.callsTo('GET', '/users/:id').slice(-2).map((call) => [call.status, call.injected]), [
    [429, true],
    [200, false],
  ]);

  fake.failNext('POST', '/channels/:id/messages', { status: 500 });
  await aliceUser.send('after a server error');
  assert.deepEqual(
    fake.callsTo('POST', '/channels/:id/messages').slice(-2).map((call) => call.status),
    [500, 200],
  );
  assert.deepEqual(fake.messagesIn(fake.dmChannelOf(alice)!.id).map((message) => message.content), ['warm-up', 'after a route limit', 'after a server error']);
});

test('gateway op 7 RECONNECT: discord.js resumes and a later click is delivered exactly once', async (t) => {
  const { fake, alice, aliceUser, onInteraction } = await harness(t);
  let handled = 0;
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    handled++;
    await interaction.deferUpdate();
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  assert.equal(fake.gatewayReconnect(), 1);
  const resumed = await fake.waitFor(() => fake.gatewayLog.find((event) => event.kind === 'resumed'));
  assert.equal(resumed.sessionId, fake.sessions[0]!.id);
  assert.equal(fake.sessions.length, 1, 'resumed, not re-identified');
  assert.equal(fake.gatewayLog.find((event) => event.kind === 'close')?.code, 4200);

  await (await fake.clickButton(alice, sent.id, 'Approve')).acknowledged;
  await sleep(100);
  assert.equal(handled, 1);
});

test('an abrupt gateway drop: a click made while disconnected is replayed on resume, exactly once', async (t) => {
  const { fake, alice, aliceUser, onInteraction } = await harness(t);
  const handled: string[] = [];
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    handled.push(interaction.id);
    await interaction.deferUpdate();
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  assert.equal(fake.dropGateway(), 1);
  await fake.waitFor(() => !fake.gatewayConnected);

  const during = await fake.clickButton(alice, sent.id, 'Approve');
  await during.acknowledged;
  const resumed = fake.gatewayLog.find((event) => event.kind === 'resumed');
  assert.ok(resumed !== undefined && resumed.replayed! >= 1, 'the click was replayed on resume');
  assert.equal(fake.sessions.length, 1);

  const after = await fake.clickButton(alice, sent.id, 'Deny');
  await after.acknowledged;
  await sleep(100);
  assert.deepEqual(handled, [during.interactionId, after.interactionId]);
});

test('op 9 INVALID SESSION: discord.js identifies afresh and keeps working', async (t) => {
  // discord.js waits up to ~6.5 s between identifies by default; the fake has no such limit.
  const { fake, alice, aliceUser, onInteraction } = await harness(t, {}, {
    ws: { buildIdentifyThrottler: () => ({ waitForIdentify: async () => undefined }) },
  });
  let handled = 0;
  onInteraction(async (interaction) => {
    if (!interaction.isButton()) return;
    handled++;
    await interaction.deferUpdate();
  });
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  const first = fake.sessions[0]!.id;
  assert.equal(fake.invalidateSession(), 1);
  await fake.waitFor(() => fake.sessions.find((session) => session.id !== first && session.state === 'connected'));
  assert.equal(fake.sessions.find((session) => session.id === first)?.state, 'invalid');
  await (await fake.clickButton(alice, sent.id, 'Approve')).acknowledged;
  assert.equal(handled, 1);
});

test('two processes on one token both receive a click; the second acknowledgement gets 40060', async (t) => {
  const { fake, alice, aliceUser, onInteraction, login } = await harness(t);
  const other = await login();
  const outcomes: string[] = [];
  const handle = (name: string) => async (interaction: Interaction) => {
    if (!interaction.isButton()) return;
    try {
      await interaction.deferUpdate();
      outcomes.push(`${name}:ok`);
    } catch (error) {
      outcomes.push(`${name}:${(error as DiscordAPIError).code}`);
    }
  };
  onInteraction(handle('first'));
  other.on(Events.InteractionCreate, (interaction) => void handle('second')(interaction));
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  await (await fake.clickButton(alice, sent.id, 'Approve')).acknowledged;
  await fake.waitFor(() => outcomes.length === 2);
  assert.deepEqual(outcomes.map((outcome) => outcome.split(':')[1]).sort(), ['40060', 'ok']);
});

test('no gateway session: a click fails as "This interaction failed" would', async (t) => {
  const { fake, alice, aliceUser, client } = await harness(t);
  const sent = await aliceUser.send({ content: 'Approve?', components: [approvalRow()] });
  await client.destroy();
  await fake.waitFor(() => fake.sessions.every((session) => session.state === 'invalid'));
  await assert.rejects(fake.clickButton(alice, sent.id, 'Approve'), /no gateway session is live/);
});

test('gateway strictness with a raw client: HELLO, heartbeat ACK, 4003, 4004 and 4009', async (t) => {
  const fake = await FakeDiscord.start({ heartbeatIntervalMs: 100, heartbeatGraceMs: 100 });
  t.after(() => fake.stop());
  const open = async (): Promise<{ socket: WebSocket; frames: Array<{ op: number; d: unknown }>; closed: Promise<number> }> => {
    const socket = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
    const frames: Array<{ op: number; d: unknown }> = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as { op: number; d: unknown }));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await once(socket, 'open');
    await fake.waitFor(() => frames.length > 0);
    return { socket, frames, closed };
  };

  const beating = await open();
  const hello = beating.frames[0] as { op: number; d: { heartbeat_interval: number }; s: null; t: null };
  assert.deepEqual([hello.op, hello.d.heartbeat_interval, hello.s, hello.t], [10, 100, null, null]);
  beating.socket.send(JSON.stringify({ op: 1, d: null }));
  await fake.waitFor(() => beating.frames.find((frame) => frame.op === 11));
  beating.socket.send(JSON.stringify({ op: 3, d: { status: 'online', since: null, activities: [], afk: false } }));
  assert.equal(await beating.closed, 4003); // Not authenticated.

  const impostor = await open();
  impostor.socket.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 0, properties: { os: 'linux', browser: 'x', device: 'x' } } }));
  assert.equal(await impostor.closed, 4004); // Authentication failed.

  const silent = await open();
  assert.equal(await silent.closed, 4009); // no heartbeat within interval + grace
});

interface GuildHarness {
  fake: FakeDiscord;
  guild: FakeGuild;
  support: GuildTextChannel;
  alice: DiscordUser;
  /** Logs in a client with these intents (Guilds is always included); destroyed after the test. */
  login: (intents: GatewayIntentBits[]) => Promise<Client>;
}

/** A guild with a #support channel and alice as a member, created before any client logs in. */
async function guildHarness(t: TestContext, options: FakeDiscordOptions = {}, guildOptions: Parameters<FakeDiscord['createGuild']>[1] = {}): Promise<GuildHarness> {
  const fake = await FakeDiscord.start(options);
  const clients: Client[] = [];
  t.after(async () => {
    for (const client of clients) await client.destroy();
    await fake.stop();
  });
  const guild = fake.createGuild('Home lab', guildOptions);
  const support = fake.createTextChannel(guild, 'support');
  const alice = fake.createUser({ username: 'alice', global_name: 'Alice' });
  fake.addMember(guild, alice);
  const login = async (intents: GatewayIntentBits[]): Promise<Client> => {
    const client = new Client({ intents: [GatewayIntentBits.Guilds, ...intents], partials: [Partials.Channel], rest: { api: fake.restRoot } });
    clients.push(client);
    await Promise.all([once(client, Events.ClientReady), client.login(fake.token)]);
    return client;
  };
  return { fake, guild, support, alice, login };
}

test('guild channels: READY then GUILD_CREATE fill the cache; the bot posts and starts a thread from its message', async (t) => {
  const { fake, guild, support, login } = await guildHarness(t);
  const client = await login([GatewayIntentBits.GuildMessages]);
  const ready = fake.gatewayLog.filter((event) => event.kind === 'identify').length;
  assert.equal(ready, 1);
  assert.ok(client.guilds.cache.get(guild.id)?.available, 'GUILD_CREATE made the guild available');
  const channel = client.channels.cache.get(support.id);
  assert.ok(channel instanceof TextChannel, 'the text channel came with GUILD_CREATE');
  assert.equal(channel.guildId, guild.id);
  assert.equal(channel.guild.members.me?.permissions.has(PermissionFlagsBits.CreatePublicThreads), true);
  assert.equal(channel.guild.members.me?.permissions.has(PermissionFlagsBits.ManageThreads), false);

  const card = await channel.send('🎫 Ticket #1 from Alice');
  const threadCreated = once(client, Events.ThreadCreate, { signal: AbortSignal.timeout(2000) });
  const thread = await card.startThread({ name: 'Ticket #1', autoArchiveDuration: ThreadAutoArchiveDuration.OneDay });
  assert.equal(thread.id, card.id, 'a thread started from a message shares its id');
  assert.equal(thread.type, ChannelType.PublicThread);
  assert.equal(thread.parentId, support.id);
  assert.equal(thread.ownerId, fake.botUser.id);
  assert.equal(thread.autoArchiveDuration, 1440);
  assert.equal(thread.joined, true, 'the creator is a member');
  // Emitted once, by whichever arrives first: the REST answer or the THREAD_CREATE dispatch.
  const [created] = (await threadCreated) as [ThreadChannel, boolean];
  assert.equal(created.id, thread.id);
  await fake.waitFor(() => card.hasThread, { description: 'MESSAGE_UPDATE with the HAS_THREAD flag' });
  assert.deepEqual(fake.threads(support.id).map((entry) => [entry.id, entry.type, entry.name]), [[card.id, 11, 'Ticket #1']]);

  await thread.send({ content: 'Hi Alice, can you send a screenshot?', files: [new AttachmentBuilder(PIXEL_PNG, { name: 'hint.png' })] });
  const [posted] = fake.messagesIn(thread.id);
  assert.equal(posted?.content, 'Hi Alice, can you send a screenshot?');
  assert.deepEqual(posted?.attachments[0]?.bytes, PIXEL_PNG);
  assert.equal(posted?.guildId, guild.id);
  assert.equal(fake.channel(thread.id)?.last_message_id, posted?.id);

  await assert.rejects(
    client.rest.post(Routes.threads(support.id, card.id), { body: { name: 'again' } }),
    apiError(400, 160004, 'A thread has already been created for this message'),
  );
  await assert.rejects(
    client.rest.post(Routes.threads(support.id), { body: { name: 'no type' } }),
    formError('type', 'BASE_TYPE_REQUIRED', 'This field is required'),
  );
  await assert.rejects(
    client.rest.post(Routes.threads(thread.id, posted!.id), { body: { name: 'nested' } }),
    apiError(400, 50024, 'Cannot execute action on this channel type'),
  );
  const privateThread = await channel.threads.create({ name: 'Ticket #2 (staff)', type: ChannelType.PrivateThread });
  assert.equal(privateThread.type, ChannelType.PrivateThread);
  assert.equal(fake.channel(privateThread.id)?.type, 12);

  const fetched = await client.channels.fetch(thread.id, { force: true });
  assert.ok(fetched?.isThread());
  assert.equal(fetched.parentId, support.id);
  await thread.leave();
  assert.deepEqual(fake.threadMembers(thread.id), []);
  await thread.join();
  assert.deepEqual(fake.threadMembers(thread.id), [fake.botUser.id]);
  assert.deepEqual([...(await channel.guild.channels.fetchActiveThreads()).threads.keys()].sort(), [thread.id, privateThread.id].sort());
});

test('a user posts in the thread: content with MessageContent, empty without it unless the bot is mentioned; attachments download', async (t) => {
  const { fake, guild, support, alice, login } = await guildHarness(t, { privilegedIntents: { messageContent: true } });
  const withContent = await login([GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent]);
  const withoutContent = await login([GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages]);
  const seen = { with: [] as Message[], without: [] as Message[] };
  withContent.on(Events.MessageCreate, (message) => void (message.author.bot || seen.with.push(message)));
  withoutContent.on(Events.MessageCreate, (message) => void (message.author.bot || seen.without.push(message)));

  const channel = withContent.channels.cache.get(support.id) as TextChannel;
  const thread = await (await channel.send('🎫 Ticket #1')).startThread({ name: 'Ticket #1' });
  await fake.waitFor(() => withoutContent.channels.cache.has(thread.id), { description: 'THREAD_CREATE on the second session' });

  const log = Buffer.from('l2tp: peer 203.0.113.7 timed out\n');
  const sent = fake.userSendsIn(thread.id, alice, 'My VPN drops every hour', {
    attachments: [{ filename: 'screen.png', bytes: PIXEL_PNG }, { filename: 'router.log', bytes: log, contentType: 'text/plain' }],
  });
  await fake.waitFor(() => seen.with.length === 1 && seen.without.length === 1);
  const [full, bare] = [seen.with[0]!, seen.without[0]!];
  assert.equal(full.content, 'My VPN drops every hour');
  assert.equal(full.channelId, thread.id);
  assert.equal(full.guildId, guild.id);
  assert.equal(full.member?.id, alice.id, 'guild messages carry the author’s member');
  assert.deepEqual([...full.attachments.values()].map((attachment) => [attachment.name, attachment.size, attachment.contentType]), [
    ['screen.png', PIXEL_PNG.length, 'image/png'],
    ['router.log', log.length, 'text/plain'],
  ]);
  const screen = full.attachments.first()!;
  assert.deepEqual([screen.width, screen.height], [1, 1]);
  assert.deepEqual(Buffer.from(await (await fetch(screen.url)).arrayBuffer()), PIXEL_PNG);
  assert.deepEqual(Buffer.from(await (await fetch(screen.proxyURL)).arrayBuffer()), PIXEL_PNG);
  assert.equal(bare.content, '', 'without the MessageContent intent the content is empty');
  assert.equal(bare.attachments.size, 0, 'attachments are user content too');
  assert.equal(bare.id, sent.id);
  assert.deepEqual(fake.threadMembers(thread.id).sort(), [fake.botUser.id, alice.id].sort(), 'posting joins the thread');

  fake.userSendsIn(thread.id, alice, `<@${fake.botUser.id}> are you there?`);
  await fake.waitFor(() => seen.without.length === 2);
  assert.equal(seen.without[1]!.content, `<@${fake.botUser.id}> are you there?`, 'a mention of the bot always carries content');
  assert.equal(seen.without[1]!.mentions.users.has(fake.botUser.id), true);

  fake.userSends(alice, 'a DM'); // a DM channel the bot never opened: discord.js places it by channel_type
  await fake.waitFor(() => seen.without.length === 3);
  assert.equal(seen.without[2]!.content, 'a DM', 'DMs always carry content');
  assert.equal(seen.without[2]!.channel?.isDMBased(), true);

  // REST reads follow the developer-portal switch, on here.
  const fetched = await thread.messages.fetch(sent.id);
  assert.equal(fetched.content, 'My VPN drops every hour');

  const bob = fake.createUser({ username: 'bob' });
  assert.throws(() => fake.userSendsIn(thread.id, bob, 'hi'), /not a member of guild/);
  assert.throws(() => fake.userSendsIn(support.id, alice, ''), /empty/);
});

test('without the portal switch REST reads hide user content too; GuildMessages is needed for guild MESSAGE_CREATE', async (t) => {
  const { fake, support, alice, login } = await guildHarness(t);
  const dmOnly = await login([GatewayIntentBits.DirectMessages]);
  const guildMessages = await login([GatewayIntentBits.GuildMessages]);
  const received: Array<[string, string]> = [];
  dmOnly.on(Events.MessageCreate, (message) => void received.push(['dm-only', message.content]));
  guildMessages.on(Events.MessageCreate, (message) => void received.push(['guild', message.content]));
  const sent = fake.userSendsIn(support.id, alice, 'hello support');
  await fake.waitFor(() => received.length === 1);
  await sleep(50);
  assert.deepEqual(received, [['guild', '']]);
  const channel = guildMessages.channels.cache.get(support.id) as TextChannel;
  assert.equal((await channel.messages.fetch({ message: sent.id, force: true })).content, '');
});

test('archived and locked threads, guilds without the bot, unknown channels', async (t) => {
  const { fake, support, alice, login } = await guildHarness(t);
  const client = await login([GatewayIntentBits.GuildMessages]);
  const channel = client.channels.cache.get(support.id) as TextChannel;
  const card = await channel.send('🎫 Ticket #3');
  const thread = await card.startThread({ name: 'Ticket #3' });
  const reply = await thread.send('first answer');

  // The creator may archive its thread. Edits are refused while archived; a post unarchives it.
  await thread.setArchived(true);
  const stored = fake.channel(thread.id);
  assert.ok(stored?.type === 11 && stored.thread_metadata.archived);
  await assert.rejects(reply.edit('edited'), apiError(400, 50083, 'Thread is archived'));
  await assert.rejects(thread.join(), apiError(400, 50083, 'Thread is archived'));
  await thread.send('the ticket continues');
  await fake.waitFor(() => thread.archived === false, { description: 'THREAD_UPDATE unarchiving the thread' });

  // Locking takes MANAGE_THREADS, which the bot was not given.
  await assert.rejects(thread.setLocked(true), apiError(403, 50013, 'Missing Permissions'));
  // A moderator closes and locks it: the bot can neither post nor reopen it.
  fake.archiveThread(thread.id, { locked: true });
  await fake.waitFor(() => thread.locked === true && thread.archived === true);
  await assert.rejects(thread.send('still there?'), apiError(403, 50083, 'Thread is archived'));
  await assert.rejects(thread.setArchived(false), apiError(403, 50013, 'Missing Permissions'));
  assert.throws(() => fake.userSendsIn(thread.id, alice, 'hello?'), /locked/);
  assert.deepEqual(fake.messagesIn(thread.id).map((message) => message.content), ['first answer', 'the ticket continues']);

  // A user posting in an archived, unlocked thread reopens it.
  const other = await (await channel.send('🎫 Ticket #4')).startThread({ name: 'Ticket #4' });
  fake.archiveThread(other.id);
  fake.userSendsIn(other.id, alice, 'one more thing');
  await fake.waitFor(() => other.archived === false);

  const elsewhere = fake.createGuild('Other server', { bot: false });
  const hidden = fake.createTextChannel(elsewhere, 'general');
  await assert.rejects(client.rest.get(Routes.channel(hidden.id)), apiError(403, 50001, 'Missing Access'));
  await assert.rejects(client.rest.post(Routes.channelMessages(hidden.id), { body: { content: 'hi' } }), apiError(403, 50001, 'Missing Access'));
  await assert.rejects(client.rest.get(Routes.channel('1234567890123456789')), apiError(404, 10003, 'Unknown Channel'));
  await assert.rejects(
    client.rest.post(Routes.channelMessages('1234567890123456789'), { body: { content: 'hi' } }),
    apiError(404, 10003, 'Unknown Channel'),
  );

  // Invited later: GUILD_CREATE arrives and the channel opens up; kicked: GUILD_DELETE.
  const joined = once(client, Events.GuildCreate, { signal: AbortSignal.timeout(2000) });
  fake.addBotToGuild(elsewhere);
  await joined;
  assert.ok(client.channels.cache.get(hidden.id)?.isTextBased());
  await (client.channels.cache.get(hidden.id) as TextChannel).send('hello, new server');
  const left = once(client, Events.GuildDelete, { signal: AbortSignal.timeout(2000) });
  fake.removeBotFromGuild(elsewhere);
  await left;
  await assert.rejects(client.rest.post(Routes.channelMessages(hidden.id), { body: { content: 'hi' } }), apiError(403, 50001, 'Missing Access'));
});

test('with MANAGE_THREADS the bot can lock, post in and reopen locked threads', async (t) => {
  const { fake, support, login } = await guildHarness(t, {}, { botPermissions: DEFAULT_PERMISSIONS | PERMISSIONS.MANAGE_THREADS });
  const client = await login([GatewayIntentBits.GuildMessages]);
  const channel = client.channels.cache.get(support.id) as TextChannel;
  const thread = await (await channel.send('🎫 Ticket #5')).startThread({ name: 'Ticket #5' });
  await thread.edit({ archived: true, locked: true });
  const stored = fake.channel(thread.id);
  assert.ok(stored?.type === 11 && stored.thread_metadata.locked && stored.thread_metadata.archived);
  await thread.send('closing note');
  assert.equal(stored.thread_metadata.archived, false, 'a moderator’s post unarchives; the lock stays');
  assert.equal(stored.thread_metadata.locked, true);
  await thread.setLocked(false);
  assert.equal(stored.thread_metadata.locked, false);
});

test('replies: message.reply() references the message; unknown references answer 50035; a user reply pings the bot', async (t) => {
  const { fake, support, alice, login } = await guildHarness(t);
  const client = await login([GatewayIntentBits.GuildMessages]);
  const seen: Message[] = [];
  client.on(Events.MessageCreate, (message) => void (message.author.bot || seen.push(message)));
  const channel = client.channels.cache.get(support.id) as TextChannel;
  const card = await channel.send('🎫 Ticket #6');
  const thread = await card.startThread({ name: 'Ticket #6' });
  const question = await thread.send('Which router model?');

  // No MessageContent here: a reply pings its author, so replying to the bot shows the content.
  fake.userSendsIn(thread.id, alice, 'hAP ac²', { replyTo: question.id });
  fake.userSendsIn(thread.id, alice, 'quiet reply', { replyTo: question.id, mentionRepliedUser: false });
  await fake.waitFor(() => seen.length === 2);
  assert.equal(seen[0]!.content, 'hAP ac²');
  assert.equal(seen[0]!.type, MessageType.Reply);
  assert.equal(seen[0]!.reference?.messageId, question.id);
  assert.equal(seen[1]!.content, '', 'a reply that does not ping the bot is ordinary content');

  const answer = await seen[0]!.reply('Thanks, noted.');
  assert.equal(answer.type, MessageType.Reply);
  assert.equal(answer.reference?.messageId, seen[0]!.id);
  assert.equal(fake.message(answer.id)?.referencedMessageId, seen[0]!.id);
  await assert.rejects(
    thread.send({ content: 'x', reply: { messageReference: card.id } }),
    formError('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message'),
  );
  const loose = await thread.send({ content: 'sent anyway', reply: { messageReference: '1234567890123456789', failIfNotExists: false } });
  assert.equal(loose.type, MessageType.Default);
});

test('slash commands and buttons in a ticket thread: member, guild context, replies in the thread; locked threads refuse them', async (t) => {
  const { fake, guild, support, alice, login } = await guildHarness(t);
  const client = await login([GatewayIntentBits.GuildMessages]);
  await client.application!.commands.set([
    { name: 'close', description: 'Close the ticket' },
    { name: 'status', description: 'DM only', contexts: [1] },
    { name: 'purge', description: 'Admins only', defaultMemberPermissions: '0' },
  ]);
  await client.application!.commands.set([{ name: 'escalate', description: 'Escalate this ticket' }], guild.id);
  const handled: ChatInputCommandInteraction[] = [];
  const errors: unknown[] = [];
  client.on(Events.InteractionCreate, (interaction) => {
    if (interaction.isChatInputCommand()) {
      handled.push(interaction);
      interaction.reply(`${interaction.commandName} by ${interaction.member?.user.username ?? '?'}`).catch((error: unknown) => errors.push(error));
    } else if (interaction.isButton()) {
      interaction.update({ content: 'Escalated', components: [] }).catch((error: unknown) => errors.push(error));
    }
  });
  const channel = client.channels.cache.get(support.id) as TextChannel;
  const thread = await (await channel.send('🎫 Ticket #7')).startThread({ name: 'Ticket #7' });

  const run = await fake.runSlashCommandIn(thread.id, alice, 'close');
  assert.equal((await run.acknowledged).type, 4);
  const interaction = handled[0]!;
  assert.equal(interaction.inGuild(), true);
  assert.equal(interaction.guildId, guild.id);
  assert.equal(interaction.channelId, thread.id);
  assert.equal(interaction.channel?.isThread(), true);
  assert.equal(interaction.context, 0);
  assert.equal(interaction.appPermissions?.has(PermissionFlagsBits.SendMessagesInThreads), true);
  const reply = await fake.waitForMessage(thread.id, (message) => message.content === 'close by alice');
  assert.equal(reply.type, 20);
  assert.equal((await fake.runSlashCommandIn(thread.id, alice, 'escalate')).interactionId.length > 0, true, 'guild commands are offered there');
  await assert.rejects(fake.runSlashCommandIn(thread.id, alice, 'status'), /not available to alice in this guild/);
  await assert.rejects(fake.runSlashCommandIn(thread.id, alice, 'purge'), /not available to alice/);
  await assert.rejects(fake.runSlashCommand(alice, 'escalate'), /no global slash command \/escalate/);

  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId('escalate:7').setLabel('Escalate').setStyle(ButtonStyle.Primary));
  const prompt = await thread.send({ content: 'Escalate?', components: [row] });
  assert.equal((await (await fake.clickButton(alice, prompt.id, 'Escalate')).acknowledged).type, 7);
  assert.equal(fake.message(prompt.id)?.content, 'Escalated');
  const outsider = fake.createUser({ username: 'mallory' });
  await assert.rejects(fake.clickButton(outsider, prompt.id, 'Escalate'), /cannot see message/);
  await assert.rejects(fake.runSlashCommandIn(thread.id, outsider, 'close'), /cannot see channel/);

  // A moderator locks the thread after the command arrives: the reply is refused, as on Discord.
  fake.archiveThread(thread.id, { locked: true });
  await assert.rejects(fake.runSlashCommandIn(thread.id, alice, 'close'), /archived/);
  await fake.waitFor(() => errors.length === 0 && handled.length === 2);
  assert.deepEqual(errors, []);
});

test('an interaction answered after a moderator locked the thread gets 403 / 50083', async (t) => {
  const { fake, support, alice, login } = await guildHarness(t, { interactionAckWindowMs: 500 });
  const client = await login([GatewayIntentBits.GuildMessages]);
  await client.application!.commands.set([{ name: 'close', description: 'Close the ticket' }]);
  let refused: unknown;
  client.on(Events.InteractionCreate, (interaction) => {
    if (!interaction.isChatInputCommand()) return;
    fake.archiveThread(interaction.channelId, { locked: true });
    interaction.reply('closing').catch((error: unknown) => {
      refused = error;
    });
  });
  const channel = client.channels.cache.get(support.id) as TextChannel;
  const thread = await (await channel.send('🎫 Ticket #8')).startThread({ name: 'Ticket #8' });
  const run = await fake.runSlashCommandIn(thread.id, alice, 'close');
  await assert.rejects(run.acknowledged, /not acknowledged/);
  await fake.waitFor(() => refused !== undefined);
  apiError(403, 50083, 'Thread is archived')(refused);
});
