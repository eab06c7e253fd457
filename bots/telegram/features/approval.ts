// Approve/Deny button clicks. The handler only decodes the button and calls the domain; the
// domain decides whether this person may decide this session. Every click is answered.
import { Composer } from 'telegraf';
import { decideSession, type DecisionOutcome } from '../../../src/domain/connections.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { decodeDecision } from '../../../src/messaging/decisionButtons.js';
import { DECISION_ANSWERS } from '../../../src/messaging/decisionAnswers.js';

export function approvalFeature(deps: DomainDeps): Composer<never> {
  const composer = new Composer();
  composer.on('callback_query', async (ctx, next) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    const parsed = data ? decodeDecision(data) : null;
    if (!parsed) return next();
    let outcome: DecisionOutcome;
    try {
      outcome = await decideSession(deps, {
        token: parsed.token,
        decision: parsed.decision,
        actor: { platform: 'telegram', externalId: String(ctx.from.id) },
      });
    } catch (err) {
      deps.logger.error({ err }, 'decision failed');
      // Fail closed: nothing was decided; say so, so the owner can press again.
      await ctx.answerCbQuery('Warden could not record your answer right now. Please try again.', { show_alert: true });
      return;
    }
    const refused = !['approved', 'denied'].includes(outcome);
    await ctx.answerCbQuery(DECISION_ANSWERS[outcome], { show_alert: refused && outcome === 'not-owner' });
  });
  return composer as unknown as Composer<never>;
}
