// The Discord bot: gateway connection (held by one instance at a time, see gatewayLock.ts),
// slash commands and button clicks. Prompts themselves go out through DiscordChannel (REST), so
// every worker can send them whether or not it holds the gateway.
import {
  ButtonStyle,
  ChannelType,
  Client,
  ComponentType,
  Events,
  GatewayIntentBits,
  Partials,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Redis } from 'ioredis';
import type { DomainDeps } from '../../src/domain/ports.js';
import type { Logger } from '../../src/log.js';
import { describePerson, redeemLinkCode, setPromptDelivery } from '../../src/domain/linking.js';
import { HELP_TEXT, linkResultText, NOT_LINKED_TEXT, promptDeliveryText, statusText, type Markup } from '../../src/messaging/texts.js';
import { handleDecisionButton } from './features/approval.js';
import { MAX_ATTACHMENT_BYTES, type Attachment } from '../../src/support/desk.js';
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
} from '../../src/support/commands.js';
import { decideSignup, decodeSignupButton } from '../../src/domain/signup.js';
import {
  accountsCommand,
  addDeviceCommand,
  configCommand,
  deleteAccountCommand,
  devicesCommand,
  disableCommand,
  inviteCommand,
  removeCommand,
  removeConfirmation,
  rotateCommand,
  signupCommand,
  SIGNUP_DECISION_ANSWERS,
  type Reply,
} from '../../src/messaging/commands.js';
import { escapeMarkdown } from './render.js';
import { GatewayLock } from './gatewayLock.js';

export interface DiscordSettings {
  token: string;
  apiRoot: string;
  lockTtlMs: number;
}

export interface DiscordSupport {
  context: SupportContext;
  /** The support channel; its threads are tickets. */
  channelId: string | null;
}

const markdown: Markup = { bold: (t) => `**${t}**`, code: (t) => `\`${t}\``, escape: escapeMarkdown };

export const SLASH_COMMANDS = [
  new SlashCommandBuilder()
    .setName('link')
    .setDescription('Link your Discord account with the code your operator gave you')
    .addStringOption((o) => o.setName('code').setDescription('The link code').setRequired(true).setMaxLength(64)),
  new SlashCommandBuilder().setName('status').setDescription('Your VPN accounts and recent sessions'),
  new SlashCommandBuilder()
    .setName('prompts')
    .setDescription('Whether login prompts come to this Discord chat')
    .addBooleanOption((o) => o.setName('enabled').setDescription('Send prompts here').setRequired(true)),
  new SlashCommandBuilder()
    .setName('signup')
    .setDescription('Join with an invite code, or ask an admin for access')
    .addStringOption((o) => o.setName('code').setDescription('Invite code').setMaxLength(64)),
  new SlashCommandBuilder().setName('devices').setDescription('Your devices'),
  new SlashCommandBuilder()
    .setName('adddevice')
    .setDescription('Add a device')
    .addStringOption((o) => o.setName('kind').setDescription('VPN type').setRequired(true).addChoices({ name: 'WireGuard', value: 'wireguard' }, { name: 'PPP (L2TP/SSTP/...)', value: 'ppp' }))
    .addStringOption((o) => o.setName('name').setDescription('Device name, e.g. laptop').setRequired(true).setMaxLength(24)),
  ...(['config', 'rotate', 'remove'] as const).map((name) =>
    new SlashCommandBuilder()
      .setName(name)
      .setDescription({ config: 'Send a configuration again', rotate: 'New keys or password', remove: 'Delete a device' }[name])
      .addStringOption((o) => o.setName('name').setDescription('Device name (see /devices)').setRequired(true).setMaxLength(24)),
  ),
  new SlashCommandBuilder()
    .setName('invite')
    .setDescription('Admins: create an invite code')
    .addIntegerOption((o) => o.setName('uses').setDescription('How many people may use it').setMinValue(1).setMaxValue(1000))
    .addIntegerOption((o) => o.setName('hours').setDescription('Valid for hours').setMinValue(1).setMaxValue(8760))
    .addStringOption((o) => o.setName('kind').setDescription('First device type').addChoices({ name: 'WireGuard', value: 'wireguard' }, { name: 'PPP', value: 'ppp' }))
    .addStringOption((o) => o.setName('router').setDescription('Router name')),
  new SlashCommandBuilder().setName('accounts').setDescription('Admins: list VPN accounts'),
  ...(['disable', 'enable', 'delete'] as const).map((name) =>
    new SlashCommandBuilder()
      .setName(name)
      .setDescription(`Admins: ${name} an account`)
      .addStringOption((o) => o.setName('account').setDescription('PPP user name or id from /accounts').setRequired(true)),
  ),
  new SlashCommandBuilder()
    .setName('support')
    .setDescription('Talk to the support team')
    .addStringOption((o) => o.setName('text').setDescription('Your question').setMaxLength(2000)),
  new SlashCommandBuilder()
    .setName('faq')
    .setDescription('Frequent questions')
    .addStringOption((o) => o.setName('question').setDescription('Your question').setMaxLength(500)),
  new SlashCommandBuilder().setName('ticket').setDescription('Your support ticket'),
  new SlashCommandBuilder().setName('close').setDescription('Close a support ticket'),
  new SlashCommandBuilder().setName('tickets').setDescription('Support team: open tickets'),
  new SlashCommandBuilder().setName('help').setDescription('What this bot does'),
].map((c) => c.toJSON());

