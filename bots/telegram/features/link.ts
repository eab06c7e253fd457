// Linking a Telegram account to a person: `/start CODE` (deep link t.me/<bot>?start=CODE) or `/link CODE`.
import { Composer, type Context } from 'telegraf';
import { redeemLinkCode } from '../../../src/domain/linking.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { escapeHtml } from '../render.js';

async function link(deps: DomainDeps, ctx: Context, code: string): Promise<void> {
  if (!ctx.from || !ctx.chat) return;
  const result = await redeemLinkCode(deps, {
    platform: 'telegram',
    externalId: String(ctx.from.id),
    chatId: String(ctx.chat.id),
    username: ctx.from.username ?? null,
    code,
  });
  switch (result.status) {
    case 'linked':
      await ctx.reply(`Linked. Hello ${escapeHtml(result.personName)}! VPN logins to your accounts will be sent here for approval.`, { parse_mode: 'HTML' });
      return;
    case 'already-linked':
      await ctx.reply(`This chat is already linked to ${escapeHtml(result.personName)}.`, { parse_mode: 'HTML' });
      return;
    case 'linked-to-someone-else':
      await ctx.reply('This Telegram account is already linked to someone else. Ask your operator.');
      return;
    case 'invalid-code':
      await ctx.reply('That link code is not valid (it may have expired or been used). Ask your operator for a new one.');
      return;
  }
}

export function linkFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const privateOnly = async (ctx: Context, next: () => Promise<void>) => {
    if (ctx.chat?.type !== 'private') {
      await ctx.reply('Please talk to me in a private chat.');
      return;
    }
    return next();
  };
  composer.start(privateOnly, async (ctx) => {
    const payload = ctx.payload.trim();
    if (payload) return link(deps, ctx, payload);
    await ctx.reply(
      'Hello! I am Warden, the VPN access gate. I ask you to approve new VPN logins to your accounts.\n\n' +
        'To get started, send /link CODE with the link code your operator gave you.',
    );
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
