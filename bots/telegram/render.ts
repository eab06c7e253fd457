// How a session looks in Telegram: HTML text (every dynamic value escaped) and the keyboard.
import type { InlineKeyboardMarkup } from 'telegraf/types';
import type { SessionView } from '../../src/domain/ports.js';
import { encodeDecision } from '../../src/messaging/decisionButtons.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const HEADLINE: Record<SessionView['status'], string> = {
  pending: '🔐 <b>VPN login</b> — waiting for your answer',
  approved: '✅ <b>Approved</b>',
  denied: '⛔ <b>Denied</b>',
  expired: '⌛ <b>Expired</b>',
  closed: '🔌 <b>Closed</b>',
};

function clock(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone, hourCycle: 'h23' }).format(date);
}

export function renderSessionText(view: SessionView): string {
  const lines = [
    HEADLINE[view.status],
    `VPN login: account <code>${escapeHtml(view.account)}</code> on router <code>${escapeHtml(view.router)}</code> ` +
      `from ${escapeHtml(view.source)} (session address ${escapeHtml(view.sessionAddress)}) at ${clock(view.startedAt, view.timeZone)}`,
  ];
  if (view.note) lines.push('', escapeHtml(view.note));
  return lines.join('\n');
}

export function renderSessionKeyboard(view: SessionView): InlineKeyboardMarkup | undefined {
  if (view.status !== 'pending' || !view.decisionToken) return undefined;
  return {
    inline_keyboard: [
      [
        { text: '✅ Approve', callback_data: encodeDecision('approve', view.decisionToken) },
        { text: '⛔ Deny', callback_data: encodeDecision('deny', view.decisionToken) },
      ],
    ],
  };
}
