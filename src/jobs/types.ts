// The job catalogue: every job name, the queue it runs on and its payload type. The domain
// writes these into the outbox; src/jobs/registry.ts must provide a handler for each one.
export interface JobPayloads {
  /** Confirm on the router that the claimed PPP session really exists, then prompt the owner. */
  'session.verify': { sessionId: string };
  /** Send the Approve/Deny prompt to the owner's chats. */
  'session.prompt': { sessionId: string };
  /** Fires at the session's deadline: expire it if still pending. */
  'session.expire': { sessionId: string };
  /** Make the router reflect the session's current state (permit, ban, disconnect, clean up). */
  'session.routerSync': { sessionId: string };
  /** Edit the session's chat messages to show its outcome. */
  'session.notifyOutcome': { sessionId: string };
  /** Remove a lifted ban's address-list entry from the router. */
  'ban.lift': { banId: string };
  /** Create or update a device's peer/secret on its router. */
  'device.provision': { accountId: string };
  /** Send a device's configuration to its owner. */
  'device.deliver': { accountId: string };
  /** Remove a device from its router, then from the database. */
  'device.deprovision': { accountId: string };
  /** Remove a WireGuard peer whose key was rotated away. */
  'device.removePeer': { routerId: string; publicKey: string };
  /** Ask the admins about a signup request. */
  'signup.notifyAdmins': { requestId: string };
  /** Tell the requester and the admins how a signup request was decided. */
  'signup.notifyOutcome': { requestId: string };
  /** Carry a stored ticket message to the other side (support place or the user's chat). */
  'support.relay': { messageId: string };
  /** Remind support of tickets waiting too long (enqueued by the cron schedule). */
  'support.remind': { slot: string };
  /** Read a router's WireGuard peers and bring its WireGuard accounts up or down. */
  'router.watchWireguard': { routerId: string };
}

export type JobName = keyof JobPayloads;

export type QueueName = 'router' | 'timers' | 'notify';

export const JOB_QUEUES: Record<JobName, QueueName> = {
  'session.verify': 'router',
  'session.routerSync': 'router',
  'ban.lift': 'router',
  'device.provision': 'router',
  'device.deprovision': 'router',
  'device.removePeer': 'router',
  'router.watchWireguard': 'router',
  'device.deliver': 'notify',
  'signup.notifyAdmins': 'notify',
  'signup.notifyOutcome': 'notify',
  'support.relay': 'notify',
  'support.remind': 'timers',
  'session.expire': 'timers',
  'session.prompt': 'notify',
  'session.notifyOutcome': 'notify',
};

export const QUEUE_NAMES: QueueName[] = ['router', 'timers', 'notify'];
