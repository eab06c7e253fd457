// Support desk conversations written once for both bots: what a user's free-text message, the FAQ
// buttons and the support commands lead to. Adapters parse platform input and render the Reply.
import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { DomainDeps } from '../domain/ports.js';
import type { ChatPerson } from '../domain/signup.js';
import type { Reply } from '../messaging/commands.js';
import type { KnowledgeBase } from './knowledgeBase.js';
import {
  closeTicket,
  isSupportMember,
  openTicketsSummary,
  supportMessage,
  ticketForSupportMessage,
  userMessage,
  userTicket,
  type Attachment,
  type SupportSettings,
  type UserMessageResult,
} from './desk.js';

export interface SupportContext {
  deps: DomainDeps;
  settings: SupportSettings;
  kb: KnowledgeBase | null;
}

export const FAQ_BUTTONS = { helped: 'kb:y', human: 'kb:h' } as const;

// The question a FAQ answer was given for, so "Talk to a human" can open the ticket with it.
// Kept in memory: after a restart the ticket opens with a note instead, and the user adds details.
const lastQuestion = new Map<string, string>();
const questionKey = (who: { platform: ChatPlatform; externalId: string }) => `${who.platform}:${who.externalId}`;

function rememberQuestion(who: ChatPerson, question: string): void {
  if (lastQuestion.size > 10_000) lastQuestion.delete(lastQuestion.keys().next().value!);
  lastQuestion.set(questionKey(who), question);
}

function describe(result: UserMessageResult): string {
  switch (result.status) {
    case 'opened':
      return `Ticket #${result.ticket} is open: the support team will answer here. Anything you write now is added to it; /ticket shows its state.`;
    case 'appended':
      return `Added to ticket #${result.ticket}.`;
    case 'too-long':
      return 'That message is too long (2000 characters at most). Please shorten it or split it.';
    case 'too-large':
      return 'That file is too large (10 MB at most).';
    case 'rate-limited':
      return 'You are sending messages very fast; please wait a minute, then try again.';
    case 'unavailable':
      return 'The support desk is not set up here. Please contact your admin directly.';
    case 'no-ticket':
      return '';
  }
}

/** A free-text message (or a photo/document) a user sent the bot privately. */
export async function handleUserText(ctx: SupportContext, who: ChatPerson, text: string, attachment?: Attachment): Promise<Reply> {
  // With an open ticket everything goes to the ticket.
  const appended = await userMessage(ctx.deps, ctx.settings, who, { text, ...(attachment ? { attachment } : {}) }, { open: false });
  if (appended.status !== 'no-ticket') return { text: describe(appended) };
  const hit = !attachment && text.trim() ? ctx.kb?.best(text) : null;
  if (hit) {
    rememberQuestion(who, text);
    return {
      text: `${hit.entry.title}\n\n${hit.entry.body}\n\nDid this help?`,
      choices: [
        { label: 'Yes, thanks', data: FAQ_BUTTONS.helped },
        { label: 'Talk to a human', data: FAQ_BUTTONS.human },
      ],
    };
  }
  // Nothing in the knowledge base: a human looks at it.
  return { text: describe(await userMessage(ctx.deps, ctx.settings, who, { text, ...(attachment ? { attachment } : {}) }, { open: true })) };
}

/** The FAQ answer's buttons. */
export async function handleFaqButton(ctx: SupportContext, who: ChatPerson, data: string): Promise<string | null> {
  if (data === FAQ_BUTTONS.helped) {
    lastQuestion.delete(questionKey(who));
    return 'Glad it helped!';
  }
  if (data !== FAQ_BUTTONS.human) return null;
  const question = lastQuestion.get(questionKey(who)) ?? '(asked to talk to a human after a FAQ answer)';
  lastQuestion.delete(questionKey(who));
  return describe(await userMessage(ctx.deps, ctx.settings, who, { text: question }, { open: true }));
}

/** /support [text] */
export async function supportCommand(ctx: SupportContext, who: ChatPerson, text: string): Promise<Reply> {
  const result = await userMessage(ctx.deps, ctx.settings, who, { text: text.trim() || 'I would like to talk to the support team.' }, { open: true });
  return { text: describe(result) };
}

