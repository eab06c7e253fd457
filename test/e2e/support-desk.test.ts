// End to end, the support desk on both platforms: a FAQ hit answered at once; a miss opens a
// ticket that appears in the support team's place (Telegram group with reply-threading, Discord
// thread); support replies reach the user, internal notes do not; user follow-ups and screenshots
// reach the ticket; either side closes it; reminders for tickets waiting too long.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../support/stack.js';
import { eventually } from '../support/wardenProcess.js';
import type { TgChat, TgUser, FakeMessage as TgMessage } from '../support/fake-telegram/index.js';
import type { DiscordUser as DcUser, GuildTextChannel } from '../support/fake-discord/index.js';

// A 1x1 PNG, as a "screenshot".
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let stack: Stack;
let group: TgChat;
let agent: TgUser;
let stranger: TgUser;
let supportChannel: GuildTextChannel;
let dcAgent: DcUser;

before(async () => {
  stack = await Stack.start({ discord: { privilegedIntents: { messageContent: true } } });
  agent = stack.telegram.createUser({ first_name: 'Agent', username: 'agent' });
  stranger = stack.telegram.createUser({ first_name: 'Stranger', username: 'stranger' });
  group = stack.telegram.createGroup({ title: 'VPN support', type: 'supergroup', members: [agent, stranger] });
  const discord = stack.discordFake!;
  const guild = discord.createGuild('Support HQ');
  supportChannel = discord.createTextChannel(guild, 'vpn-support');
  dcAgent = discord.createUser({ username: 'dcagent', global_name: 'DC Agent' });
  discord.addMember(guild, dcAgent);
  await stack.restartWarden({
    SUPPORT_TELEGRAM_CHAT_ID: String(group.id),
    SUPPORT_DISCORD_CHANNEL_ID: supportChannel.id,
    SUPPORT_MEMBERS: `telegram:${agent.id},discord:${dcAgent.id}`,
    SUPPORT_REMIND_MINUTES: '0.05',
    SUPPORT_REMIND_CRON: '*/2 * * * * *',
  });
});

after(async () => {
  await stack?.stop();
});

