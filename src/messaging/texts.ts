// Texts the bots send, written once for every platform. A Markup says how the platform writes
// bold and code and how it escapes user-provided text.
import type { LinkResult, PromptDeliveryResult } from '../domain/linking.js';
import type { describePerson } from '../domain/linking.js';

export interface Markup {
  bold(text: string): string;
  code(text: string): string;
  escape(text: string): string;
}

export const plain: Markup = { bold: (t) => t, code: (t) => t, escape: (t) => t };

export function linkResultText(result: LinkResult, platformName: string): string {
  switch (result.status) {
    case 'linked':
      return `Linked. Hello ${result.personName}! VPN logins to your accounts will be sent here for approval.`;
    case 'already-linked':
      return `This chat is already linked to ${result.personName}.`;
    case 'linked-to-someone-else':
      return `This ${platformName} account is already linked to someone else. Ask your operator.`;
    case 'invalid-code':
      return 'That link code is not valid (it may have expired or been used). Ask your operator for a new one.';
  }
}

export function promptDeliveryText(result: PromptDeliveryResult): string {
  switch (result) {
    case 'on':
      return 'Login prompts will be sent to this chat.';
    case 'off':
      return 'Login prompts will no longer be sent to this chat (they go to your other linked chat).';
    case 'last-chat':
      return 'This is the only chat that receives your login prompts, so it stays on. Link another chat first.';
    case 'not-linked':
      return NOT_LINKED_TEXT;
  }
}

export const NOT_LINKED_TEXT = 'This chat is not linked yet. Use /link CODE with the code your operator gave you.';

export const WELCOME_TEXT =
  'Hello! I am Warden, the VPN access gate. I ask you to approve new VPN logins to your accounts.\n\n' +
  'To get started, send /link CODE with the link code your operator gave you.';

export const HELP_TEXT =
  'I ask you to approve new VPN logins to your accounts.\n\n' +
  '/status — your VPN accounts and recent sessions\n' +
  '/link CODE — link this chat with the code your operator gave you\n' +
  '/prompts on|off — whether login prompts come to this chat (if you linked several)\n' +
  '/signup [CODE] — join with an invite code, or ask an admin\n' +
  '/devices — your devices; /adddevice wireguard|ppp NAME — add one\n' +
  '/config NAME — send a configuration again; /rotate NAME — new keys; /remove NAME — delete\n' +
  '/faq — frequent questions; /support — talk to the support team; /ticket — your ticket\n' +
  '/help — this message';

type PersonSummary = NonNullable<Awaited<ReturnType<typeof describePerson>>>;

export function statusText(person: PersonSummary, m: Markup): string {
  const lines = [m.bold(m.escape(person.displayName))];
  if (person.accounts.length === 0) lines.push('No VPN accounts yet.');
  for (const account of person.accounts) {
    lines.push('', `${m.code(account.username ?? '?')} on ${m.code(account.router.name)}${account.disabled ? ' (disabled)' : ''}`);
    for (const s of account.sessions) {
      lines.push(`  • ${s.createdAt.toISOString().slice(0, 16).replace('T', ' ')} UTC from ${m.escape(s.callerId)}: ${s.state}`);
    }
  }
  return lines.join('\n');
}
