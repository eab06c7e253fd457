// Runs the real, unmodified telegraf against the fake Telegram Bot API: proves the fake
// speaks the protocol telegraf expects, and that it is as strict as api.telegram.org where
// the product depends on it (limits, error texts, polling conflicts, webhooks, uploads).

import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { PNG } from 'pngjs';
import { Input, Markup, Telegraf, Telegram, TelegramError } from 'telegraf';
import { message } from 'telegraf/filters';
import { FakeTelegram, type FakeTelegramOptions } from '../support/fake-telegram/index.js';

// A valid 1x1 PNG.
const PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const CONFLICT_POLLING =
  'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';

/** Asserts a TelegramError with exactly this code and description (and parameters, if given). */
function telegramError(code: number, description: string, parameters?: Record<string, unknown>) {
  return (error: unknown): true => {
    assert.ok(error instanceof TelegramError, `expected a TelegramError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.description, description);
    if (parameters !== undefined) assert.deepEqual(error.parameters, parameters);
    return true;
  };
}

interface Harness {
  fake: FakeTelegram;
  /** A plain API client, for calls made outside update handlers. */
  client: Telegram;
  /** Launches a polling bot and waits until its long poll is pending; stopped after the test. */
  poll: (configure: (bot: Telegraf) => void) => Promise<Telegraf>;
}

async function harness(t: TestContext, options?: FakeTelegramOptions): Promise<Harness> {
  const fake = await FakeTelegram.start(options);
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    await fake.stop();
  });
  const poll = async (configure: (bot: Telegraf) => void): Promise<Telegraf> => {
    const bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
    configure(bot);
    // launch() settles only when polling ends; a handler error rejects it and fails the test.
    const running = bot.launch();
    running.catch(() => undefined);
    stops.push(async () => {
      bot.stop('test finished');
      await running;
    });
    await fake.waitFor(() => fake.bot.isLongPolling, { description: 'the bot to start long polling' });
    return bot;
  };
  return { fake, client: new Telegram(fake.token, { apiRoot: fake.apiRoot }), poll };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('polling: launch, a /start deep link reaches the bot, the reply lands in the chat', async (t) => {
  const { fake, poll } = await harness(t);
  await poll((bot) => bot.start((ctx) => ctx.reply(`Hello ${ctx.from.first_name}, payload=${ctx.payload}`)));

  const alice = fake.createUser({ first_name: 'Alice', username: 'alice' });
  const { update } = fake.userSends(alice, '/start vpn-42');
  assert.deepEqual(update?.message?.entities, [{ type: 'bot_command', offset: 0, length: 6 }]);

  const reply = await fake.waitForMessage(alice.id, (message) => message.text?.startsWith('Hello') === true);
  assert.equal(reply.text, 'Hello Alice, payload=vpn-42');
  assert.deepEqual(
    fake.calls.slice(0, 3).map((call) => call.method),
    ['getMe', 'deleteWebhook', 'getUpdates'],
  );
  assert.equal(fake.bot.hasStarted(alice), true);
});

test('long polling honours timeout, returns early on a new update, and offset confirms', async (t) => {
  const { fake, client } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });

  const started = Date.now();
  assert.deepEqual(await client.getUpdates(1, 100, 0, undefined), []);
  assert.ok(Date.now() - started >= 900, 'an empty long poll waits for its timeout');

  const early = Date.now();
  const pending = client.getUpdates(50, 100, 0, undefined);
  await fake.waitFor(() => fake.bot.isLongPolling);
  fake.userSends(alice, 'first');
  fake.userSends(alice, 'second');
  const updates = await pending;
  assert.ok(Date.now() - early < 2000, 'a new update ends the long poll at once');
  assert.deepEqual(updates.map((update) => ('message' in update && 'text' in update.message ? update.message.text : '')), ['first', 'second']);

  const last = updates[updates.length - 1]!.update_id;
  assert.equal((await client.getUpdates(0, 1, 0, undefined)).length, 1, 'limit applies; nothing confirmed yet');
  assert.deepEqual(await client.getUpdates(0, 100, last + 1, undefined), []);
  assert.equal(fake.bot.pendingUpdates().length, 0);
});

test('inline button: click, answerCallbackQuery and editMessageText; stale buttons cannot be clicked', async (t) => {
  const { fake, poll } = await harness(t);
  await poll((bot) => {
    bot.command('login', (ctx) =>
      ctx.reply(
        'New VPN login from 10.0.0.7',
        Markup.inlineKeyboard([Markup.button.callback('Approve', 'approve:17'), Markup.button.callback('Deny', 'deny:17')]),
      ),
    );
    bot.action(/^approve:(\d+)$/, async (ctx) => {
      await ctx.answerCbQuery('Approved');
      await ctx.editMessageText(`Approved login ${ctx.match[1]}`);
    });
  });
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/login');
  const prompt = await fake.waitForMessage(alice.id, (message) => message.replyMarkup !== undefined);
  assert.deepEqual(prompt.replyMarkup, {
    inline_keyboard: [[{ text: 'Approve', callback_data: 'approve:17' }, { text: 'Deny', callback_data: 'deny:17' }]],
  });

  const click = await fake.clickButton(alice, prompt, 'Approve');
  const answer = await click.answer;
  assert.equal(answer.text, 'Approved');
  assert.equal(answer.showAlert, false);

  const edited = await fake.waitForMessage(alice.id, (message) => message.text === 'Approved login 17');
  assert.equal(edited.messageId, prompt.messageId);
  assert.equal(edited.replyMarkup, undefined, 'editMessageText without reply_markup removes the keyboard');
  assert.equal(edited.history.length, 1);
  assert.equal(edited.history[0]?.text, 'New VPN login from 10.0.0.7');

  await assert.rejects(fake.clickButton(alice, prompt, 'deny:17'), /no button "deny:17"/);
  assert.deepEqual(fake.bot.unansweredCallbackQueries(), []);
  assert.ok(fake.callsTo('answerCallbackQuery').every((call) => call.ok));
});

test('callback queries expire and can be answered only once', async (t) => {
  const { fake, client } = await harness(t, { callbackQueryTtlMs: 300 });
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  const sent = await client.sendMessage(alice.id, 'Approve?', Markup.inlineKeyboard([Markup.button.callback('Yes', 'yes')]));
  const ref = { chatId: alice.id, messageId: sent.message_id };

  const first = await fake.clickButton(alice, ref, 'yes');
  assert.equal(await client.answerCbQuery(first.callbackQueryId, 'ok'), true);
  await assert.rejects(
    client.answerCbQuery(first.callbackQueryId, 'again'),
    telegramError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid'),
  );

  const late = await fake.clickButton(alice, ref, 'Yes');
  await assert.rejects(late.answer, /was not answered within 300 ms/);
  await assert.rejects(
    client.answerCbQuery(late.callbackQueryId),
    telegramError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid'),
  );

  const third = await fake.clickButton(alice, ref, 'yes');
  await assert.rejects(client.answerCbQuery(third.callbackQueryId, 'x'.repeat(201)), telegramError(400, 'Bad Request: MESSAGE_TOO_LONG'));
});

test('callback_data is limited to 64 bytes of UTF-8, and buttons need exactly one action', async (t) => {
  const { fake, client } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  const keyboard = (data: string) => Markup.inlineKeyboard([Markup.button.callback('Go', data)]);

  await client.sendMessage(alice.id, '64 ASCII bytes', keyboard('a'.repeat(64)));
  await client.sendMessage(alice.id, '64 bytes in 32 characters', keyboard('é'.repeat(32)));
  await assert.rejects(client.sendMessage(alice.id, 'x', keyboard('a'.repeat(65))), telegramError(400, 'Bad Request: BUTTON_DATA_INVALID'));
  await assert.rejects(client.sendMessage(alice.id, 'x', keyboard('é'.repeat(33))), telegramError(400, 'Bad Request: BUTTON_DATA_INVALID'));
  await assert.rejects(
    client.sendMessage(alice.id, 'x', keyboard('')),
    telegramError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"),
  );
  await assert.rejects(
    client.sendMessage(alice.id, 'x', { reply_markup: { inline_keyboard: [[{ text: 'Both', url: 'https://example.com', callback_data: 'x' } as never]] } }),
    (error: unknown) => error instanceof TelegramError && error.code === 400 && /exactly one of the optional fields/.test(error.description),
  );
  assert.equal(fake.messagesIn(alice.id).length, 2);
});

test('editMessageText: identical content is "not modified", unknown messages are not found', async (t) => {
  const { fake, client } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  const keyboard = Markup.inlineKeyboard([Markup.button.callback('Approve', 'approve:1')]);
  const sent = await client.sendMessage(alice.id, 'Pending', keyboard);

  await assert.rejects(
    client.editMessageText(alice.id, sent.message_id, undefined, 'Pending', keyboard),
    telegramError(
      400,
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    ),
  );
  await client.editMessageText(alice.id, sent.message_id, undefined, 'Pending', Markup.inlineKeyboard([Markup.button.callback('Deny', 'deny:1')]));
  await assert.rejects(
    client.editMessageText(alice.id, 9999, undefined, 'x'),
    telegramError(400, 'Bad Request: message to edit not found'),
  );
  await assert.rejects(
    client.editMessageReplyMarkup(alice.id, sent.message_id, undefined, Markup.inlineKeyboard([Markup.button.callback('Deny', 'deny:1')]).reply_markup),
    telegramError(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'),
  );
  assert.equal(await client.deleteMessage(alice.id, sent.message_id), true);
  await assert.rejects(client.deleteMessage(alice.id, sent.message_id), telegramError(400, 'Bad Request: message to delete not found'));
});

test('parse_mode HTML and MarkdownV2 are parsed into entities and rejected like Telegram rejects them', async (t) => {
  const { fake, client } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');

  const html = await client.sendMessage(alice.id, '<b>Login</b> from <code>10.0.0.7</code> &amp; more', { parse_mode: 'HTML' });
  assert.equal(html.text, 'Login from 10.0.0.7 & more');
  assert.deepEqual(html.entities, [{ type: 'bold', offset: 0, length: 5 }, { type: 'code', offset: 11, length: 8 }]);

  const markdown = await client.sendMessage(alice.id, '*Login* from `10.0.0.7`\\.', { parse_mode: 'MarkdownV2' });
  assert.equal(markdown.text, 'Login from 10.0.0.7.');

  await assert.rejects(
    client.sendMessage(alice.id, '<b>unclosed', { parse_mode: 'HTML' }),
    telegramError(400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`),
  );
  await assert.rejects(
    client.sendMessage(alice.id, 'a <blink>b</blink>', { parse_mode: 'HTML' }),
    telegramError(400, `Bad Request: can't parse entities: Unsupported start tag "blink" at byte offset 2`),
  );
  await assert.rejects(
    client.sendMessage(alice.id, 'Login from 10.0.0.7', { parse_mode: 'MarkdownV2' }),
    telegramError(400, `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'`),
  );
  await assert.rejects(client.sendMessage(alice.id, 'x'.repeat(4097)), telegramError(400, 'Bad Request: message is too long'));
  await client.sendMessage(alice.id, `<b>${'x'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
  await assert.rejects(client.sendMessage(alice.id, '   '), telegramError(400, 'Bad Request: text must be non-empty'));
});

test('429: flood limits and injected faults surface with retry_after', async (t) => {
  const { fake, client } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');

  // About one message per second per chat, with a burst of three tolerated.
  for (let i = 1; i <= 3; i++) await client.sendMessage(alice.id, `message ${i}`);
  await assert.rejects(
    client.sendMessage(alice.id, 'message 4'),
    telegramError(429, 'Too Many Requests: retry after 1', { retry_after: 1 }),
  );
  assert.equal(fake.messagesIn(alice.id).length, 3);

  fake.failNext('sendMessage', { code: 429, retryAfter: 7 });
  await assert.rejects(
    client.sendMessage(alice.id, 'blocked by fault'),
    telegramError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }),
  );
  const injected = fake.callsTo('sendMessage').at(-1);
  assert.equal(injected?.injected, true);

  fake.failNext('getMe', { code: 502 });
  await assert.rejects(client.getMe(), (error: unknown) => error instanceof TelegramError && error.code === 502);

  fake.setDelay(300, 'getMe');
  const slow = Date.now();
  await client.getMe();
  assert.ok(Date.now() - slow >= 280, 'setDelay holds the answer back');
  fake.setDelay(0, 'getMe');

  fake.failNext('getMe', { network: 'close' });
  await assert.rejects(client.getMe(), (error: unknown) => !(error instanceof TelegramError) && error instanceof Error);
  assert.equal((await client.getMe()).is_bot, true);
});

test('sendPhoto and sendDocument upload with Input.fromBuffer; the bytes can be read back', async (t) => {
  // Many sends to one chat in a row: flood limits off so they are not what is tested here.
  const { fake, client } = await harness(t, { rateLimits: false });
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');

  const photo = await client.sendPhoto(alice.id, Input.fromBuffer(PIXEL_PNG, 'qr.png'), { caption: '<b>Scan</b> me', parse_mode: 'HTML' });
  const size = photo.photo.at(-1)!;
  assert.equal(size.width, 1);
  assert.equal(size.height, 1);
  assert.equal(photo.caption, 'Scan me');
  assert.deepEqual(fake.fileBytes(size.file_id), PIXEL_PNG);

  const config = Buffer.from('[Interface]\nPrivateKey = abc\n');
  const document = await client.sendDocument(alice.id, Input.fromBuffer(config, 'alice.conf'), { caption: 'Your VPN profile' });
  assert.equal(document.document.file_name, 'alice.conf');
  assert.equal(document.document.file_size, config.length);
  assert.deepEqual(fake.fileBytes(document.document.file_id), config);
  const stored = fake.messagesIn(alice.id).at(-1)!;
  assert.equal(stored.kind, 'document');
  assert.deepEqual(stored.file?.bytes, config);

  // Re-sending by file_id reuses the stored file, as on Telegram.
  const again = await client.sendDocument(alice.id, document.document.file_id);
  assert.equal(again.document.file_unique_id, document.document.file_unique_id);

  await assert.rejects(
    client.sendPhoto(alice.id, Input.fromBuffer(Buffer.from('not an image'), 'fake.png')),
    telegramError(400, 'Bad Request: IMAGE_PROCESS_FAILED'),
  );
  await assert.rejects(
    client.sendPhoto(alice.id, Input.fromBuffer(PIXEL_PNG, 'qr.png'), { caption: 'x'.repeat(1025) }),
    telegramError(400, 'Bad Request: message caption is too long'),
  );
  await assert.rejects(client.sendDocument(alice.id, 'no-such-file-id'), telegramError(400, 'Bad Request: wrong file identifier/HTTP URL specified'));

  // A URL is fetched by Telegram; the fake fetches loopback URLs only.
  const images = createHttpServer((_, response) => response.end(PIXEL_PNG));
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => images.close(() => resolve())));
  const fromUrl = await client.sendPhoto(alice.id, `http://127.0.0.1:${(images.address() as AddressInfo).port}/qr.png`);
  assert.deepEqual(fake.fileBytes(fromUrl.photo.at(-1)!.file_id), PIXEL_PNG);
  await assert.rejects(client.sendPhoto(alice.id, 'https://example.com/qr.png'), telegramError(400, 'Bad Request: failed to get HTTP URL content'));
});

