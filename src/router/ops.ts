// Warden's router operations, built on the four generic commands so they can run against a
// fake in unit tests. Each one is idempotent: the service may repeat it after a timeout or a
// dropped link without knowing whether the first attempt reached the router.

import type { RouterCommands, RouterRow } from './commands.js';
import { checkItemId } from './commands.js';
import { formatRouterDuration, parseRouterDuration } from './duration.js';
import { isTrap, RouterError } from './errors.js';

const ADDRESS_LIST = '/ip/firewall/address-list';
const PPP_ACTIVE = '/ppp/active';

/** The longest timeout RouterOS accepts on an address-list entry (35w3d13h13m56s, 2^31-1 centiseconds). */
export const MAX_ADDRESS_LIST_TIMEOUT_SECONDS = 21_474_836;

export interface AddressListEntry {
  id: string;
  list: string;
  address: string;
  comment?: string;
  disabled: boolean;
  /** Entries with a timeout are dynamic: they live in RAM and the router removes them when it runs out. */
  dynamic: boolean;
  /** Seconds left, for dynamic entries. */
  timeoutSeconds?: number;
}

export interface AddToAddressListOptions {
  /**
   * Whole seconds; the entry becomes dynamic and disappears when it runs out. Longer than
   * RouterOS allows (about 248 days) is cut to its maximum, so a long ban still lands.
   */
  timeout?: number;
  comment?: string;
}

export interface PppActiveSession {
  id: string;
  name: string;
  service: string;
  /** Client public IP for pptp/l2tp/sstp/ovpn, MAC for pppoe. */
  callerId: string;
  /** Address assigned to the client inside the tunnel. */
  address: string;
  uptimeSeconds?: number;
  encoding: string;
  sessionId: string;
}

export interface PppActiveFilter {
  name?: string;
  address?: string;
  callerId?: string;
}

function invalid(message: string): RouterError {
  return new RouterError('invalid-argument', message);
}

/**
 * An IPv4 address or CIDR block in the form the router stores it (`1.2.3.4/32` -> `1.2.3.4`,
 * `10.0.0.7/24` -> `10.0.0.0/24`), so a later print by address finds what add created.
 */
