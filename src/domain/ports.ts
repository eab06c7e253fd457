// What the domain needs from the outside world, as small interfaces. The real implementations
// live in src/router (RouterOS API), bots/* (chat platforms) and src/db; tests can pass fakes.
import type { Db } from '../db/client.js';
import type { Logger } from '../log.js';
import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { SecretBox } from '../crypto/secretBox.js';

export interface Policy {
  approvalTimeoutMs: number;
  maxUnconfirmedAttempts: number;
  banDurationMs: number;
  linkCodeTtlMs: number;
  timeZone: string;
  deviceLimit: number;
  signupRequestsPerHour: number;
  inviteTtlMs: number;
  wireguardIdleMs: number;
}

/** A row of /ppp/active, as Warden needs it. */
export interface ActivePppSession {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
}

/** The router operations Warden uses; all of them are idempotent. */
export interface RouterOps {
  addToAddressList(
    list: string,
    address: string,
    opts?: { timeout?: number; comment?: string },
  ): Promise<{ id: string; created: boolean }>;
  removeFromAddressList(list: string, address: string): Promise<number>;
  findPppActive(query: { name?: string; address?: string }): Promise<ActivePppSession[]>;
  disconnectPpp(id: string): Promise<boolean>;
  addPppSecret(input: { name: string; password: string; profile?: string; service?: string; comment?: string }): Promise<{ id: string; created: boolean }>;
  removePppSecret(name: string): Promise<boolean>;
  listWireguardPeers(interfaceName?: string): Promise<WireguardPeerState[]>;
  addWireguardPeer(input: {
    interface: string;
    publicKey: string;
    presharedKey?: string;
    allowedAddress: string[];
    persistentKeepalive?: number;
    comment?: string;
  }): Promise<{ id: string; created: boolean }>;
  removeWireguardPeer(peer: { interface: string; publicKey: string }): Promise<boolean>;
  wireguardInterface(name: string): Promise<{ name: string; listenPort: number; publicKey: string } | null>;
}

/** A WireGuard peer as the router reports it (the watcher's input). */
export interface WireguardPeerState {
  publicKey: string;
  allowedAddress: string[];
  disabled: boolean;
  currentEndpointAddress?: string;
  currentEndpointPort?: number;
  /** Seconds since the last handshake; undefined when there never was one. */
  lastHandshakeSeconds?: number;
}

export interface RouterGateway {
  forRouter(routerId: string): Promise<RouterOps>;
}

/** A chat message Warden can later edit. */
export interface ChatMessageRef {
  chatId: string;
  messageId: string;
}

/** How a session is shown to its owner, independent of the chat platform. */
export interface SessionView {
  sessionId: string;
  account: string;
  router: string;
  source: string;
  sessionAddress: string;
  startedAt: Date;
  timeZone: string;
  status: 'pending' | 'approved' | 'denied' | 'expired' | 'closed';
  /** Extra line under the status, e.g. why it closed or until when a ban lasts. */
  note?: string;
  /** Present only while a decision is possible. */
  decisionToken?: string;
}

export class ChatDeliveryError extends Error {
  constructor(
    message: string,
    /** Retry no sooner than this (platform rate limit), if known. */
    public readonly retryAfterMs: number | null,
    /** True when retrying cannot help (user blocked the bot, chat gone). */
    public readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ChatDeliveryError';
  }
}

/** One chat platform as the domain sees it. */
export interface ChatChannel {
  readonly platform: ChatPlatform;
  sendSessionPrompt(chatId: string, view: SessionView): Promise<ChatMessageRef>;
  updateSessionMessage(ref: ChatMessageRef, view: SessionView): Promise<void>;
  sendText(chatId: string, text: string): Promise<void>;
  /** A plain message with buttons (each carrying opaque data ≤ 64 bytes); returns a ref to edit it. */
  sendChoice(chatId: string, text: string, choices: Array<{ label: string; data: string }>): Promise<ChatMessageRef>;
  /** Replaces a message's text and removes its buttons. */
  updateText(ref: ChatMessageRef, text: string): Promise<void>;
  /** The private chat with a user of this platform (Telegram: the user id; Discord: a DM channel). */
  directChatId(externalId: string): Promise<string>;
  /** A file in a private chat: a document (e.g. a .conf) or a photo (e.g. a QR code PNG). */
  sendFile(chatId: string, file: { kind: 'document' | 'photo'; filename: string; bytes: Buffer; caption?: string }): Promise<void>;
}

export interface DomainDeps {
  db: Db;
  policy: Policy;
  /** Encrypts secrets Warden must read back (router passwords, device keys) at rest. */
  secretBox: SecretBox;
  /** Chat identities with admin rights, as "platform:externalId". */
  admins: string[];
  logger: Logger;
  now: () => Date;
  /** Called after a transaction that wrote outbox jobs has committed. */
  afterCommit: () => void;
}
