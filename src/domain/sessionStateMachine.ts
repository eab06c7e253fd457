// The connection session state machine. Every state change in Warden goes through `nextState`,
// so an illegal move (approving an expired session, re-opening a closed one) cannot happen.
//
//   pending --approve--> approved --close--> closed
//   pending --deny--> denied | --expire--> expired | --close--> closed
import type { SessionState } from '../generated/prisma/enums.js';

export type SessionEvent = 'approve' | 'deny' | 'expire' | 'close';

const transitions: Record<SessionState, Partial<Record<SessionEvent, SessionState>>> = {
  pending: { approve: 'approved', deny: 'denied', expire: 'expired', close: 'closed' },
  approved: { close: 'closed' },
  denied: {},
  expired: {},
  closed: {},
};

export function nextState(from: SessionState, event: SessionEvent): SessionState | null {
  return transitions[from][event] ?? null;
}

export function isFinal(state: SessionState): boolean {
  return Object.keys(transitions[state]).length === 0;
}

/** States in which the client may still be connected and Warden still owes the router work. */
export const OPEN_STATES: SessionState[] = ['pending', 'approved'];
