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
  /** Runs a bot command (`/name arg1 arg2` in Telegram, a slash command with options in Discord); resolves with the answer. */
  command(name: string, options?: Record<string, string>): Promise<string>;
  /** Files the bot sent this user privately, oldest first. */
  files(): ReceivedFile[];
  /** Plain messages the bot sent this user privately (not replies to commands in Discord), oldest first. */
  texts(): string[];
  /** Presses a button on the latest bot message that has it (Telegram) or on the last command answer (Discord). */
  pressLatest(label: string): Promise<string>;
}

export interface ReceivedFile {
  kind: 'document' | 'photo';
  filename: string;
  bytes: Buffer;
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

  async command(name: string, options: Record<string, string> = {}): Promise<string> {
    const before = this.fake.messagesIn(this.user.id).length;
    const { message } = this.fake.userSends(this.user, [`/${name}`, ...Object.values(options)].join(' '));
    // Prefer the bot's reply to this very message: other messages (a config being delivered) may come first.
    const reply = await eventually(`/${name} reply`, () => {
      const fresh = this.fake.messagesIn(this.user.id).slice(before).filter((m) => m.fromBot && m.kind === 'text');
      return fresh.find((m) => m.replyToMessageId === message.messageId) ?? (name === 'start' ? fresh[0] : undefined);
    });
    return reply.text ?? '';
  }

  files(): ReceivedFile[] {
    return this.fake
      .messagesIn(this.user.id)
      .filter((m) => m.fromBot && m.file)
      .map((m) => ({ kind: m.file!.kind, filename: m.file!.fileName ?? '', bytes: m.file!.bytes }));
  }

  texts(): string[] {
    return this.fake.messagesIn(this.user.id).filter((m) => m.fromBot && m.kind === 'text').map((m) => m.text ?? '');
  }

  async pressLatest(label: string): Promise<string> {
    const message = [...this.fake.messagesIn(this.user.id)].reverse().find((m) => m.fromBot && (m.replyMarkup?.inline_keyboard ?? []).flat().some((b) => b.text === label));
    if (!message) throw new Error(`no message with a "${label}" button`);
    const click = await this.fake.clickButton(this.user, message, label);
    return (await click.answer).text ?? '';
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

  private lastAnswer: DcMessage | null = null;

  async command(name: string, options: Record<string, string> = {}): Promise<string> {
    await eventually('slash commands registered', () => this.fake.commands().some((c) => c.name === name));
    const handle = await this.fake.runSlashCommand(this.user, name, options);
    const text = await this.answerOf(handle.interactionId);
    const record = this.fake.interactions.find((i) => i.id === handle.interactionId);
    this.lastAnswer = record?.originalMessageId ? (this.fake.message(record.originalMessageId) ?? null) : null;
    return text;
  }

  private dm(): DcMessage[] {
    const channel = this.fake.dmChannelOf(this.user);
    return channel ? this.fake.messagesIn(channel.id) : [];
  }

  files(): ReceivedFile[] {
    return this.dm().flatMap((m) =>
      m.attachments.map((a) => ({ kind: (a.content_type ?? '').startsWith('image/') ? ('photo' as const) : ('document' as const), filename: a.filename, bytes: a.bytes })),
    );
  }

  texts(): string[] {
    return this.dm()
      .filter((m) => m.attachments.length === 0 && m.components.length === 0)
      .map((m) => m.content);
  }

  async pressLatest(label: string): Promise<string> {
    if (!this.lastAnswer) throw new Error('no command answer to press a button on');
    const handle = await this.fake.clickButton(this.user, this.lastAnswer, label);
    await handle.acknowledged;
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
