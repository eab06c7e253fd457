// Linking a Telegram account to a person: `/start CODE` (deep link t.me/<bot>?start=CODE) or `/link CODE`.
import { Composer, type Context } from 'telegraf';
import { redeemLinkCode } from '../../../src/domain/linking.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { linkResultText, WELCOME_TEXT } from '../../../src/messaging/texts.js';
import { signupCommand } from '../../../src/messaging/commands.js';
import { chatPerson, privateOnly, sendReply } from './devices.js';

async function link(deps: DomainDeps, ctx: Context, code: string): Promise<void> {
  if (!ctx.from || !ctx.chat) return;
  const result = await redeemLinkCode(deps, {
    platform: 'telegram',
    externalId: String(ctx.from.id),
    chatId: String(ctx.chat.id),
    username: ctx.from.username ?? null,
    code,
  });
  await ctx.reply(linkResultText(result, 'Telegram'));
}

export function linkFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.start(privateOnly, async (ctx) => {
    const payload = ctx.payload.trim();
    if (payload) {
      // A deep link carries either a link code (existing person) or an invite code (signup).
      const linked = await redeemLinkCode(deps, {
        platform: 'telegram',
        externalId: String(ctx.from.id),
        chatId: String(ctx.chat.id),
        username: ctx.from.username ?? null,
        code: payload,
      });
      if (linked.status !== 'invalid-code') return void (await ctx.reply(linkResultText(linked, 'Telegram')));
      return sendReply(ctx, await signupCommand(deps, chatPerson(ctx), payload));
    }
    await ctx.reply(WELCOME_TEXT);
  });
  composer.command('link', privateOnly, async (ctx) => {
    const code = ctx.payload.trim();
    if (!code) {
      await ctx.reply('Usage: /link CODE (the link code your operator gave you).');
      return;
    }
    await link(deps, ctx, code);
  });
  return composer;
}
