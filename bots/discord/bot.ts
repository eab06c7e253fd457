// The Discord bot: gateway connection (held by one instance at a time, see gatewayLock.ts),
// slash commands and button clicks. Prompts themselves go out through DiscordChannel (REST), so
// every worker can send them whether or not it holds the gateway.
import {
  ButtonStyle,
  Client,
  ComponentType,
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
      const signup = decodeSignupButton(interaction.customId);
      if (signup) {
        await interaction.deferReply({ flags: 'Ephemeral' });
        const outcome = await decideSignup(this.deps, { ...signup, actor: { platform: 'discord', externalId: interaction.user.id } });
        await interaction.editReply(SIGNUP_DECISION_ANSWERS[outcome]);
        return;
      }
      await interaction.deferReply({ flags: 'Ephemeral' });
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