test('webhook delivery: exact secret header, retry until the endpoint answers 2xx', async (t) => {
  const { fake, client } = await harness(t, { webhookRetryDelayMs: 50 });
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const endpoint = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = received.length === 1 ? 500 : 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));
  const { port } = endpoint.address() as AddressInfo;

  await client.setWebhook(`https://127.0.0.1:${port}/hook`, { secret_token: 'abc_DEF-123' });
  const alice = fake.createUser({ first_name: 'Alice' });
  const { update } = fake.userSends(alice, 'hello');
  await fake.waitFor(() => received.length >= 2);
  await fake.waitFor(() => fake.bot.pendingUpdates().length === 0);

  assert.equal(received[0]?.headers['x-telegram-bot-api-secret-token'], 'abc_DEF-123');
  assert.equal(received[0]?.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(received[1]!.body), update, 'the same update is delivered again');
  const info = await client.getWebhookInfo();
  assert.equal(info.last_error_message, 'Wrong response from the webhook: 500 Internal Server Error');
  assert.equal(info.pending_update_count, 0);
});

test('webhook mode: deliveries carry the secret token, replies in the response body run, failures are retried', async (t) => {
  const { fake, client } = await harness(t, { webhookRetryDelayMs: 50 });
  const port = await freePort();
  const bot = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
  bot.start((ctx) => ctx.reply('hi from webhook'));
  // answerCbQuery is sent back in the webhook response (telegraf's webhookReply).
  bot.action('ping', (ctx) => ctx.answerCbQuery('pong'));

  await assert.rejects(
    client.setWebhook('https://127.0.0.1:1/hook', { secret_token: 'not allowed!' }),
    telegramError(400, 'Bad Request: secret token contains unallowed characters'),
  );
  // Telegram allows one setWebhook per second, counting rejected ones.
  await assert.rejects(
    client.setWebhook(`http://127.0.0.1:${port}/hook`),
    telegramError(429, 'Too Many Requests: retry after 1', { retry_after: 1 }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await assert.rejects(
    client.setWebhook(`http://127.0.0.1:${port}/hook`),
    telegramError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook'),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));

  await bot.launch({ webhook: { domain: `127.0.0.1:${port}`, port, host: '127.0.0.1', path: '/telegram', secretToken: 'warden_S3cret-token' } });
  let botRunning = true;
  t.after(() => {
    if (botRunning) bot.stop();
  });
  const info = await client.getWebhookInfo();
  assert.equal(info.url, `https://127.0.0.1:${port}/telegram`);

  await assert.rejects(
    client.getUpdates(0, 100, 0, undefined),
    telegramError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
  );

  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  await fake.waitForMessage(alice.id, (message) => message.text === 'hi from webhook');

  const prompt = await client.sendMessage(alice.id, 'ping?', Markup.inlineKeyboard([Markup.button.callback('Ping', 'ping')]));
  const click = await fake.clickButton(alice, { chatId: alice.id, messageId: prompt.message_id }, 'ping');
  assert.equal((await click.answer).text, 'pong');
  assert.equal(fake.callsTo('answerCallbackQuery').at(-1)?.viaWebhookReply, true);

  // With the bot's server gone, delivery fails and the update waits.
  bot.stop();
  botRunning = false;
  fake.userSends(alice, 'are you there?');
  await fake.waitFor(() => (fake.bot.pendingUpdates().length === 1 ? true : undefined));
  const failing = await waitForWebhookError(client);
  assert.equal(failing.pending_update_count, 1);
  assert.equal(failing.last_error_message, 'Connection refused');

  const deleted = await client.deleteWebhook();
  assert.equal(deleted, true);
  assert.equal((await client.getUpdates(0, 100, 0, undefined)).length, 1, 'the undelivered update is still there');
});

async function waitForWebhookError(client: Telegram) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const info = await client.getWebhookInfo();
    if (info.last_error_message !== undefined) return info;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the webhook never reported an error');
}

test('a second poller terminates the first with 409 Conflict', async (t) => {
  const { fake } = await harness(t);
  const first = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
  const firstRun = first.launch();
  await fake.waitFor(() => fake.bot.isLongPolling);

  const second = new Telegraf(fake.token, { telegram: { apiRoot: fake.apiRoot } });
  second.start((ctx) => ctx.reply('second instance here'));
  const secondRun = second.launch();
  t.after(async () => {
    second.stop();
    await secondRun;
  });

  // Telegram fails the *older* pending long poll: the instance already running dies.
  await assert.rejects(firstRun, telegramError(409, CONFLICT_POLLING));

  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  await fake.waitForMessage(alice.id, (message) => message.text === 'second instance here');
});

test('403/400 for users the bot may not write to: never started, unknown, blocked', async (t) => {
  const { fake, client } = await harness(t);
  const bob = fake.createUser({ first_name: 'Bob' });

  await assert.rejects(client.sendMessage(bob.id, 'hi'), telegramError(400, 'Bad Request: chat not found'));
  fake.createGroup({ title: 'Ops', members: [bob] });
  await assert.rejects(
    client.sendMessage(bob.id, 'hi'),
    telegramError(403, "Forbidden: bot can't initiate conversation with a user"),
  );

  fake.userSends(bob, '/start');
  await client.sendMessage(bob.id, 'hi');

  fake.blockBot(bob);
  await assert.rejects(client.sendMessage(bob.id, 'hi again'), telegramError(403, 'Forbidden: bot was blocked by the user'));
  assert.ok(fake.bot.pendingUpdates().some((update) => update.my_chat_member?.new_chat_member.status === 'kicked'));

  await assert.rejects(client.sendMessage(-1, 'hi'), telegramError(400, 'Bad Request: chat not found'));
  await assert.rejects(client.sendMessage('', 'hi'), telegramError(400, 'Bad Request: chat_id is empty'));
});

test('groups and forum topics: privacy mode, thread ids, and per-group limits', async (t) => {
  const { fake, client, poll } = await harness(t);
  const alice = fake.createUser({ first_name: 'Alice' });
  const forum = fake.createGroup({ title: 'VPN admins', isForum: true, members: [alice] });
  const topic = fake.createForumTopic(forum, 'Approvals');
  await poll((bot) => bot.command('status', (ctx) => ctx.reply('all good')));

  // Privacy mode: plain chatter is not delivered to the bot, commands are.
  assert.equal(fake.userSends(alice, 'just chatting', { chat: forum, threadId: topic }).update, null);
  fake.userSends(alice, '/status', { chat: forum, threadId: topic });
  const reply = await fake.waitForMessage(forum.id, (message) => message.text === 'all good');
  assert.equal(reply.threadId, topic);

  await assert.rejects(
    client.sendMessage(forum.id, 'x', { message_thread_id: 999 }),
    telegramError(400, 'Bad Request: message thread not found'),
  );
  fake.setBotStatus(forum, 'kicked');
  await assert.rejects(client.sendMessage(forum.id, 'x'), telegramError(403, 'Forbidden: bot was kicked from the supergroup chat'));
});

test('authentication and routing: unknown token 401, unknown method 404, unmodelled method 501', async (t) => {
  const { fake } = await harness(t);
  const stranger = new Telegram('123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw', { apiRoot: fake.apiRoot });
  await assert.rejects(stranger.getMe(), telegramError(401, 'Unauthorized'));
  assert.equal(fake.calls.at(-1)?.httpStatus, 401, 'refused calls are logged too');

  const client = new Telegram(fake.token, { apiRoot: fake.apiRoot });
  await assert.rejects(client.callApi('noSuchMethod' as 'getMe', {}), telegramError(404, 'Not Found'));
  await assert.rejects(client.callApi('sendDice' as 'getMe', {}), (error: unknown) => error instanceof TelegramError && error.code === 501);

  await client.setMyCommands([{ command: 'status', description: 'Show VPN status' }]);
  assert.deepEqual(await client.getMyCommands(), [{ command: 'status', description: 'Show VPN status' }]);
  await assert.rejects(client.setMyCommands([{ command: 'Bad-Command', description: 'x' }]), telegramError(400, 'Bad Request: BOT_COMMAND_INVALID'));
  assert.equal(await client.sendChatAction(fake.createUser({ first_name: 'Nobody' }).id, 'typing').catch((error: TelegramError) => error.code), 400);
});

/** A real PNG of the given size (pngjs), for photos big enough to get Telegram's size ladder. */
function pngOf(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  image.data.fill(0x7f);
  return PNG.sync.write(image);
}

test('user photos: the bot receives the size ladder, downloads the original and re-sends it by file_id', async (t) => {
  const { fake, poll } = await harness(t, { rateLimits: false });
  const alice = fake.createUser({ first_name: 'Alice' });
  const admin = fake.createUser({ first_name: 'Admin' });
  const support = fake.createGroup({ title: 'Support', members: [admin] });
  const picture = pngOf(1000, 500);
  const downloads: Buffer[] = [];
  await poll((bot) =>
    bot.on(message('photo'), async (ctx) => {
      const largest = ctx.message.photo.at(-1)!;
      const link = await ctx.telegram.getFileLink(largest.file_id);
      downloads.push(Buffer.from(await (await fetch(link)).arrayBuffer()));
      await ctx.telegram.sendPhoto(support.id, largest.file_id, { caption: `From ${ctx.from.first_name}: ${ctx.message.caption ?? ''}` });
    }),
  );

  fake.userSends(alice, '/start');
  const { update } = fake.userSendsPhoto(alice, picture, { caption: 'My router config screen' });
  const sizes = update!.message!.photo!;
  assert.deepEqual(sizes.map((size) => [size.width, size.height]), [[90, 45], [320, 160], [800, 400], [1000, 500]]);
  assert.equal(new Set(sizes.map((size) => size.file_id)).size, 4, 'every size has its own file_id');
  assert.equal(update!.message!.caption, 'My router config screen');

  const relayed = await fake.waitForMessage(support.id, (message) => message.kind === 'photo');
  assert.equal(relayed.caption, 'From Alice: My router config screen');
  assert.equal(relayed.file?.fileId, sizes.at(-1)!.file_id, 'sent by file_id, the same file');
  assert.deepEqual(relayed.file?.bytes, picture);
  assert.deepEqual(downloads, [picture]);

  // A file_id is per file kind: a photo cannot be sent as a document's file_id, and vice versa.
  const client = new Telegram(fake.token, { apiRoot: fake.apiRoot });
  await assert.rejects(client.sendDocument(support.id, sizes[0]!.file_id), telegramError(400, 'Bad Request: type of file mismatch'));
  // Bytes that are no picture cannot be sent as a photo from a Telegram app.
  assert.throws(() => fake.userSendsPhoto(alice, Buffer.from('not an image')), /userSendsDocument/);
});

test('user documents: getFile and the download route return the bytes; 20 MB is the download limit', async (t) => {
  const { fake, client } = await harness(t, { rateLimits: false });
  const alice = fake.createUser({ first_name: 'Alice' });
  fake.userSends(alice, '/start');
  const log = Buffer.from('Jan 1 00:00:01 l2tp: peer 203.0.113.7 timed out\n');
  const { update } = fake.userSendsDocument(alice, log, 'router.log', { caption: 'logs attached' });
  const document = update!.message!.document!;
  assert.deepEqual(
    [document.file_name, document.mime_type, document.file_size],
    ['router.log', 'application/octet-stream', log.length],
  );
  const file = await client.getFile(document.file_id);
  assert.equal(file.file_size, log.length);
  const download = await fetch(`${fake.apiRoot}/file/bot${fake.token}/${file.file_path!}`);
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), log);
  assert.equal(update!.message!.caption, 'logs attached');

  const resent = await client.sendDocument(alice.id, document.file_id, { caption: 'your log, back' });
  assert.equal(resent.document.file_unique_id, document.file_unique_id);

  const big = fake.userSendsDocument(alice, Buffer.alloc(21 * 1024 * 1024, 1), 'capture.pcap').update!.message!.document!;
  await assert.rejects(client.getFile(big.file_id), telegramError(400, 'Bad Request: file is too big'));
});