/** /faq [question]: an answer, or the list of topics. */
export function faqCommand(ctx: SupportContext, who: ChatPerson, question: string): Reply {
  if (!ctx.kb) return { text: 'There is no knowledge base here; /support opens a ticket.' };
  if (question.trim()) {
    const hit = ctx.kb.best(question);
    if (hit) {
      rememberQuestion(who, question);
      return {
        text: `${hit.entry.title}\n\n${hit.entry.body}\n\nDid this help?`,
        choices: [
          { label: 'Yes, thanks', data: FAQ_BUTTONS.helped },
          { label: 'Talk to a human', data: FAQ_BUTTONS.human },
        ],
      };
    }
    return { text: 'I found no answer to that. /support opens a ticket with the support team.' };
  }
  return { text: `Frequent questions (ask me in your own words, or /faq QUESTION):\n${ctx.kb.entries().map((e) => `• ${e.title}`).join('\n')}` };
}

/** /ticket: the user's open ticket. */
export async function ticketCommand(ctx: SupportContext, who: { platform: ChatPlatform; externalId: string }): Promise<Reply> {
  const ticket = await userTicket(ctx.deps, who.platform, who.externalId);
  if (!ticket) return { text: 'You have no open ticket. /support opens one.' };
  const state = ticket.state === 'waiting_support' ? 'waiting for the support team' : 'waiting for your answer';
  return { text: `Ticket #${ticket.number} (${ticket.subject}): ${state}. /close closes it.` };
}

/** /close from the user: closes their own ticket. */
export async function userCloseCommand(ctx: SupportContext, who: ChatPerson): Promise<Reply> {
  const ticket = await userTicket(ctx.deps, who.platform, who.externalId);
  if (!ticket) return { text: 'You have no open ticket.' };
  await closeTicket(ctx.deps, ticket.id, { side: 'user', name: who.displayName });
  return { text: `Ticket #${ticket.number} closed. Thank you!` };
}

/** A message in the support place (group reply / ticket thread) from a support member. */
export async function handleSupportText(
  ctx: SupportContext,
  message: { platform: ChatPlatform; supportChatId: string; replyTo?: string; messageId: string; author: { externalId: string; name: string }; text: string; attachment?: Attachment },
): Promise<string | null> {
  const result = await supportMessage(ctx.deps, ctx.settings, message);
  switch (result) {
    case 'relayed':
    case 'no-ticket':
      return null; // relayed silently; chatter outside tickets is not ours
    case 'internal':
      return null;
    case 'not-member':
      return 'Only configured support members can answer tickets (SUPPORT_MEMBERS).';
    case 'closed-ticket':
      return 'This ticket is closed; the message was not sent.';
    case 'too-long':
      return 'Too long (2000 characters at most); the message was not sent.';
  }
}

/** /close in the support place: closes the ticket the command belongs to. */
export async function supportCloseCommand(
  ctx: SupportContext,
  where: { platform: ChatPlatform; supportChatId: string; replyTo?: string; author: { externalId: string; name: string } },
): Promise<string> {
  if (!isSupportMember(ctx.deps, ctx.settings, where.platform, where.author.externalId)) return 'Only support members can close tickets.';
  const ticket = await ticketForSupportMessage(ctx.deps, where);
  if (!ticket) return where.platform === 'telegram' ? 'Reply /close to a message of the ticket you want to close.' : 'Use /close inside a ticket thread.';
  const result = await closeTicket(ctx.deps, ticket.id, { side: 'support', name: where.author.name });
  return result === 'closed' ? `Ticket #${ticket.number} closed.` : `Ticket #${ticket.number} was already closed.`;
}

/** /tickets for support: open tickets, oldest waiting first. */
export async function ticketsCommand(ctx: SupportContext, who: { platform: ChatPlatform; externalId: string }): Promise<string> {
  if (!isSupportMember(ctx.deps, ctx.settings, who.platform, who.externalId)) return 'This command is for the support team.';
  return openTicketsSummary(ctx.deps);
}
