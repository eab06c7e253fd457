// The job registry: what each job in src/jobs/types.ts does. Handlers are one call into the
// domain; the compiler checks that every job name has one.
import { expireSession, verifySession } from '../domain/connections.js';
import { sendSessionPrompt, updateSessionMessages, type ChatChannels } from '../domain/notifications.js';
import { ChatDeliveryError, type DomainDeps, type RouterGateway } from '../domain/ports.js';
import { recordSyncFailure, removeBanFromRouter, syncSessionToRouter } from '../domain/routerSync.js';
import { audit } from '../domain/audit.js';
import { deprovisionDevice, provisionDevice, recordProvisionFailure, removeStalePeer } from '../domain/devices.js';
import { deliverDeviceConfig } from '../domain/delivery.js';
import { notifyAdminsOfSignup, notifySignupOutcome } from '../domain/signup.js';
import { relayTicketMessage, remindSupport, type SupportRelays, type SupportSettings } from '../support/desk.js';
import { watchWireguardPeers } from '../domain/wireguardWatch.js';
import type { JobContext, JobHandlers } from './runtime.js';

/** A platform's "retry after N seconds" becomes a delay that does not use up an attempt. */
async function deliver<T>(ctx: JobContext, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof ChatDeliveryError && err.retryAfterMs !== null) return ctx.retryLater(err.retryAfterMs);
    throw err;
  }
}

export function createJobHandlers(
  deps: DomainDeps,
  routers: RouterGateway,
  channels: ChatChannels,
  support: { relays: SupportRelays; settings: SupportSettings } = { relays: {}, settings: { platforms: [], members: [], remindAfterMs: 1_800_000, messagesPerMinute: 6 } },
): JobHandlers {
  return {
    'session.verify': {
      run: ({ sessionId }) => verifySession(deps, routers, sessionId),
      async onFinalFailure({ sessionId }, error) {
        await audit(deps.db, { actor: 'system', action: 'router.sync-failed', sessionId, detail: { step: 'verify', error: error.message } });
      },
    },
    'session.prompt': {
      run: ({ sessionId }, ctx) => deliver(ctx, () => sendSessionPrompt(deps, channels, sessionId)),
      async onFinalFailure({ sessionId }, error) {
        await audit(deps.db, { actor: 'system', action: 'prompt.undeliverable', sessionId, detail: { error: error.message } });
      },
    },
    'session.expire': {
      run: ({ sessionId }) => expireSession(deps, sessionId),
    },
    'session.routerSync': {
      run: ({ sessionId }) => syncSessionToRouter(deps, routers, sessionId),
      onFinalFailure: ({ sessionId }, error) => recordSyncFailure(deps, sessionId, error.message),
    },
    'session.notifyOutcome': {
      run: ({ sessionId }, ctx) => deliver(ctx, () => updateSessionMessages(deps, channels, sessionId)),
    },
    'ban.lift': {
      run: ({ banId }) => removeBanFromRouter(deps, routers, banId),
    },
    'device.provision': {
      run: ({ accountId }) => provisionDevice(deps, routers, accountId),
      onFinalFailure: ({ accountId }, error) => recordProvisionFailure(deps, routers, accountId, error.message),
    },
    'device.deliver': {
      run: ({ accountId }) => deliverDeviceConfig(deps, routers, channels, accountId),
    },
    'device.deprovision': {
      run: ({ accountId }) => deprovisionDevice(deps, routers, accountId),
    },
    'device.removePeer': {
      run: ({ routerId, publicKey }) => removeStalePeer(deps, routers, routerId, publicKey),
    },
    'signup.notifyAdmins': {
      run: ({ requestId }, ctx) => deliver(ctx, () => notifyAdminsOfSignup(deps, channels, requestId)),
    },
    'signup.notifyOutcome': {
      run: ({ requestId }, ctx) => deliver(ctx, () => notifySignupOutcome(deps, channels, requestId)),
    },
    'support.relay': {
      run: ({ messageId }, ctx) => deliver(ctx, () => relayTicketMessage(deps, support.relays, channels, messageId)),
    },
    'support.remind': {
      run: (_payload, ctx) => deliver(ctx, () => remindSupport(deps, support.relays, support.settings)),
    },
    'router.watchWireguard': {
      run: ({ routerId }) => watchWireguardPeers(deps, routers, routerId),
    },
  };
}