test('copyMessage copies text, photos and documents with caption overrides, replies and forum topics', async (t) => {
  const { fake, client, poll } = await harness(t, { rateLimits: false });
  const alice = fake.createUser({ first_name: 'Alice' });
  const admin = fake.createUser({ first_name: 'Admin' });
  const forum = fake.createGroup({ title: 'Support desk', isForum: true, members: [admin] });
  const topic = fake.createForumTopic(forum, 'Ticket #1');
  const card = await client.sendMessage(forum.id, 'Ticket #1 from Alice', { message_thread_id: topic });
  const copies: number[] = [];
  await poll((bot) =>
    bot.on(message('document'), async (ctx) => {
      const copy = await ctx.copyMessage(forum.id, {
        caption: '<b>#1 Alice</b>: file',
        parse_mode: 'HTML',
        message_thread_id: topic,
        reply_parameters: { message_id: card.message_id },
      });
      copies.push(copy.message_id);
    }),
  );

  fake.userSends(alice, '/start');
  const config = Buffer.from('[Interface]\nAddress = 10.8.0.2/32\n');
  const { message: original } = fake.userSendsDocument(alice, config, 'wg0.conf', { caption: 'does this look right?' });
  await fake.waitFor(() => copies.length === 1);
  const copy = fake.bot.message(forum.id, copies[0]!)!;
  assert.equal(copy.kind, 'document');
  assert.equal(copy.file?.fileId, original.file?.fileId, 'a copy keeps the file_id');
  assert.equal(copy.caption, '#1 Alice: file');
  assert.deepEqual(copy.captionEntities, [{ type: 'bold', offset: 0, length: 8 }]);
  assert.equal(copy.threadId, topic);
  assert.equal(copy.replyToMessageId, card.message_id);
  assert.deepEqual(fake.callsTo('copyMessage')[0]?.result, { message_id: copies[0] }, 'copyMessage answers a MessageId');

  // Text keeps its entities; an empty caption removes a media caption; the original is untouched.
  const text = fake.userSends(alice, '/status please').message;
  const textCopy = await client.copyMessage(forum.id, alice.id, text.messageId, { message_thread_id: topic });
  assert.equal(fake.bot.message(forum.id, textCopy.message_id)?.text, '/status please');
  const bare = await client.copyMessage(alice.id, alice.id, original.messageId, { caption: '' });
  assert.equal(fake.bot.message(alice.id, bare.message_id)?.caption, undefined);
  assert.equal(original.caption, 'does this look right?');

  const photo = fake.userSendsPhoto(alice, PIXEL_PNG).message;
  const photoCopy = await client.copyMessage(forum.id, alice.id, photo.messageId, { caption: 'screenshot', message_thread_id: topic });
  assert.equal(fake.bot.message(forum.id, photoCopy.message_id)?.file?.fileId, photo.file?.fileId);

  await assert.rejects(client.copyMessage(forum.id, alice.id, 9999), telegramError(400, 'Bad Request: message to copy not found'));
  await assert.rejects(
    client.copyMessage(forum.id, alice.id, photo.messageId, { message_thread_id: 4242 }),
    telegramError(400, 'Bad Request: message thread not found'),
  );
  await assert.rejects(
    client.copyMessage(forum.id, -100999, 1),
    telegramError(400, 'Bad Request: chat not found'),
  );
  assert.equal(fake.callsTo('copyMessage').length, 7);
});

