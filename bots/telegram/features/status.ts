// /status and /help: what the person has and what happened recently.
import { Composer, type Context } from 'telegraf';
import { describePerson } from '../../../src/domain/linking.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { escapeHtml } from '../render.js';

export const HELP_TEXT =
  'I ask you to approve new VPN logins to your accounts.\n\n' +
  '/status — your VPN accounts and recent sessions\n' +
  '/link CODE — link this chat with the code your operator gave you\n' +
  '/help — this message';

export function statusFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  composer.help((ctx) => ctx.reply(HELP_TEXT));
  composer.command('status', async (ctx) => {
    const person = await describePerson(deps, 'telegram', String(ctx.from.id));
    if (!person) {
      await ctx.reply('This chat is not linked yet. Send /link CODE with the code your operator gave you.');
      return;
    }
    const lines = [`<b>${escapeHtml(person.displayName)}</b>`];
    if (person.accounts.length === 0) lines.push('No VPN accounts yet.');
    for (const account of person.accounts) {
      lines.push('', `<code>${escapeHtml(account.username ?? '?')}</code> on <code>${escapeHtml(account.router.name)}</code>${account.disabled ? ' (disabled)' : ''}`);
      for (const s of account.sessions) {
        lines.push(`  • ${s.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC from ${escapeHtml(s.callerId)}: ${s.state}`);
      }
    }
    await ctx.reply(lines.join('\n'), { parse_mode: 'HTML' });
  });
  return composer;
}
