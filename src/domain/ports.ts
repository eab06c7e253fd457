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
