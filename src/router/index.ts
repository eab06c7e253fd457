// Warden's only way to talk to MikroTik routers: RouterClient (one resilient API connection),
// RouterOps (address lists, PPP sessions, identity) and RouterPool (one client per router).

export { RouterClient, type RouterClientOptions, type RouterEndpoint, type RouterLinkState } from './client.js';
export type { RouterAttributes, RouterCommands, RouterRow } from './commands.js';
export { formatRouterDuration, parseRouterDuration } from './duration.js';
export { isRouterError, isTrap, RouterError, type RouterErrorCode } from './errors.js';
export {
  MAX_ADDRESS_LIST_TIMEOUT_SECONDS,
  normalizeIpv4,
  RouterOps,
  type AddressListEntry,
  type AddToAddressListOptions,
  type PppActiveFilter,
  type PppActiveSession,
} from './ops.js';
export { RouterPool, type EndpointLoader, type RouterLinkListener, type RouterPoolOptions } from './pool.js';
