// The append-only audit log: every decision and every refusal, with who made it.
// (The database refuses UPDATE and DELETE on audit_events; see the init migration.)
import type { Db, Tx } from '../db/client.js';

export type AuditAction =
  | 'login.reported'
  | 'login.duplicate'
  | 'login.unknown-account'
  | 'login.account-disabled'
  | 'login.banned-source'
  | 'login.verified'
  | 'login.claim-rejected'
  | 'session.approved'
  | 'session.denied'
  | 'session.expired'
  | 'session.closed'
  | 'decision.refused'
  | 'ban.created'
  | 'ban.lifted'
  | 'router.sync-failed'
  | 'prompt.undeliverable'
  | 'identity.linked'
  | 'router.added'
  | 'router.token-rotated'
  | 'router.removed'
  | 'account.added'
  | 'person.added'
  | 'device.created'
  | 'device.provision-failed'
  | 'device.removed'
  | 'device.rotated'
  | 'device.delivered'
  | 'invite.created'
  | 'signup.joined'
  | 'signup.requested'
  | 'signup.approved'
  | 'signup.rejected';

export interface AuditEntry {
  actor: string;
  action: AuditAction;
  routerId?: string | null;
  sessionId?: string | null;
  personId?: string | null;
  detail?: Record<string, unknown>;
}

export async function audit(tx: Tx | Db, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      actor: entry.actor,
      action: entry.action,
      routerId: entry.routerId ?? null,
      sessionId: entry.sessionId ?? null,
      personId: entry.personId ?? null,
      detail: (entry.detail ?? {}) as object,
    },
  });
}
