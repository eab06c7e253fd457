// Admin commands in Telegram (admins are configured in WARDEN_ADMINS): invites, accounts, and the
// Approve/Reject buttons of signup requests.
import { Composer, type Context } from 'telegraf';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { decideSignup, decodeSignupButton } from '../../../src/domain/signup.js';
import { accountsCommand, deleteAccountCommand, disableCommand, inviteCommand, SIGNUP_DECISION_ANSWERS } from '../../../src/messaging/commands.js';
import { sendReply } from './devices.js';

export function adminFeature(deps: DomainDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const id = (ctx: Context) => String(ctx.from!.id);
  const words = (payload: string) => payload.trim().split(/\s+/).filter(Boolean);

  composer.command('invite', async (ctx) => {
    const [uses = '1', hours, kind = 'wireguard', router] = words(ctx.payload);
    const username = ctx.botInfo.username;
    await sendReply(
      ctx,
      await inviteCommand(
        deps,
        'telegram',
        id(ctx),
        { uses: Number(uses), hours: hours ? Number(hours) : null, kind, router: router ?? null },
        (code) => `https://t.me/${username}?start=${code}`,
      ),
    );
  });
  composer.command('accounts', async (ctx) => sendReply(ctx, await accountsCommand(deps, 'telegram', id(ctx))));
  composer.command('disable', async (ctx) => sendReply(ctx, await disableCommand(deps, 'telegram', id(ctx), words(ctx.payload)[0] ?? '', true)));
  composer.command('enable', async (ctx) => sendReply(ctx, await disableCommand(deps, 'telegram', id(ctx), words(ctx.payload)[0] ?? '', false)));
  composer.command('delete', async (ctx) => sendReply(ctx, await deleteAccountCommand(deps, 'telegram', id(ctx), words(ctx.payload)[0] ?? '')));
  composer.on('callback_query', async (ctx, next) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : '';
    const parsed = decodeSignupButton(data);
    if (!parsed) return next();
    const outcome = await decideSignup(deps, { ...parsed, actor: { platform: 'telegram', externalId: String(ctx.from.id) } });
    await ctx.answerCbQuery(SIGNUP_DECISION_ANSWERS[outcome]);
  });
  return composer;
}
