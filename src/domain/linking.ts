// Binding chat identities to people: an operator issues a one-time link code, the person sends it
// to the bot (or opens the bot's deep link), and prompts for their accounts reach that chat.
import type { ChatPlatform } from '../generated/prisma/enums.js';
import { newLinkCode, normalizeLinkCode, sha256Hex } from '../crypto/tokens.js';
import { audit } from './audit.js';
import type { DomainDeps } from './ports.js';
import { WardenError } from './errors.js';

export async function createLinkCode(deps: DomainDeps, personId: string): Promise<{ code: string; expiresAt: Date }> {
  const person = await deps.db.person.findUnique({ where: { id: personId } });
  if (!person) throw new WardenError('not-found', `no person with id ${personId}`);
  const code = newLinkCode();
  const expiresAt = new Date(deps.now().getTime() + deps.policy.linkCodeTtlMs);
  await deps.db.linkCode.create({ data: { personId, codeHash: sha256Hex(code), expiresAt } });
  return { code, expiresAt };
}

export type LinkResult =
  | { status: 'linked'; personName: string }
  | { status: 'already-linked'; personName: string }
  | { status: 'linked-to-someone-else' }
  | { status: 'invalid-code' };

export async function redeemLinkCode(
  deps: DomainDeps,
  args: { platform: ChatPlatform; externalId: string; chatId: string; username: string | null; code: string },
): Promise<LinkResult> {
  const code = normalizeLinkCode(args.code);
  if (!/^[A-Z0-9]{6,32}$/.test(code)) return { status: 'invalid-code' };
  return deps.db.$transaction(async (tx) => {
    const link = await tx.linkCode.findUnique({ where: { codeHash: sha256Hex(code) }, include: { person: true } });
    // Expired, used and unknown codes get the same answer: nothing to learn by guessing.
    if (!link || link.usedAt || link.expiresAt <= deps.now()) return { status: 'invalid-code' } as const;
    const existing = await tx.chatIdentity.findUnique({
      where: { platform_externalId: { platform: args.platform, externalId: args.externalId } },
    });
    if (existing && existing.personId !== link.personId) return { status: 'linked-to-someone-else' } as const;
    await tx.linkCode.update({ where: { id: link.id }, data: { usedAt: deps.now() } });
    if (existing) {
      await tx.chatIdentity.update({ where: { id: existing.id }, data: { chatId: args.chatId, username: args.username } });
      return { status: 'already-linked', personName: link.person.displayName } as const;
    }
    await tx.chatIdentity.create({
      data: { personId: link.personId, platform: args.platform, externalId: args.externalId, chatId: args.chatId, username: args.username },
    });
    await audit(tx, {
      actor: `${args.platform}:${args.externalId}`,
      action: 'identity.linked',
      personId: link.personId,
      detail: { platform: args.platform, username: args.username },
    });
    return { status: 'linked', personName: link.person.displayName } as const;
  });
}

/** What the bot shows on /status: the person's accounts and recent sessions. */
export async function describePerson(deps: DomainDeps, platform: ChatPlatform, externalId: string) {
  const identity = await deps.db.chatIdentity.findUnique({
    where: { platform_externalId: { platform, externalId } },
    include: {
      person: {
        include: {
          accounts: {
            include: { router: true, sessions: { orderBy: { createdAt: 'desc' }, take: 3 } },
            orderBy: { createdAt: 'asc' },
          },
        },
      },
    },
  });
  return identity?.person ?? null;
}

export type PromptDeliveryResult = 'on' | 'off' | 'not-linked' | 'last-chat';

/**
 * Chooses whether login prompts go to this chat. The last chat receiving prompts cannot be
 * switched off: the person's logins would otherwise expire unanswered.
 */
export async function setPromptDelivery(
  deps: DomainDeps,
  args: { platform: ChatPlatform; externalId: string; enabled: boolean },
): Promise<PromptDeliveryResult> {
  return deps.db.$transaction(async (tx) => {
    const identity = await tx.chatIdentity.findUnique({
      where: { platform_externalId: { platform: args.platform, externalId: args.externalId } },
    });
    if (!identity) return 'not-linked';
    await tx.$queryRaw`SELECT id FROM people WHERE id = ${identity.personId}::uuid FOR UPDATE`;
    if (!args.enabled) {
      const others = await tx.chatIdentity.count({ where: { personId: identity.personId, receivesPrompts: true, id: { not: identity.id } } });
      if (others === 0) return 'last-chat';
    }
    await tx.chatIdentity.update({ where: { id: identity.id }, data: { receivesPrompts: args.enabled } });
    return args.enabled ? 'on' : 'off';
  });
}
