// The support desk in Telegram: users write privately (FAQ answer or ticket), the support team
// answers by replying in their group. Parsing and file download here; the rules in src/support.
import { Composer, type Context } from 'telegraf';
import type { Message } from 'telegraf/types';
import type { Attachment } from '../../../src/support/desk.js';
import { MAX_ATTACHMENT_BYTES } from '../../../src/support/desk.js';
import {
  faqCommand,
  handleFaqButton,
  handleSupportText,
  handleUserText,
  supportCloseCommand,
  supportCommand,
  ticketCommand,
  ticketsCommand,
  userCloseCommand,
  type SupportContext,
} from '../../../src/support/commands.js';
import { chatPerson, sendReply } from './devices.js';

const UNSUPPORTED = 'I can pass on text, photos and documents (files) to the support team, but not this kind of message.';

/** Downloads a file a user sent, within the size limit. */
async function download(ctx: Context, fileId: string, size: number | undefined, kind: Attachment['kind'], filename: string): Promise<Attachment | 'too-large'> {
  if (size !== undefined && size > MAX_ATTACHMENT_BYTES) return 'too-large';
  const link = await ctx.telegram.getFileLink(fileId);
  const response = await fetch(link);
  if (!response.ok) throw new Error(`file download failed: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_ATTACHMENT_BYTES) return 'too-large';
  return { kind, filename, bytes };
}

async function attachmentOf(ctx: Context, message: Message): Promise<Attachment | 'too-large' | null | 'unsupported'> {
  if ('photo' in message && message.photo.length) {
    const largest = message.photo[message.photo.length - 1]!;
    return download(ctx, largest.file_id, largest.file_size, 'photo', `photo-${message.message_id}.jpg`);
  }
  if ('document' in message) {
    return download(ctx, message.document.file_id, message.document.file_size, 'document', message.document.file_name ?? `file-${message.message_id}`);
  }
  if ('text' in message) return null;
  return 'unsupported';
}

export function supportFeature(support: SupportContext, supportGroupId: string | null): Composer<Context> {
  const composer = new Composer<Context>();
  const isSupportGroup = (ctx: Context) => supportGroupId !== null && String(ctx.chat?.id) === supportGroupId;
  const author = (ctx: Context) => ({ externalId: String(ctx.from!.id), name: [ctx.from!.first_name, ctx.from!.last_name].filter(Boolean).join(' ') });
  const replyTo = (message: Message) => ('reply_to_message' in message && message.reply_to_message ? String(message.reply_to_message.message_id) : undefined);

  composer.command('support', async (ctx) => {
    if (ctx.chat.type !== 'private') return;
    await sendReply(ctx, await supportCommand(support, chatPerson(ctx), ctx.payload));
  });
  composer.command('faq', async (ctx) => {
    if (ctx.chat.type !== 'private') return;
    await sendReply(ctx, faqCommand(support, chatPerson(ctx), ctx.payload));
  });
  composer.command('ticket', async (ctx) => sendReply(ctx, await ticketCommand(support, { platform: 'telegram', externalId: String(ctx.from.id) })));
  composer.command('tickets', async (ctx) => sendReply(ctx, { text: await ticketsCommand(support, { platform: 'telegram', externalId: String(ctx.from.id) }) }));
  composer.command('close', async (ctx) => {
    if (ctx.chat.type === 'private') return sendReply(ctx, await userCloseCommand(support, chatPerson(ctx)));
    if (!isSupportGroup(ctx)) return;
    const to = replyTo(ctx.message);
    const text = await supportCloseCommand(support, { platform: 'telegram', supportChatId: String(ctx.chat.id), ...(to ? { replyTo: to } : {}), author: author(ctx) });
    await sendReply(ctx, { text });
  });

  composer.on('callback_query', async (ctx, next) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : '';
    const answer = await handleFaqButton(support, chatPerson(ctx), data);
    if (answer === null) return next();
    await ctx.answerCbQuery(answer.slice(0, 200));
    await ctx.editMessageReplyMarkup(undefined).catch(() => {});
    if (data !== 'kb:y') await ctx.reply(answer);
  });

  composer.on('message', async (ctx, next) => {
    const message = ctx.message;
    if ('text' in message && message.text.startsWith('/')) return next(); // an unknown command
    if (ctx.chat.type === 'private') {
      const attachment = await attachmentOf(ctx, message);
      if (attachment === 'unsupported') return sendReply(ctx, { text: UNSUPPORTED });
      if (attachment === 'too-large') return sendReply(ctx, { text: 'That file is too large (10 MB at most).' });
      const text = 'text' in message ? message.text : 'caption' in message ? (message.caption ?? '') : '';
      return sendReply(ctx, await handleUserText(support, chatPerson(ctx), text, attachment ?? undefined));
    }
    if (isSupportGroup(ctx)) {
      const to = replyTo(message);
      if (!to) return; // team chatter, not a reply to a ticket
      const attachment = await attachmentOf(ctx, message);
      if (attachment === 'unsupported' || attachment === 'too-large') {
        return sendReply(ctx, { text: attachment === 'unsupported' ? UNSUPPORTED : 'That file is too large (10 MB at most).' });
      }
      const text = 'text' in message ? message.text : 'caption' in message ? (message.caption ?? '') : '';
      const warning = await handleSupportText(support, {
        platform: 'telegram',
        supportChatId: String(ctx.chat.id),
        replyTo: to,
        messageId: String(message.message_id),
        author: author(ctx),
        text,
        ...(attachment ? { attachment } : {}),
      });
      if (warning) await sendReply(ctx, { text: warning });
      return;
    }
    return next();
  });
  return composer;
}
