// The one place DomainDeps are assembled from configuration (service, CLI and bench share it).
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Logger } from './log.js';
import { SecretBox } from './crypto/secretBox.js';
import type { DomainDeps } from './domain/ports.js';

export function createDomainDeps(config: Config, db: Db, opts: { logger: Logger; afterCommit?: () => void }): DomainDeps {
  return {
    db,
    policy: config.policy,
    secretBox: new SecretBox(config.secretKey),
    admins: config.admins,
    logger: opts.logger,
    now: () => new Date(),
    // Without a relay in this process, the running service picks outbox rows up within its poll.
    afterCommit: opts.afterCommit ?? (() => {}),
  };
}
