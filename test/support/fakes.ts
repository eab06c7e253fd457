// In-memory stand-ins for the domain's ports (router, chat, clock), for integration tests that
// exercise the domain against the real database without a network.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { SecretBox } from '../../src/crypto/secretBox.js';
import { generateWireguardKeyPair } from '../../src/router/wireguardKeys.js';
import type { Db } from '../../src/db/client.js';
import {
  ChatDeliveryError,
  type ActivePppSession,
  type WireguardPeerState,
  type ChatChannel,
  type ChatMessageRef,
  type DomainDeps,
  type Policy,
  type RouterGateway,
  type RouterOps,
  type SessionView,
} from '../../src/domain/ports.js';

export class MemoryRouter implements RouterOps {
  readonly lists = new Map<string, Map<string, { timeout?: number; comment?: string }>>();
  active: ActivePppSession[] = [];
  disconnected: string[] = [];
  down = false;
  private nextId = 1;

  private check(): void {
    if (this.down) throw Object.assign(new Error('router link is down'), { code: 'link-down' });
  }

  connect(row: { name: string; address: string; callerId: string; service?: string }): string {
    const id = `*${(this.nextId++).toString(16).toUpperCase()}`;
    this.active.push({ id, name: row.name, address: row.address, callerId: row.callerId, service: row.service ?? 'l2tp' });
    return id;
  }

  has(list: string, address: string): boolean {
    return this.lists.get(list)?.has(address) ?? false;
  }

  async addToAddressList(list: string, address: string, opts: { timeout?: number; comment?: string } = {}) {
    this.check();
    const entries = this.lists.get(list) ?? new Map();
    this.lists.set(list, entries);
    const created = !entries.has(address);
    entries.set(address, { ...entries.get(address), ...opts });
    return { id: `${list}/${address}`, created };
  }

  async removeFromAddressList(list: string, address: string) {
    this.check();
    return this.lists.get(list)?.delete(address) ? 1 : 0;
  }

  async findPppActive(query: { name?: string; address?: string }) {
    this.check();
    return this.active.filter((r) => (!query.name || r.name === query.name) && (!query.address || r.address === query.address));
  }

  readonly secrets = new Map<string, { password: string; profile?: string; service?: string; comment?: string }>();
  readonly peers = new Map<string, { interface: string; publicKey: string; presharedKey?: string; allowedAddress: string[]; comment?: string; lastHandshakeSeconds?: number; currentEndpointAddress?: string }>();

  async addPppSecret(input: { name: string; password: string; profile?: string; service?: string; comment?: string }) {
    this.check();
    const created = !this.secrets.has(input.name);
    this.secrets.set(input.name, input);
    return { id: input.name, created };
  }

  async removePppSecret(name: string) {
    this.check();
    return this.secrets.delete(name);
  }

  async listWireguardPeers(interfaceName?: string): Promise<WireguardPeerState[]> {
    this.check();
    return [...this.peers.values()]
      .filter((p) => !interfaceName || p.interface === interfaceName)
      .map((p) => ({ ...p, disabled: false }));
  }

  async addWireguardPeer(input: { interface: string; publicKey: string; presharedKey?: string; allowedAddress: string[]; comment?: string }) {
    this.check();
    const created = !this.peers.has(input.publicKey);
    this.peers.set(input.publicKey, { ...this.peers.get(input.publicKey), ...input });
    return { id: input.publicKey, created };
  }

  async removeWireguardPeer(peer: { interface: string; publicKey: string }) {
    this.check();
    return this.peers.delete(peer.publicKey);
  }

  readonly serverKeys = generateWireguardKeyPair();

  async wireguardInterface(name: string) {
    this.check();
    return { name, listenPort: 13231, publicKey: this.serverKeys.publicKey };
  }

  async disconnectPpp(id: string) {
    this.check();
    const before = this.active.length;
    this.active = this.active.filter((r) => r.id !== id);
    if (before !== this.active.length) this.disconnected.push(id);
    return before !== this.active.length;
  }
}

export function gatewayFor(router: MemoryRouter): RouterGateway {
  return { forRouter: async () => router };
}

export class MemoryChat implements ChatChannel {
  constructor(readonly platform: 'telegram' | 'discord' = 'telegram') {}

  readonly messages = new Map<string, { chatId: string; view: SessionView; edits: number }>();
  failNext: ChatDeliveryError | null = null;
  private nextId = 1;

  async sendSessionPrompt(chatId: string, view: SessionView): Promise<ChatMessageRef> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    const messageId = String(this.nextId++);
    this.messages.set(messageId, { chatId, view, edits: 0 });
    return { chatId, messageId };
  }

  async updateSessionMessage(ref: ChatMessageRef, view: SessionView): Promise<void> {
    const m = this.messages.get(ref.messageId);
    if (!m) throw new ChatDeliveryError('message to edit not found', null, true);
    m.view = view;
    m.edits++;
  }

  readonly texts: Array<{ chatId: string; text: string }> = [];
  readonly files: Array<{ chatId: string; kind: string; filename: string; bytes: Buffer; caption?: string }> = [];

  readonly choices = new Map<string, { chatId: string; text: string; choices: Array<{ label: string; data: string }> }>();

  async sendChoice(chatId: string, text: string, choices: Array<{ label: string; data: string }>): Promise<ChatMessageRef> {
    const messageId = String(this.nextId++);
    this.choices.set(messageId, { chatId, text, choices });
    return { chatId, messageId };
  }

  async updateText(ref: ChatMessageRef, text: string): Promise<void> {
    const m = this.choices.get(ref.messageId);
    if (m) this.choices.set(ref.messageId, { ...m, text, choices: [] });
  }

  async directChatId(externalId: string): Promise<string> {
    return `dm-${externalId}`;
  }

  async sendText(chatId: string, text: string): Promise<void> {
    this.texts.push({ chatId, text });
  }

  async sendFile(chatId: string, file: { kind: 'document' | 'photo'; filename: string; bytes: Buffer; caption?: string }): Promise<void> {
    this.files.push({ chatId, ...file });
  }
}

export const testPolicy: Policy = {
  approvalTimeoutMs: 60_000,
  maxUnconfirmedAttempts: 3,
  banDurationMs: 30 * 60_000,
  linkCodeTtlMs: 3_600_000,
  timeZone: 'UTC',
  deviceLimit: 2,
  signupRequestsPerHour: 3,
  inviteTtlMs: 3_600_000,
  wireguardIdleMs: 180_000,
};

/** Domain deps with a clock the test moves by hand. */
export function testDeps(db: Db, policy: Partial<Policy> = {}): DomainDeps & { advance(ms: number): void } {
  let now = Date.now();
  return {
    db,
    policy: { ...testPolicy, ...policy },
    secretBox: new SecretBox(randomBytes(32)),
    admins: ['telegram:9000', 'discord:9001'],
    logger: pino({ level: 'silent' }),
    now: () => new Date(now),
    afterCommit: () => {},
    advance(ms: number) {
      now += ms;
    },
  };
}
