// Warden's only way to talk to MikroTik routers: RouterClient (one resilient API connection),
// RouterOps (address lists, PPP sessions and secrets, WireGuard peers, identity), RouterPool
// (one client per router) and WireGuard key helpers.

export { RouterClient, type RouterClientOptions, type RouterEndpoint, type RouterLinkState } from './client.js';
export type { RouterAttributes, RouterCommands, RouterRow } from './commands.js';
export { formatRouterDuration, parseRouterDuration } from './duration.js';
export { isRouterError, isTrap, RouterError, type RouterErrorCode } from './errors.js';
export {
  MAX_ADDRESS_LIST_TIMEOUT_SECONDS,
  MAX_PERSISTENT_KEEPALIVE_SECONDS,
  normalizeAllowedAddress,
  normalizeIpv4,
  PPP_SERVICES,
  RouterOps,
  type AddPppSecretInput,
  type AddressListEntry,
  type AddToAddressListOptions,
  type AddWireguardPeerInput,
  type PppActiveFilter,
  type PppActiveSession,
  type PppSecretInfo,
  type PppService,
  type WireguardInterfaceInfo,
  type WireguardPeer,
  type WireguardPeerRef,
} from './ops.js';
export { RouterPool, type EndpointLoader, type RouterLinkListener, type RouterPoolOptions } from './pool.js';
export { generatePresharedKey, generateWireguardKeyPair, isWireguardKey, publicKeyFromPrivate, type WireguardKeyPair } from './wireguardKeys.js';
