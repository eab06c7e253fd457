// Telegram as a ChatChannel: sends and edits session messages through the Bot API, spaced per
// chat to stay under Telegram's ~1 message/second/chat limit, and maps Bot API errors to
// ChatDeliveryError so jobs know whether (and when) to retry.
import type { Telegram } from 'telegraf';
import { Input, TelegramError } from 'telegraf';
import { ChatDeliveryError, type ChatChannel, type ChatMessageRef, type SessionView } from '../../src/domain/ports.js';
import { renderSessionKeyboard, renderSessionText } from './render.js';

/**
 * Per-chat token bucket: a burst of 3, then one message per second. It never waits itself: a send
 * that would exceed the pace is handed back to its job as "retry in N ms", so a busy chat never
 * holds a worker slot that another person's prompt needs.
 */
export class ChatPacer {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly burst = 3, private readonly perSecond = 1) {}

  /** Takes a token for `chatId`; returns 0 if sending now is fine, else how long to wait. */
  reserve(chatId: string, now = Date.now()): number {
    const b = this.buckets.get(chatId) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(chatId, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }
}

export function toDeliveryError(err: unknown): ChatDeliveryError | null {
  if (err instanceof TelegramError) {
    const description = err.description ?? err.message;
    if (err.code === 429) {
      const seconds = err.parameters?.retry_after ?? 5;
      return new ChatDeliveryError(`telegram: ${description}`, seconds * 1000, false);
    }
    if (err.code >= 500) return new ChatDeliveryError(`telegram: ${description}`, null, false);
    // 403 blocked / can't initiate, 400 chat not found: retrying cannot help.
    return new ChatDeliveryError(`telegram: ${description}`, null, true);
  }
  const name = (err as { name?: string; code?: string } | null)?.name;
  if (name === 'FetchError' || name === 'AbortError' || (err as { code?: string })?.code === 'ECONNREFUSED') {
    return new ChatDeliveryError(`telegram unreachable: ${(err as Error).message}`, null, false);
  }
  return null;
}

export class TelegramChannel implements ChatChannel {
  readonly platform = 'telegram' as const;
  private readonly pacer = new ChatPacer();

  constructor(private readonly telegram: Telegram) {}

  private async call<T>(chatId: string, fn: () => Promise<T>): Promise<T> {
    const wait = this.pacer.reserve(chatId);
    if (wait > 0) throw new ChatDeliveryError(`telegram: pacing chat ${chatId}`, wait, false);
    try {
      return await fn();
    } catch (err) {
      throw toDeliveryError(err) ?? err;
    }
  }

  async sendSessionPrompt(chatId: string, view: SessionView): Promise<ChatMessageRef> {
    const keyboard = renderSessionKeyboard(view);
    const message = await this.call(chatId, () =>
      this.telegram.sendMessage(chatId, renderSessionText(view), {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(keyboard ? { reply_markup: keyboard } : {}),
      }),
    );
    return { chatId: String(message.chat.id), messageId: String(message.message_id) };
  }

  async updateSessionMessage(ref: ChatMessageRef, view: SessionView): Promise<void> {
    const keyboard = renderSessionKeyboard(view);
    try {
      await this.call(ref.chatId, () =>
        this.telegram.editMessageText(ref.chatId, Number(ref.messageId), undefined, renderSessionText(view), {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
          // Without reply_markup Telegram removes the buttons, which is what an outcome wants.
          ...(keyboard ? { reply_markup: keyboard } : {}),
        }),
      );
    } catch (err) {
      // Already showing exactly this (e.g. a retried job): nothing to do.
      if (err instanceof ChatDeliveryError && /message is not modified/i.test(err.message)) return;
      throw err;
    }
  }

  async sendChoice(chatId: string, text: string, choices: Array<{ label: string; data: string }>): Promise<ChatMessageRef> {
    const message = await this.call(chatId, () =>
      this.telegram.sendMessage(chatId, text.slice(0, 4096), {
        reply_markup: { inline_keyboard: [choices.map((c) => ({ text: c.label, callback_data: c.data }))] },
      }),
    );
    return { chatId: String(message.chat.id), messageId: String(message.message_id) };
  }

  async updateText(ref: ChatMessageRef, text: string): Promise<void> {
    try {
      await this.call(ref.chatId, () => this.telegram.editMessageText(ref.chatId, Number(ref.messageId), undefined, text.slice(0, 4096)));
    } catch (err) {
      if (err instanceof ChatDeliveryError && /message is not modified/i.test(err.message)) return;
      throw err;
    }
  }

  /** A text (or a file with the text as caption) in any chat, optionally as a reply; returns its message id. */
  async sendToChat(chatId: string, text: string, opts: { replyTo?: string; attachment?: { kind: 'photo' | 'document'; filename: string; bytes: Buffer } } = {}): Promise<string> {
    const reply = opts.replyTo ? { reply_parameters: { message_id: Number(opts.replyTo), allow_sending_without_reply: true } } : {};
    if (opts.attachment) {
      const { kind, filename, bytes } = opts.attachment;
      // telegraf 4.16 drops object-valued fields it does not know from multipart uploads
      // (reply_parameters among them), so the reply goes as the JSON string Telegram expects.
      const extra = {
        ...(opts.replyTo ? { reply_parameters: JSON.stringify(reply.reply_parameters) as never } : {}),
        caption: text.slice(0, 1024),
      };
      const input = Input.fromBuffer(bytes, filename);
      const sent = await this.call<{ message_id: number }>(chatId, () =>
        kind === 'photo' ? this.telegram.sendPhoto(chatId, input, extra) : this.telegram.sendDocument(chatId, input, extra),
      );
      return String(sent.message_id);
    }
    const sent = await this.call(chatId, () => this.telegram.sendMessage(chatId, text.slice(0, 4096), reply));
    return String(sent.message_id);
  }

  async directChatId(externalId: string): Promise<string> {
    // A private chat's id is the user's id (the user must have started the bot once).
    return externalId;
  }

  async sendText(chatId: string, text: string): Promise<void> {
    await this.call(chatId, () => this.telegram.sendMessage(chatId, text.slice(0, 4096)));
  }

  async sendFile(chatId: string, file: { kind: 'document' | 'photo'; filename: string; bytes: Buffer; caption?: string }): Promise<void> {
    const input = Input.fromBuffer(file.bytes, file.filename);
    const extra = file.caption ? { caption: file.caption.slice(0, 1024) } : {};
    await this.call<unknown>(chatId, () =>
      file.kind === 'photo' ? this.telegram.sendPhoto(chatId, input, extra) : this.telegram.sendDocument(chatId, input, extra),
    );
  }
}
