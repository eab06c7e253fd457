// Validation of what a router's hooks claim (PPP up/down, WireGuard handshakes). Everything
// arriving over HTTP is parsed here into typed values; anything odd is refused with a message
// naming the field.
import { isIP } from 'node:net';
import { z } from 'zod';
import { isWireguardKey } from '../router/wireguardKeys.js';

const MAC = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/;
export const PPP_USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;
export const ROUTER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const LIST_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The caller's address without a port. Depending on service and RouterOS version, caller-id may
 * read "203.0.113.7", "203.0.113.7:51820", "[2001:db8::7]:443" or a MAC (PPPoE).
 */
export function normalizeCallerId(raw: string): string {
  const value = raw.trim();
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(value);
  if (v6 && isIP(v6[1]!) === 6) return v6[1]!.toLowerCase();
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(value);
  if (v4 && isIP(v4[1]!) === 4) return v4[1]!;
  if (isIP(value) === 6) return value.toLowerCase();
  if (MAC.test(value)) return value.toUpperCase().replace(/-/g, ':');
  return value;
}

const ipAddress = z
  .string()
  .max(45)
  .refine((v) => isIP(v) !== 0, 'not an IP address');

export const PPP_SERVICES = ['l2tp', 'sstp', 'pptp', 'ovpn', 'pppoe'] as const;

export const PppHookBody = z
  .object({
    user: z.string().regex(PPP_USERNAME, 'must be 1-64 characters of A-Z a-z 0-9 . _ @ + -'),
    callerId: z
      .string()
      .max(64)
      .transform(normalizeCallerId)
      .refine((v) => isIP(v) !== 0 || MAC.test(v), 'must be an IP address (optionally with :port) or a MAC address'),
    address: ipAddress,
    localAddress: z.union([ipAddress, z.literal('')]).optional(),
    interface: z
      .string()
      .regex(/^[A-Za-z0-9<>._@+-]{0,64}$/, 'must be at most 64 characters of A-Z a-z 0-9 < > . _ @ + -')
      .optional(),
    service: z.union([z.enum(PPP_SERVICES), z.literal('')]).optional(),
  })
  .strict();

export type PppHookClaim = z.infer<typeof PppHookBody>;

/** Longest last-handshake age worth sending (RouterOS shows weeks; beyond a year is noise). */
const MAX_HANDSHAKE_AGE_SECONDS = 366 * 86_400;

/** What the router's WireGuard watch script (wireguard-watch.rsc) reports for one peer. */
export const WireguardHandshakeBody = z
  .object({
    publicKey: z.string().max(64).refine(isWireguardKey, 'must be a WireGuard public key (base64 of 32 bytes, 44 characters)'),
    /** current-endpoint-address, optionally with :port; empty when the router has none. */
    endpoint: z
      .string()
      .max(64)
      .transform(normalizeCallerId)
      .refine((v) => v === '' || isIP(v) !== 0, 'must be an IP address (optionally with :port) or empty')
      .optional(),
    /** Seconds since the last handshake; absent or null when there never was one. */
    lastHandshakeSeconds: z.number().int().min(0).max(MAX_HANDSHAKE_AGE_SECONDS).nullable().optional(),
  })
  .strict();

export type WireguardHandshakeClaim = z.infer<typeof WireguardHandshakeBody>;

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field(s): ${i.keys.join(', ')}`;
      const field = i.path.join('.');
      return field ? `${field}: ${i.message}` : i.message;
    })
    .join('; ');
}

/**
 * The source the router can ban by address list: the caller's public IPv4 address. PPPoE callers
 * are MACs, and IPv6 sources live in another menu (/ipv6/firewall/address-list); those bans are
 * enforced by Warden itself, which disconnects the next login from that source without a prompt.
 */
export function bannableAddress(callerId: string): string | null {
  return isIP(callerId) === 4 ? callerId : null;
}

/** A DNS host name or an IP address (what clients and routers may be told to connect to). */
export function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host);
}