describe('telegram', () => {
  let user: TgUser;
  const groupMessages = () => stack.telegram.messagesIn(group.id);
  const userMessages = () => stack.telegram.messagesIn(user.id).filter((m) => m.fromBot);

  async function userSays(text: string): Promise<TgMessage> {
    const { message } = stack.telegram.userSends(user, text);
    return eventually('bot answer', () => userMessages().find((m) => m.replyToMessageId === message.messageId));
  }

  test('a question the knowledge base knows is answered at once, with "Did this help?"', async () => {
    user = stack.telegram.createUser({ first_name: 'Uma', username: 'uma' });
    stack.telegram.userSends(user, '/start');
    await eventually('welcome', () => userMessages()[0]);
    const answer = await userSays('my iphone says handshake did not complete');
    assert.match(answer.text!, /handshake/i);
    assert.match(answer.text!, /Did this help\?/);
    const click = await stack.telegram.clickButton(user, answer, 'Yes, thanks');
    assert.equal((await click.answer).text, 'Glad it helped!');
    assert.equal(groupMessages().length, 0, 'nothing reached the support team');
  });

  let card: TgMessage;
  test('a question it does not know opens a ticket; support sees it with context in their group', async () => {
    const answer = await userSays('my router exploded and the smoke smells like cinnamon');
    assert.match(answer.text!, /Ticket #\d+ is open/);
    card = await eventually('ticket card in the group', () => groupMessages().find((m) => /🎫 Ticket #\d+ from Uma/.test(m.text ?? '')));
    assert.match(card.text!, /Not a VPN member yet/);
    await eventually('question in the group, threaded under the card', () =>
      groupMessages().find((m) => m.replyToMessageId === card.messageId && /cinnamon/.test(m.text ?? '')),
    );
  });

  test('a support reply reaches the user; an internal note does not; a stranger cannot answer', async () => {
    stack.telegram.userSends(agent, '!looks like a hardware issue', { chat: group, replyTo: card });
    stack.telegram.userSends(agent, 'Please unplug it and send a photo of the label.', { chat: group, replyTo: card });
    const relayed = await eventually('support answer at the user', () => userMessages().find((m) => /Support \(Agent\), ticket #\d+:\nPlease unplug it/.test(m.text ?? '')));
    assert.ok(relayed);
    assert.ok(!userMessages().some((m) => /hardware issue/.test(m.text ?? '')), 'internal note stayed internal');
    stack.telegram.userSends(stranger, 'I am not support', { chat: group, replyTo: card });
    await eventually('stranger refused', () => groupMessages().find((m) => /Only configured support members/.test(m.text ?? '')));
    assert.ok(!userMessages().some((m) => /not support/.test(m.text ?? '')));
  });

  test('the user\'s follow-ups and screenshots reach the same ticket', async () => {
    const added = await userSays('done, unplugged');
    assert.match(added.text!, /Added to ticket #\d+/);
    await eventually('follow-up in the group', () => groupMessages().find((m) => m.replyToMessageId === card.messageId && /done, unplugged/.test(m.text ?? '')));
    const { message } = stack.telegram.userSendsPhoto(user, PNG, { caption: 'the label' });
    await eventually('photo accepted', () => userMessages().find((m) => m.replyToMessageId === message.messageId));
    const photo = await eventually('photo in the group', () => groupMessages().find((m) => m.kind === 'photo' && m.replyToMessageId === card.messageId));
    assert.deepEqual(photo.file!.bytes, PNG, 'the same bytes');
    assert.match(photo.caption ?? '', /the label/);
    const status = await userSays('/ticket');
    assert.match(status.text!, /Ticket #\d+ .*waiting for the support team/);
    // Too long for a ticket: refused with a reason, nothing relayed.
    const tooLong = await userSays('x'.repeat(2100));
    assert.match(tooLong.text!, /too long/);
  });

  test('support closes the ticket by replying /close; both sides are told', async () => {
    stack.telegram.userSends(agent, '/close', { chat: group, replyTo: card });
    await eventually('user told', () => userMessages().find((m) => /was closed by Agent/.test(m.text ?? '')));
    await eventually('group told', () => groupMessages().find((m) => /Ticket #\d+ closed\./.test(m.text ?? '')));
    assert.match((await userSays('/ticket')).text!, /no open ticket/);
  });

  test('a ticket waiting too long reminds the support team', async () => {
    const other = stack.telegram.createUser({ first_name: 'Rex', username: 'rex' });
    stack.telegram.userSends(other, '/start');
    stack.telegram.userSends(other, '/support nobody answers me');
    const rexCard = await eventually('rex card', () => groupMessages().find((m) => /Ticket #\d+ from Rex/.test(m.text ?? '')), 15_000);
    await eventually('reminder', () => groupMessages().find((m) => /⏰ Reminder: ticket #\d+ \(Rex\)/.test(m.text ?? '') && m.replyToMessageId === rexCard.messageId), 20_000);
    // Only once per wait.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(groupMessages().filter((m) => /Reminder: ticket #\d+ \(Rex\)/.test(m.text ?? '')).length, 1);
  });
});

describe('discord', () => {
  test('FAQ hit, then a ticket in a thread; support replies in the thread, attachments both ways, /close', async () => {
    const discord = stack.discordFake!;
    const user = discord.createUser({ username: 'dina', global_name: 'Dina' });
    await eventually('bot ready', () => discord.commands().some((c) => c.name === 'support'));
    const dm = () => discord.dmChannelOf(user);
    const fromBot = () => (dm() ? discord.messagesIn(dm()!.id).filter((m) => m.author.id === discord.botUser.id) : []);

    discord.userSends(user, 'how do I add my laptop');
    const faq = await eventually('faq answer', () => fromBot().find((m) => /Did this help\?/.test(m.content)));
    assert.match(faq.content, /device/i);

    discord.userSends(user, 'the moon is blocking my packets every full moon');
    await eventually('ticket opened', () => fromBot().find((m) => /Ticket #\d+ is open/.test(m.content)));
    const thread = await eventually('ticket thread', () => discord.threads(supportChannel.id)[0]);
    await eventually('question in the thread', () => discord.messagesIn(thread.id).find((m) => /full moon/.test(m.content)));

    discord.userSendsIn(thread.id, dcAgent, 'Have you tried a new moon?', { attachments: [{ filename: 'moon.png', bytes: PNG, contentType: 'image/png' }] });
    await eventually('answer in DM', () => fromBot().find((m) => /Support \(DC Agent\), ticket #\d+:\nHave you tried a new moon\?/.test(m.content)));
    const file = await eventually('attachment in DM', () => fromBot().flatMap((m) => m.attachments).find((a) => a.filename === 'moon.png'));
    assert.deepEqual(file.bytes, PNG);
    discord.userSendsIn(thread.id, dcAgent, '!customer seems confused');
    discord.userSends(user, 'screenshot', { attachments: [{ filename: 'screen.png', bytes: PNG, contentType: 'image/png' }] });
    const relayed = await eventually('user screenshot in thread', () => discord.messagesIn(thread.id).flatMap((m) => m.attachments).find((a) => a.filename === 'screen.png'));
    assert.deepEqual(relayed.bytes, PNG);
    assert.ok(!fromBot().some((m) => /confused/.test(m.content)), 'internal note stayed internal');

    const close = await discord.runSlashCommandIn(thread.id, dcAgent, 'close');
    await close.acknowledged;
    await eventually('user told of closing', () => fromBot().find((m) => /was closed by DC Agent/.test(m.content)));
  });
});
