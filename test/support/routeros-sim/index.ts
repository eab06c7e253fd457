// RouterOS API simulator for tests: a protocol-faithful stand-in for a MikroTik router.
// See simulator.ts for the server and its test API, menus.ts for what the router holds.

export {
  RouterOsSimulator,
  type ConnectPppInput,
  type LoggedCommand,
  type PppActiveSession,
  type PppProfile,
  type PppSecret,
  type RouterOsSimulatorOptions,
  type SimAddressListEntry,
  type SimUser,
  type SimWireguardInterface,
  type SimWireguardPeer,
  type UserGroup,
  type WireguardHandshakeInput,
  type WireguardPeerInput,
} from './simulator.js';
export { formatRouterDuration, parseRouterDuration } from './duration.js';
export { encodeLength, encodeSentence, encodeWord, SentenceDecoder } from './wire.js';
export { attributesOf, RawApiConnection, tagOf } from './raw-client.js';
