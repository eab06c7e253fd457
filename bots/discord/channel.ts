// Discord as a ChatChannel: DMs through the REST API only (no gateway needed, so any worker can
// send). @discordjs/rest waits out 429s itself; errors that remain are mapped to ChatDeliveryError.
import { DiscordAPIError, HTTPError, REST, Routes, type RESTPostAPIChannelMessageResult } from 'discord.js';
import { ChatDeliveryError, type ChatChannel, type ChatMessageRef, type SessionView } from '../../src/domain/ports.js';
import { renderSessionComponents, renderSessionContent } from './render.js';

export function toDeliveryError(err: unknown): ChatDeliveryError | null {
  if (err instanceof DiscordAPIError) {
    const code = typeof err.code === 'number' ? err.code : Number(err.code);
    if (err.status >= 500) return new ChatDeliveryError(`discord: ${err.message}`, null, false);
    if (err.status === 429) return new ChatDeliveryError(`discord: ${err.message}`, 5000, false);
    // Other 4xx answers (bad request, missing access, DMs closed) will not change on retry.
    return new ChatDeliveryError(`discord: ${err.message} (${code})`, null, true);
  }
  if (err instanceof HTTPError) return new ChatDeliveryError(`discord: HTTP ${err.status}`, null, false);
  const name = (err as { name?: string } | null)?.name;
  const code = (err as { code?: string } | null)?.code;
  if (name === 'AbortError' || name === 'TypeError' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return new ChatDeliveryError(`discord unreachable: ${(err as Error).message}`, null, false);
  }
  return null;
}

export function createDiscordRest(token: string, apiRoot: string): REST {
  return new REST({ version: '10', api: apiRoot, retries: 2, timeout: 15_000 }).setToken(token);
}

export class DiscordChannel implements ChatChannel {
  readonly platform = 'discord' as const;

  constructor(private readonly rest: REST) {}

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDeliveryError(err) ?? err;
    }
  }

  async sendSessionPrompt(chatId: string, view: SessionView): Promise<ChatMessageRef> {
    const message = (await this.call(() =>
      this.rest.post(Routes.channelMessages(chatId), {
        body: { content: renderSessionContent(view), components: renderSessionComponents(view), allowed_mentions: { parse: [] } },
      }),
    )) as RESTPostAPIChannelMessageResult;
    return { chatId, messageId: message.id };
  }

  async updateSessionMessage(ref: ChatMessageRef, view: SessionView): Promise<void> {
    await this.call(() =>
      this.rest.patch(Routes.channelMessage(ref.chatId, ref.messageId), {
        // An empty components list removes the buttons once the session is decided.
        body: { content: renderSessionContent(view), components: renderSessionComponents(view), allowed_mentions: { parse: [] } },
      }),
    );
  }

  async sendChoice(chatId: string, text: string, choices: Array<{ label: string; data: string }>): Promise<ChatMessageRef> {
    const message = (await this.call(() =>
      this.rest.post(Routes.channelMessages(chatId), {
        body: {
          content: text.slice(0, 2000),
          allowed_mentions: { parse: [] },
          components: [{ type: 1, components: choices.map((c) => ({ type: 2, style: 2, label: c.label.slice(0, 80), custom_id: c.data })) }],
        },
      }),
    )) as RESTPostAPIChannelMessageResult;
    return { chatId, messageId: message.id };
  }

  async updateText(ref: ChatMessageRef, text: string): Promise<void> {
    await this.call(() =>
      this.rest.patch(Routes.channelMessage(ref.chatId, ref.messageId), { body: { content: text.slice(0, 2000), components: [], allowed_mentions: { parse: [] } } }),
    );
  }

  async directChatId(externalId: string): Promise<string> {
    const channel = (await this.call(() => this.rest.post(Routes.userChannels(), { body: { recipient_id: externalId } }))) as { id: string };
    return channel.id;
  }

  async sendFile(chatId: string, file: { kind: 'document' | 'photo'; filename: string; bytes: Buffer; caption?: string }): Promise<void> {
    await this.call(() =>
      this.rest.post(Routes.channelMessages(chatId), {
        body: { content: (file.caption ?? '').slice(0, 2000), allowed_mentions: { parse: [] } },
        files: [{ name: file.filename, data: file.bytes, contentType: file.kind === 'photo' ? 'image/png' : 'text/plain' }],
      }),
    );
  }

  async sendText(chatId: string, text: string): Promise<void> {
    await this.call(() => this.rest.post(Routes.channelMessages(chatId), { body: { content: text.slice(0, 2000), allowed_mentions: { parse: [] } } }));
  }
}
