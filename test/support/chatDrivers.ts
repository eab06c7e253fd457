// A chat user, on either platform, as the end-to-end scenarios see them: link the account, find
// the prompt for a login, press a button and read the answer, watch the message change. The same
// scenarios run against Telegram and Discord through these drivers.
import type { FakeTelegram, TgUser, FakeMessage as TgMessage } from './fake-telegram/index.js';
import type { FakeDiscord, FakeMessage as DcMessage } from './fake-discord/index.js';
import { eventually } from './wardenProcess.js';

export type Platform = 'telegram' | 'discord';

export interface PromptMessage {
  text: string;
  buttons: string[];
}

export interface ChatUser {
  readonly platform: Platform;
  readonly name: string;
  /** Sends the link code the way the platform's bot expects it. */
  link(code: string): Promise<string>;
  waitForPrompt(sessionAddress: string, timeoutMs?: number): Promise<PromptHandle>;
  /** Prompts for this address seen so far. */
  promptsFor(sessionAddress: string): number;
}

export interface PromptHandle {
  current(): PromptMessage;
  /** Presses Approve or Deny; resolves with the text the platform shows the presser. */
  press(button: 'approve' | 'deny'): Promise<string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<PromptMessage>;
}

const LABELS = { approve: /Approve/, deny: /Deny/ };

export class TelegramUser implements ChatUser {
  readonly platform = 'telegram' as const;
  readonly user: TgUser;

  constructor(private readonly fake: FakeTelegram, readonly name: string) {
    this.user = fake.createUser({ first_name: name, username: name.toLowerCase() });
  }

  async link(code: string): Promise<string> {
    const before = this.fake.messagesIn(this.user.id).length;
    this.fake.userSends(this.user, `/start ${code}`);
    const reply = await eventually('link reply', () => this.fake.messagesIn(this.user.id).slice(before).find((m) => m.fromBot));
    return reply.text ?? '';
  }

  private prompts(address: string): TgMessage[] {
    return this.fake.messagesIn(this.user.id).filter((m) => m.fromBot && (m.text ?? '').includes(`session address ${address})`));
  }

  promptsFor(address: string): number {
    return this.prompts(address).length;
  }

  async waitForPrompt(address: string, timeoutMs = 15_000): Promise<PromptHandle> {
    const message = await eventually(`telegram prompt for ${address}`, () => this.prompts(address)[0], timeoutMs);
    const fake = this.fake;
    const user = this.user;
    const view = (): PromptMessage => {
      const m = fake.messagesIn(message.chatId).find((x) => x.messageId === message.messageId)!;
      return { text: m.text ?? '', buttons: (m.replyMarkup?.inline_keyboard ?? []).flat().map((b) => b.text) };
    };
    return {
      current: view,
      async press(button) {
        const label = view().buttons.find((b) => LABELS[button].test(b));
        if (!label) throw new Error(`no ${button} button`);
        const click = await fake.clickButton(user, message, label);
        return (await click.answer).text ?? '';
      },
      waitFor: (pattern, ms = 15_000) => eventually(`telegram prompt to show ${pattern}`, () => (pattern.test(view().text) ? view() : undefined), ms),
    };
  }
}

export class DiscordUser implements ChatUser {
  readonly platform = 'discord' as const;
  readonly user: ReturnType<FakeDiscord['createUser']>;

  constructor(private readonly fake: FakeDiscord, readonly name: string) {
    this.user = fake.createUser({ username: name.toLowerCase(), global_name: name });
  }

  /** The ephemeral answer to an interaction, once the bot has written it. */
  private async answerOf(interactionId: string): Promise<string> {
    return eventually('interaction answer', () => {
      const record = this.fake.interactions.find((i) => i.id === interactionId);
      const reply = record?.originalMessageId ? this.fake.message(record.originalMessageId) : undefined;
      return reply && reply.content ? reply.content : undefined;
    });
  }

  async link(code: string): Promise<string> {
    await eventually('slash commands registered', () => this.fake.commands().some((c) => c.name === 'link'));
    const handle = await this.fake.runSlashCommand(this.user, 'link', { code });
    return this.answerOf(handle.interactionId);
  }

  private prompts(address: string): DcMessage[] {
    const channel = this.fake.dmChannelOf(this.user);
    if (!channel) return [];
    return this.fake.messagesIn(channel.id).filter((m) => m.content.includes(`session address ${address})`));
  }

  promptsFor(address: string): number {
    return this.prompts(address).length;
  }

  async waitForPrompt(address: string, timeoutMs = 15_000): Promise<PromptHandle> {
    const message = await eventually(`discord prompt for ${address}`, () => this.prompts(address)[0], timeoutMs);
    const view = (): PromptMessage => ({
      text: message.content,
      buttons: message.components.flatMap((row) => row.components.map((c) => c.label ?? '')),
    });
    return {
      current: view,
      press: async (button) => {
        const label = view().buttons.find((b) => LABELS[button].test(b));
        if (!label) throw new Error(`no ${button} button`);
        const handle = await this.fake.clickButton(this.user, message, label);
        await handle.acknowledged;
        return this.answerOf(handle.interactionId);
      },
      waitFor: (pattern, ms = 15_000) => eventually(`discord prompt to show ${pattern}`, () => (pattern.test(view().text) ? view() : undefined), ms),
    };
  }
}