test('groups with privacy mode: photos are delivered when they reply to the bot or mention it, not otherwise', async (t) => {
  const { fake, client, poll } = await harness(t, { rateLimits: false });
  const admin = fake.createUser({ first_name: 'Admin' });
  const group = fake.createGroup({ title: 'Support', members: [admin] });
  const received: Array<{ caption?: string; replyTo?: number; photo: boolean }> = [];
  await poll((bot) =>
    bot.on(message('photo'), (ctx) => {
      received.push({
        ...(ctx.message.caption === undefined ? {} : { caption: ctx.message.caption }),
        ...(ctx.message.reply_to_message === undefined ? {} : { replyTo: ctx.message.reply_to_message.message_id }),
        photo: ctx.message.photo.length > 0,
      });
    }),
  );
  const card = await client.sendMessage(group.id, '#7 Alice: my VPN drops every hour');
  const cardMessage = fake.bot.message(group.id, card.message_id)!;

  const reply = fake.userSendsPhoto(admin, PIXEL_PNG, { chat: group, replyTo: cardMessage, caption: 'try these settings' });
  assert.equal(reply.update?.message?.reply_to_message?.message_id, card.message_id);
  assert.equal(fake.userSendsPhoto(admin, PIXEL_PNG, { chat: group, caption: 'just sharing' }).update, null);
  assert.notEqual(fake.userSendsPhoto(admin, PIXEL_PNG, { chat: group, caption: `@${fake.bot.username} look` }).update, null);
  const ownPhoto = fake.userSendsPhoto(admin, PIXEL_PNG, { chat: group }).message;
  assert.equal(fake.userSendsDocument(admin, Buffer.from('x'), 'a.txt', { chat: group, replyTo: ownPhoto }).update, null, 'a reply to a user message is not for the bot');
  assert.notEqual(fake.userSendsDocument(admin, Buffer.from('x'), 'a.txt', { chat: group, replyTo: cardMessage }).update, null);

  await fake.waitFor(() => received.length === 2);
  assert.deepEqual(received, [
    { caption: 'try these settings', replyTo: card.message_id, photo: true },
    { caption: `@${fake.bot.username} look`, photo: true },
  ]);
  assert.throws(() => fake.userSendsPhoto(admin, PIXEL_PNG, { chat: group, replyTo: fake.userSends(admin, 'hi').message }), /not in chat/);
});

