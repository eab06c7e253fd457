// What the person who pressed Approve or Deny is told, on every platform.
import type { DecisionOutcome } from '../domain/connections.js';

export const DECISION_ANSWERS: Record<DecisionOutcome, string> = {
  approved: 'Approved. The connection is being let through.',
  denied: 'Denied. The source is banned and the session is being disconnected.',
  'not-owner': 'Sorry, only the owner of this VPN account can answer this login.',
  unknown: 'Sorry, this button is no longer valid.',
  expired: 'Sorry, this login request has expired.',
  'already-approved': 'This login was already approved.',
  'already-denied': 'This login was already denied.',
  'already-expired': 'Sorry, this login request has expired.',
  'already-closed': 'This session has already ended.',
};
