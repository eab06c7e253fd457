// How a session looks in Discord: message content (markdown, values escaped) and button rows.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord.js';
import type { SessionView } from '../../src/domain/ports.js';
import { encodeDecision } from '../../src/messaging/decisionButtons.js';

export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_~|>#\-[\]()])/g, '\\$1');
}

const HEADLINE: Record<SessionView['status'], string> = {
  pending: '🔐 **VPN login** — waiting for your answer',
  approved: '✅ **Approved**',
  denied: '⛔ **Denied**',
  expired: '⌛ **Expired**',
  closed: '🔌 **Closed**',
};

function clock(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone, hourCycle: 'h23' }).format(date);
}

export function renderSessionContent(view: SessionView): string {
  const lines = [
    HEADLINE[view.status],
    // Inline code spans show names verbatim; backticks cannot occur in validated names.
    `VPN login: account \`${view.account}\` on router \`${view.router}\` from ${escapeMarkdown(view.source)} ` +
      `(session address ${escapeMarkdown(view.sessionAddress)}) at ${clock(view.startedAt, view.timeZone)}`,
  ];
  if (view.note) lines.push('', escapeMarkdown(view.note));
  return lines.join('\n');
}

export function renderSessionComponents(view: SessionView): APIActionRowComponent<APIButtonComponent>[] {
  if (view.status !== 'pending' || !view.decisionToken) return [];
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        { type: ComponentType.Button, style: ButtonStyle.Success, label: 'Approve', emoji: { name: '✅' }, custom_id: encodeDecision('approve', view.decisionToken) },
        { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Deny', emoji: { name: '⛔' }, custom_id: encodeDecision('deny', view.decisionToken) },
      ],
    },
  ];
}
