// RouterPool: one RouterClient per router, created on first use from the router's stored
// endpoint, and a single place to hear that a router link came (back) up so pending work for
// that router can be re-applied.

import type { Logger } from 'pino';

import { RouterClient, type RouterClientOptions, type RouterEndpoint } from './client.js';
import { RouterError } from './errors.js';
import type { RouterOps } from './ops.js';

export type EndpointLoader = (routerId: string) => Promise<RouterEndpoint>;

export type RouterLinkListener = (routerId: string) => void | Promise<void>;

export interface RouterPoolOptions {
  /** Looks up how to reach a router (e.g. from the database); called once per router until it is evicted. */
  loadEndpoint: EndpointLoader;
  logger: Logger;
  clientOptions?: Omit<RouterClientOptions, 'logger'>;
  /** Replaces client construction, for tests. */
  createClient?: (endpoint: RouterEndpoint, options: RouterClientOptions) => RouterClient;
}

export class RouterPool {
  private readonly clients = new Map<string, Promise<RouterClient>>();
  private readonly upListeners = new Set<RouterLinkListener>();
  private readonly downListeners = new Set<RouterLinkListener>();
  private closed = false;

  constructor(private readonly options: RouterPoolOptions) {}

  /**
   * The client for `routerId`, created and started on first use. It may still be connecting:
   * its calls fail fast with `link-down` until it is up (see onUp, RouterClient.waitForUp).
   * A failing loader is not remembered; the next get() asks it again.
   */
  get(routerId: string): Promise<RouterClient> {
    if (this.closed) return Promise.reject(new RouterError('link-down', 'router pool is closed', { retryable: false }));
    const existing = this.clients.get(routerId);
    if (existing) return existing;
    const created = this.create(routerId);
    this.clients.set(routerId, created);
    created.catch(() => {
      if (this.clients.get(routerId) === created) this.clients.delete(routerId);
    });
    return created;
  }

  /** Warden's operations on `routerId` (the domain's RouterGateway port). */
  async forRouter(routerId: string): Promise<RouterOps> {
    return (await this.get(routerId)).ops;
  }

  /** Calls `listener(routerId)` each time a router's link comes up, the first time included. Returns an unsubscribe function. */
  onUp(listener: RouterLinkListener): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  /** Calls `listener(routerId)` each time a router's link goes down. Returns an unsubscribe function. */
  onDown(listener: RouterLinkListener): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  /** Closes and forgets one router's client (e.g. after its address or credentials changed); the next get() builds a new one. */
  async evict(routerId: string): Promise<void> {
    const client = this.clients.get(routerId);
    this.clients.delete(routerId);
    if (client) await client.then((c) => c.close(), () => undefined);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.then((c) => c.close(), () => undefined)));
  }

  private async create(routerId: string): Promise<RouterClient> {
    const endpoint = await this.options.loadEndpoint(routerId);
    if (this.closed) throw new RouterError('link-down', 'router pool is closed', { retryable: false });
    const clientOptions: RouterClientOptions = { ...this.options.clientOptions, logger: this.options.logger };
    const client = this.options.createClient?.(endpoint, clientOptions) ?? new RouterClient(endpoint, clientOptions);
    client.on('up', () => this.notify(this.upListeners, routerId, 'up'));
    client.on('down', () => this.notify(this.downListeners, routerId, 'down'));
    client.start();
    return client;
  }

  private notify(listeners: ReadonlySet<RouterLinkListener>, routerId: string, event: 'up' | 'down'): void {
    for (const listener of listeners) {
      const failed = (err: unknown) => this.options.logger.error({ err, routerId, event }, 'router link listener failed');
      try {
        void Promise.resolve(listener(routerId)).catch(failed);
      } catch (err) {
        failed(err);
      }
    }
  }
}