test('sendMessage, sendPhoto and sendDocument reply in groups and post into forum topics', async (t) => {
  const { fake, client } = await harness(t, { rateLimits: false });
  const admin = fake.createUser({ first_name: 'Admin' });
  const group = fake.createGroup({ title: 'Support', members: [admin] });
  const forum = fake.createGroup({ title: 'Desk', isForum: true, members: [admin] });
  const topic = fake.createForumTopic(forum, 'Ticket #2');

  const question = fake.userSends(admin, '/status', { chat: group }).message;
  const text = await client.sendMessage(group.id, 'all good', { reply_parameters: { message_id: question.messageId } });
  assert.equal(text.reply_to_message?.message_id, question.messageId);
  // telegraf 4.16.3 drops object fields such as reply_parameters from multipart uploads without a
  // word (telegraf issues #1970, #2094): the upload arrives, but not as a reply.
  const dropped = await client.sendPhoto(group.id, Input.fromBuffer(PIXEL_PNG, 'qr.png'), { reply_parameters: { message_id: question.messageId } });
  assert.equal(dropped.reply_to_message, undefined);
  assert.equal(fake.callsTo('sendPhoto').at(-1)?.params.reply_parameters, undefined);
  // Workarounds that reach Telegram: reply_parameters as JSON text, or the older reply_to_message_id.
  const photo = await client.sendPhoto(group.id, Input.fromBuffer(PIXEL_PNG, 'qr.png'), {
    reply_parameters: JSON.stringify({ message_id: question.messageId }) as never,
  });
  assert.equal(photo.reply_to_message?.message_id, question.messageId);
  const legacy = await client.sendDocument(group.id, Input.fromBuffer(Buffer.from('x'), 'a.txt'), { reply_to_message_id: question.messageId } as never);
  assert.equal(legacy.reply_to_message?.message_id, question.messageId);
  // By file_id the request is JSON, and reply_parameters works as documented.
  const byId = await client.sendPhoto(group.id, photo.photo[0]!.file_id, { reply_parameters: { message_id: question.messageId } });
  assert.equal(byId.reply_to_message?.message_id, question.messageId);
  await assert.rejects(
    client.sendPhoto(group.id, photo.photo[0]!.file_id, { reply_parameters: { message_id: 9999 } }),
    telegramError(400, 'Bad Request: message to be replied not found'),
  );
  const tolerant = await client.sendPhoto(group.id, photo.photo[0]!.file_id, { reply_parameters: { message_id: 9999, allow_sending_without_reply: true } });
  assert.equal(tolerant.reply_to_message, undefined);

  const inTopic = await client.sendDocument(forum.id, Input.fromBuffer(Buffer.from('log'), 'router.log'), { message_thread_id: topic });
  assert.equal(inTopic.message_thread_id, topic);
  assert.equal(inTopic.is_topic_message, true);
  const photoInTopic = await client.sendPhoto(forum.id, photo.photo[0]!.file_id, { message_thread_id: topic, caption: 'QR' });
  assert.equal(photoInTopic.message_thread_id, topic);
  const userInTopic = fake.userSendsDocument(admin, Buffer.from('y'), 'b.txt', { chat: forum, threadId: topic, replyTo: fake.bot.message(forum.id, inTopic.message_id)! });
  assert.equal(userInTopic.update?.message?.message_thread_id, topic);
  await assert.rejects(
    client.sendPhoto(forum.id, photo.photo[0]!.file_id, { message_thread_id: 31337 }),
    telegramError(400, 'Bad Request: message thread not found'),
  );
});
