// The Discord bot: gateway connection (held by one instance at a time, see gatewayLock.ts),
// slash commands and button clicks. Prompts themselves go out through DiscordChannel (REST), so
// every worker can send them whether or not it holds the gateway.
import {
  Client,
  Events,
  GatewayIntentBits,
  Partials,
  SlashCommandBuilder,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import type { Redis } from 'ioredis';
import type { DomainDeps } from '../../src/domain/ports.js';
import type { Logger } from '../../src/log.js';
import { describePerson, redeemLinkCode, setPromptDelivery } from '../../src/domain/linking.js';
import { HELP_TEXT, linkResultText, NOT_LINKED_TEXT, promptDeliveryText, statusText, type Markup } from '../../src/messaging/texts.js';
import { handleDecisionButton } from './features/approval.js';
import { escapeMarkdown } from './render.js';
import { GatewayLock } from './gatewayLock.js';

export interface DiscordSettings {
  token: string;
  apiRoot: string;
  lockTtlMs: number;
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
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages],
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

  private async handle(interaction: Interaction): Promise<void> {
    if (interaction.isButton()) {
      if (await handleDecisionButton(this.deps, interaction)) return;
      await interaction.reply({ content: 'Sorry, this button is no longer valid.', flags: 'Ephemeral' });
      return;
    }
    if (interaction.isChatInputCommand()) await this.command(interaction);
  }

  private async command(interaction: ChatInputCommandInteraction): Promise<void> {
    // Defer at once: the database may take longer than Discord's 3-second window.
    await interaction.deferReply({ flags: 'Ephemeral' });
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

  async stop(): Promise<void> {
    await this.lock.stop();
    await this.disconnect('shutdown');
  }
}