export function normalizeIpv4(input: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(input);
  const octets = match?.slice(1, 5).map(Number);
  const prefix = match?.[5] === undefined ? 32 : Number(match[5]);
  if (!match || !octets || octets.some((o) => o > 255) || prefix > 32) {
    throw invalid(`not an IPv4 address or block: ${JSON.stringify(input)}`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (prefix === 32) return octets.join('.');
  const size = 2 ** (32 - prefix);
  const network = Math.floor(value / size) * size;
  return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.')}/${prefix}`;
}

function checkListName(list: string): string {
  if (list.trim() === '') throw invalid('address list name is empty');
  return list;
}

function toAddressListEntry(row: RouterRow): AddressListEntry {
  const timeout = row.timeout === undefined ? undefined : parseRouterDuration(row.timeout);
  return {
    id: row['.id'] ?? '',
    list: row.list ?? '',
    address: row.address ?? '',
    ...(row.comment !== undefined ? { comment: row.comment } : {}),
    disabled: row.disabled === 'true' || row.disabled === 'yes',
    dynamic: row.dynamic === 'true' || row.dynamic === 'yes' || timeout !== undefined,
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
  };
}

function toPppActiveSession(row: RouterRow): PppActiveSession {
  const uptime = row.uptime === undefined ? undefined : parseRouterDuration(row.uptime);
  return {
    id: row['.id'] ?? '',
    name: row.name ?? '',
    service: row.service ?? '',
    callerId: row['caller-id'] ?? '',
    address: row.address ?? '',
    ...(uptime !== undefined ? { uptimeSeconds: uptime } : {}),
    encoding: row.encoding ?? '',
    sessionId: row['session-id'] ?? '',
  };
}

export class RouterOps {
  constructor(private readonly router: RouterCommands) {}

  async findAddressListEntries(list: string, address?: string): Promise<AddressListEntry[]> {
    const where: Record<string, string> = { list: checkListName(list) };
    if (address !== undefined) where.address = normalizeIpv4(address);
    const rows = await this.router.print(ADDRESS_LIST, where);
    return rows.map(toAddressListEntry);
  }

  /**
   * Makes sure `address` is an active member of `list`. An existing entry counts as success
   * (`created: false`); if a timeout is asked for and the existing entry is dynamic its timeout
   * is reset to it, and a disabled entry is enabled. A static entry keeps having no timeout:
   * it already outlives any the caller asked for, and shortening an admin's permanent entry
   * would be a surprise.
   */
  async addToAddressList(list: string, address: string, options: AddToAddressListOptions = {}): Promise<{ id: string; created: boolean }> {
    checkListName(list);
    const normalized = normalizeIpv4(address);
    const { timeout, comment } = options;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1)) {
      throw invalid(`timeout must be a whole number of seconds, at least 1; got ${timeout}`);
    }
    const attributes: Record<string, string> = { list, address: normalized };
    if (timeout !== undefined) attributes.timeout = formatRouterDuration(Math.min(timeout, MAX_ADDRESS_LIST_TIMEOUT_SECONDS));
    if (comment !== undefined) attributes.comment = comment;

    // Two rounds: a dynamic entry can expire between our add (duplicate) and our print or set.
    for (let round = 0; round < 2; round++) {
      try {
        return { id: await this.router.add(ADDRESS_LIST, attributes), created: true };
      } catch (err) {
        if (!isTrap(err, 'already have such entry')) throw err;
      }
      const [existing] = await this.findAddressListEntries(list, normalized);
      if (!existing) continue;
      const changes: Record<string, string> = {};
      if (attributes.timeout !== undefined && existing.dynamic) changes.timeout = attributes.timeout;
      if (existing.disabled) changes.disabled = 'no';
      try {
        await this.router.set(ADDRESS_LIST, existing.id, changes);
      } catch (err) {
        if (isTrap(err, 'no such item')) continue;
        throw err;
      }
      return { id: existing.id, created: false };
    }
    throw new RouterError('trap', `address ${normalized} in list ${list} kept appearing and vanishing; giving up for now`, { retryable: true });
  }

  /** Removes every entry for `address` in `list`; resolves to how many this call removed (0 when already gone). */
  async removeFromAddressList(list: string, address: string): Promise<number> {
    const entries = await this.findAddressListEntries(list, address);
    let removed = 0;
    for (const entry of entries) {
      try {
        await this.router.remove(ADDRESS_LIST, entry.id);
        removed++;
      } catch (err) {
        // Gone already (expired, or removed by someone else): that is what we wanted.
        if (!isTrap(err, 'no such item')) throw err;
      }
    }
    return removed;
  }

  /** Active PPP sessions matching every given field; all sessions when the filter is empty. */
  async findPppActive(filter: PppActiveFilter = {}): Promise<PppActiveSession[]> {
    const where: Record<string, string> = {};
    if (filter.name !== undefined) where.name = filter.name;
    if (filter.address !== undefined) where.address = normalizeIpv4(filter.address);
    if (filter.callerId !== undefined) where['caller-id'] = filter.callerId;
    const rows = await this.router.print(PPP_ACTIVE, where);
    return rows.map(toPppActiveSession);
  }

  /** Disconnects a session (the router runs the profile's on-down script). false when it was already gone. */
  async disconnectPpp(id: string): Promise<boolean> {
    checkItemId(id);
    try {
      await this.router.remove(PPP_ACTIVE, id);
      return true;
    } catch (err) {
      if (isTrap(err, 'no such item')) return false;
      throw err;
    }
  }

  /** The router's `/system/identity` name; a cheap health probe. */
  async identity(): Promise<string> {
    const [row] = await this.router.print('/system/identity');
    return row?.name ?? '';
  }
}
