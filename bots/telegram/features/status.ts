// /status and /help: what the person has and what happened recently.
import { Composer, type Context } from 'telegraf';
import { describePerson, setPromptDelivery } from '../../../src/domain/linking.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { HELP_TEXT, NOT_LINKED_TEXT, promptDeliveryText, statusText, type Markup } from '../../../src/messaging/texts.js';
import { escapeHtml } from '../render.js';

const html: Markup = { bold: (t) => `<b>${t}</b>`, code: (t) => `<code>${escapeHtml(t)}</code>`, escape: escapeHtml };

export function statusFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.help((ctx) => ctx.reply(HELP_TEXT));
  composer.command('status', async (ctx) => {
    const person = await describePerson(deps, 'telegram', String(ctx.from.id));
    if (!person) {
      await ctx.reply(NOT_LINKED_TEXT);
      return;
    }
    await ctx.reply(statusText(person, html), { parse_mode: 'HTML' });
  });
  composer.command('prompts', async (ctx) => {
    const choice = ctx.payload.trim().toLowerCase();
    if (choice !== 'on' && choice !== 'off') {
      await ctx.reply('Usage: /prompts on  or  /prompts off');
      return;
    }
    const result = await setPromptDelivery(deps, { platform: 'telegram', externalId: String(ctx.from.id), enabled: choice === 'on' });
    await ctx.reply(promptDeliveryText(result));
  });
  return composer;
}
