// Approve/Deny button clicks in Discord DMs: the same domain call as Telegram's, answered
// ephemerally. The reply is deferred first so the 3-second acknowledgement window always holds.
import type { ButtonInteraction } from 'discord.js';
import { decideSession } from '../../../src/domain/connections.js';
import type { DomainDeps } from '../../../src/domain/ports.js';
import { decodeDecision } from '../../../src/messaging/decisionButtons.js';
import { DECISION_ANSWERS } from '../../../src/messaging/decisionAnswers.js';

export async function handleDecisionButton(deps: DomainDeps, interaction: ButtonInteraction): Promise<boolean> {
  const parsed = decodeDecision(interaction.customId);
  if (!parsed) return false;
  await interaction.deferReply({ flags: 'Ephemeral' });
  try {
    const outcome = await decideSession(deps, {
      token: parsed.token,
      decision: parsed.decision,
      actor: { platform: 'discord', externalId: interaction.user.id },
    });
    await interaction.editReply(DECISION_ANSWERS[outcome]);
  } catch (err) {
    deps.logger.error({ err }, 'decision failed');
    await interaction.editReply('Warden could not record your answer right now. Please try again.');
  }
  return true;
}
