// Signup and devices in Telegram: /signup, /adddevice, /devices, /config, /rotate, /remove (with
// confirmation buttons). Parsing here; the work is in src/messaging/commands.ts, shared with Discord.
import { Composer, type Context } from 'telegraf';
import type { DomainDeps } from '../../../src/domain/ports.js';
import {
  addDeviceCommand,
  configCommand,
  devicesCommand,
  removeCommand,
  removeConfirmation,
  rotateCommand,
  signupCommand,
  type Reply,
} from '../../../src/messaging/commands.js';
import type { ChatPerson } from '../../../src/domain/signup.js';

/** Answers a command as a reply to it, so the answer stays next to its question in a busy chat. */
export async function sendReply(ctx: Context, reply: Reply): Promise<void> {
  const messageId = ctx.message?.message_id;
  await ctx.reply(reply.text, {
    ...(messageId ? { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } } : {}),
    ...(reply.choices ? { reply_markup: { inline_keyboard: [reply.choices.map((c) => ({ text: c.label, callback_data: c.data }))] } } : {}),
  });
}

export function chatPerson(ctx: Context): ChatPerson {
  const from = ctx.from!;
  return {
    platform: 'telegram',
    externalId: String(from.id),
    chatId: String(ctx.chat!.id),
    username: from.username ?? null,
    displayName: [from.first_name, from.last_name].filter(Boolean).join(' '),
  };
}

const words = (payload: string) => payload.trim().split(/\s+/).filter(Boolean);

/** Middleware: secrets and personal data are only ever handled in a private chat. */
export async function privateOnly(ctx: Context, next: () => Promise<void>): Promise<void> {
  if (ctx.chat?.type !== 'private') {
    await ctx.reply('Please talk to me in a private chat.');
    return;
  }
  return next();
}

export function devicesFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const id = (ctx: Context) => String(ctx.from!.id);

  composer.command('signup', privateOnly, async (ctx) => sendReply(ctx, await signupCommand(deps, chatPerson(ctx), words(ctx.payload)[0] ?? null)));
  composer.command('adddevice', privateOnly, async (ctx) => {
    const [kind = '', label = ''] = words(ctx.payload);
    if (!label) return sendReply(ctx, { text: 'Usage: /adddevice wireguard NAME  or  /adddevice ppp NAME' });
    return sendReply(ctx, await addDeviceCommand(deps, 'telegram', id(ctx), kind, label));
  });
  composer.command('devices', privateOnly, async (ctx) => sendReply(ctx, await devicesCommand(deps, 'telegram', id(ctx))));
  for (const [name, run] of [
    ['config', configCommand],
    ['rotate', rotateCommand],
    ['remove', removeCommand],
  ] as const) {
    composer.command(name, privateOnly, async (ctx) => {
      const label = words(ctx.payload)[0];
      if (!label) return sendReply(ctx, { text: `Usage: /${name} NAME (see /devices)` });
      return sendReply(ctx, await run(deps, 'telegram', id(ctx), label));
    });
  }
  composer.on('callback_query', async (ctx, next) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : '';
    const reply = await removeConfirmation(deps, 'telegram', String(ctx.from.id), data);
    if (!reply) return next();
    await ctx.answerCbQuery(reply.text.slice(0, 200));
    await ctx.editMessageText(reply.text).catch(() => {});
  });
  return composer;
}