export class DiscordBot {
  private client: Client | null = null;
  private readonly lock: GatewayLock;
  private readonly logger: Logger;

  constructor(
    private readonly settings: DiscordSettings,
    private readonly deps: DomainDeps,
    logger: Logger,
    redis: Redis,
    lockKey: string,
    private readonly support: DiscordSupport | null = null,
  ) {
    this.logger = logger.child({ component: 'discord' });
    this.lock = new GatewayLock(
      redis,
      lockKey,
      settings.lockTtlMs,
      () => this.connect(),
      () => this.disconnect('lost the gateway lock'),
    );
  }

  /** Competes for the gateway lock; the holder connects, the others stand by to take over. */
  start(): void {
    this.lock.start();
  }

  private connect(): void {
    this.logger.info({ holder: this.lock.holderId }, 'holding the Discord gateway lock; connecting');
    const client = new Client({
      // Guild messages and their content only when tickets are answered in a support channel
      // (Message Content is a privileged intent: enable it for the bot in the developer portal).
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.DirectMessages,
        ...(this.support?.channelId ? [GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent] : []),
      ],
      partials: [Partials.Channel],
      rest: { api: this.settings.apiRoot },
    });
    this.client = client;
    client.once(Events.ClientReady, (ready) => {
      this.logger.info({ bot: ready.user.tag }, 'discord bot ready');
      ready.application.commands
        .set(SLASH_COMMANDS)
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'registering slash commands failed'));
    });
    client.on(Events.InteractionCreate, (interaction) => {
      this.handle(interaction).catch((err: unknown) => this.logger.error({ err }, 'discord interaction failed'));
    });
    client.on(Events.MessageCreate, (message) => {
      this.onMessage(message).catch((err: unknown) => this.logger.error({ err }, 'discord message handling failed'));
    });
    client.on(Events.Error, (err) => this.logger.warn({ err: err.message }, 'discord client error'));
    client.login(this.settings.token).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'discord login failed; will retry');
      // Give the lock back so this or another instance tries again.
      void this.restartAfterFailure();
    });
  }

  private async restartAfterFailure(): Promise<void> {
    await this.disconnect('login failed');
    await this.lock.stop();
    setTimeout(() => this.lock.start(), 5000).unref();
  }

  private async disconnect(reason: string): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    this.logger.info({ reason }, 'disconnecting from the Discord gateway');
    await client.destroy().catch(() => {});
  }

  /** Free text: a user's DM (FAQ or ticket), or a support member in a ticket thread. */
  private async onMessage(message: Message): Promise<void> {
    if (message.author.bot || !this.support) return;
    const ctx = this.support.context;
    const attachments = [...message.attachments.values()];
    if (attachments.length > 1) {
      await message.reply('Please send one file per message.');
      return;
    }
    let attachment: Attachment | undefined;
    const file = attachments[0];
    if (file) {
      if (file.size > MAX_ATTACHMENT_BYTES) {
        await message.reply('That file is too large (10 MB at most).');
        return;
      }
      const response = await fetch(file.url);
      if (!response.ok) throw new Error(`attachment download failed: HTTP ${response.status}`);
      attachment = { kind: (file.contentType ?? '').startsWith('image/') ? 'photo' : 'document', filename: file.name, bytes: Buffer.from(await response.arrayBuffer()) };
    }
    if (message.channel.type === ChannelType.DM) {
      const who = { platform: 'discord' as const, externalId: message.author.id, chatId: message.channelId, username: message.author.username, displayName: message.author.globalName ?? message.author.username };
      if (!message.content.trim() && !attachment) {
        await message.reply('I can pass on text and files to the support team, but not this kind of message.');
        return;
      }
      const reply = await handleUserText(ctx, who, message.content, attachment);
      await message.reply({
        content: reply.text.slice(0, 2000),
        allowedMentions: { parse: [] },
        components: reply.choices
          ? [{ type: ComponentType.ActionRow, components: reply.choices.map((c) => ({ type: ComponentType.Button, style: ButtonStyle.Secondary, label: c.label, custom_id: c.data })) }]
          : [],
      });
      return;
    }
    if (message.channel.isThread() && message.channel.parentId === this.support.channelId) {
      const warning = await handleSupportText(ctx, {
        platform: 'discord',
        supportChatId: message.channelId,
        messageId: message.id,
        author: { externalId: message.author.id, name: message.member?.displayName ?? message.author.globalName ?? message.author.username },
        text: message.content,
        ...(attachment ? { attachment } : {}),
      });
      if (warning) await message.reply(warning);
    }
  }

  private async handle(interaction: Interaction): Promise<void> {
    if (interaction.isButton()) {
      if (await handleDecisionButton(this.deps, interaction)) return;
      const signup = decodeSignupButton(interaction.customId);
      if (signup) {
        await interaction.deferReply({ flags: 'Ephemeral' });
        const outcome = await decideSignup(this.deps, { ...signup, actor: { platform: 'discord', externalId: interaction.user.id } });
        await interaction.editReply(SIGNUP_DECISION_ANSWERS[outcome]);
        return;
      }
      await interaction.deferReply({ flags: 'Ephemeral' });
      if (this.support) {
        const faq = await handleFaqButton(this.support.context, this.chatPerson(interaction), interaction.customId);
        if (faq !== null) {
          await interaction.editReply(faq);
          return;
        }
      }
      const removal = await removeConfirmation(this.deps, 'discord', interaction.user.id, interaction.customId);
      if (removal) {
        await interaction.editReply(removal.text);
        return;
      }
      await interaction.editReply('Sorry, this button is no longer valid.');
      return;
    }
    if (interaction.isChatInputCommand()) await this.command(interaction);
  }

  private async command(interaction: ChatInputCommandInteraction): Promise<void> {
    // Defer at once: the database may take longer than Discord's 3-second window.
    await interaction.deferReply({ flags: 'Ephemeral' });
    const uid = interaction.user.id;
    const answer = async (reply: Reply) => {
      await interaction.editReply({
        content: reply.text.slice(0, 2000),
        components: reply.choices
          ? [{ type: ComponentType.ActionRow, components: reply.choices.map((c) => ({ type: ComponentType.Button, style: ButtonStyle.Secondary, label: c.label, custom_id: c.data })) }]
          : [],
      });
    };
    switch (interaction.commandName) {
      case 'link': {
        const dm = await interaction.user.createDM();
        const result = await redeemLinkCode(this.deps, {
          platform: 'discord',
          externalId: interaction.user.id,
          chatId: dm.id,
          username: interaction.user.username,
          code: interaction.options.getString('code', true),
        });
        await interaction.editReply(linkResultText(result, 'Discord'));
        return;
      }
      case 'status': {
        const person = await describePerson(this.deps, 'discord', interaction.user.id);
        await interaction.editReply(person ? statusText(person, markdown).slice(0, 2000) : NOT_LINKED_TEXT);
        return;
      }
      case 'signup': {
        const dm = await interaction.user.createDM();
        const who = { platform: 'discord' as const, externalId: uid, chatId: dm.id, username: interaction.user.username, displayName: interaction.user.globalName ?? interaction.user.username };
        return answer(await signupCommand(this.deps, who, interaction.options.getString('code')));
      }
      case 'devices':
        return answer(await devicesCommand(this.deps, 'discord', uid));
      case 'adddevice':
        return answer(await addDeviceCommand(this.deps, 'discord', uid, interaction.options.getString('kind', true), interaction.options.getString('name', true)));
      case 'config':
        return answer(await configCommand(this.deps, 'discord', uid, interaction.options.getString('name', true)));
      case 'rotate':
        return answer(await rotateCommand(this.deps, 'discord', uid, interaction.options.getString('name', true)));
      case 'remove':
        return answer(await removeCommand(this.deps, 'discord', uid, interaction.options.getString('name', true)));
      case 'invite':
        return answer(
          await inviteCommand(
            this.deps,
            'discord',
            uid,
            {
              uses: interaction.options.getInteger('uses') ?? 1,
              hours: interaction.options.getInteger('hours'),
              kind: interaction.options.getString('kind') ?? 'wireguard',
              router: interaction.options.getString('router'),
            },
            () => null,
          ),
        );
      case 'accounts':
        return answer(await accountsCommand(this.deps, 'discord', uid));
      case 'disable':
      case 'enable':
        return answer(await disableCommand(this.deps, 'discord', uid, interaction.options.getString('account', true), interaction.commandName === 'disable'));
      case 'delete':
        return answer(await deleteAccountCommand(this.deps, 'discord', uid, interaction.options.getString('account', true)));
      case 'support':
      case 'faq':
      case 'ticket':
      case 'close':
      case 'tickets':
        return answer(await this.supportCommand(interaction));
      case 'prompts': {
        const enabled = interaction.options.getBoolean('enabled', true);
        const result = await setPromptDelivery(this.deps, { platform: 'discord', externalId: interaction.user.id, enabled });
        await interaction.editReply(promptDeliveryText(result));
        return;
      }
      default:
        await interaction.editReply(HELP_TEXT);
    }
  }

  private chatPerson(interaction: Interaction) {
    return {
      platform: 'discord' as const,
      externalId: interaction.user.id,
      chatId: interaction.channelId ?? '',
      username: interaction.user.username,
      displayName: interaction.user.globalName ?? interaction.user.username,
    };
  }

  private async supportCommand(interaction: ChatInputCommandInteraction): Promise<Reply> {
    if (!this.support) return { text: 'The support desk is not set up here.' };
    const ctx = this.support.context;
    const inThread = interaction.channel?.isThread() && interaction.channel.parentId === this.support.channelId;
    const who = { ...this.chatPerson(interaction), chatId: (await interaction.user.createDM()).id };
    const author = { externalId: interaction.user.id, name: interaction.user.globalName ?? interaction.user.username };
    switch (interaction.commandName) {
      case 'support':
        return supportCommand(ctx, who, interaction.options.getString('text') ?? '');
      case 'faq':
        return faqCommand(ctx, who, interaction.options.getString('question') ?? '');
      case 'ticket':
        return ticketCommand(ctx, who);
      case 'tickets':
        return { text: await ticketsCommand(ctx, who) };
      default:
        // /close: in a ticket thread it is support closing that ticket; elsewhere the user's own.
        if (inThread) return { text: await supportCloseCommand(ctx, { platform: 'discord', supportChatId: interaction.channelId, author }) };
        return userCloseCommand(ctx, who);
    }
  }

  async stop(): Promise<void> {
    await this.lock.stop();
    await this.disconnect('shutdown');
  }
}
