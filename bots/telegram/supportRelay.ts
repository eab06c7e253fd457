// The support team's Telegram group as a SupportRelay: a ticket is a card message in the group,
// and everything about it is posted as a reply to that card (reply-threading).
import type { SupportRelay, Attachment } from '../../src/support/desk.js';
import type { TelegramChannel } from './channel.js';

export class TelegramSupportRelay implements SupportRelay {
  readonly platform = 'telegram' as const;

  constructor(private readonly channel: TelegramChannel, private readonly groupChatId: string) {}

  async openTicket(card: string): Promise<{ supportChatId: string; messageId: string }> {
    const messageId = await this.channel.sendToChat(this.groupChatId, `${card}\n\nReply to this ticket's messages to answer the user; start a reply with ! for an internal note; reply /close to close it.`);
    return { supportChatId: this.groupChatId, messageId };
  }

  post(supportChatId: string, text: string, opts: { replyTo?: string; attachment?: Attachment } = {}): Promise<string> {
    return this.channel.sendToChat(supportChatId, text, opts);
  }
}
