// The support team's Discord channel as a SupportRelay: one thread per ticket, started from the
// ticket's card message; everything about the ticket is posted in that thread.
import { Routes, type REST, type RESTPostAPIChannelMessageResult } from 'discord.js';
import type { Attachment, SupportRelay } from '../../src/support/desk.js';
import { toDeliveryError } from './channel.js';

export class DiscordSupportRelay implements SupportRelay {
  readonly platform = 'discord' as const;

  constructor(private readonly rest: REST, private readonly channelId: string) {}

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDeliveryError(err) ?? err;
    }
  }

  async openTicket(card: string): Promise<{ supportChatId: string; messageId: string }> {
    const message = (await this.call(() =>
      this.rest.post(Routes.channelMessages(this.channelId), { body: { content: card.slice(0, 2000), allowed_mentions: { parse: [] } } }),
    )) as RESTPostAPIChannelMessageResult;
    const title = /Ticket #\d+[^\n]*/.exec(card)?.[0] ?? 'Ticket';
    const thread = (await this.call(() =>
      this.rest.post(Routes.threads(this.channelId, message.id), { body: { name: title.slice(0, 100), auto_archive_duration: 10080 } }),
    )) as { id: string };
    await this.post(thread.id, 'Messages in this thread go to the user; start with ! for an internal note; /close closes the ticket.');
    return { supportChatId: thread.id, messageId: message.id };
  }

  async post(supportChatId: string, text: string, opts: { replyTo?: string; attachment?: Attachment } = {}): Promise<string> {
    const { attachment } = opts;
    const message = (await this.call(() =>
      this.rest.post(Routes.channelMessages(supportChatId), {
        body: { content: text.slice(0, 2000), allowed_mentions: { parse: [] } },
        ...(attachment ? { files: [{ name: attachment.filename, data: attachment.bytes }] } : {}),
      }),
    )) as RESTPostAPIChannelMessageResult;
    return message.id;
  }
}
