// Warden's own migrator. It applies the Prisma Migrate folders in prisma/migrations where Prisma's
// schema engine binary is unavailable, and keeps the history in `_prisma_migrations` exactly the way
// Prisma Migrate writes it, so that a deployment with the engine can run `prisma migrate deploy` or
// `prisma migrate status` against the same database and agree with what Warden did.
//
// Behaviour mirrors Prisma's `migrate deploy` (schema-engine apply_migrations + sql_migration_persistence):
// - the same session advisory lock key (72707369), so Warden instances and the Prisma CLI exclude each other;
// - the same history table DDL, row layout, sha256 checksums and "pending" rule (by migration name);
// - a migration recorded as started but neither finished nor rolled back blocks further migrations.
// One deliberate difference: each migration, and its history row, commits in one explicit transaction,
// so a crash mid-migration leaves neither half-applied DDL nor a stale "started" row behind.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface MigrateLogger {
  info(obj: object, msg?: string): void;
}

export interface MigrateOptions {
  logger?: MigrateLogger;
  /** Create the target database (through the `postgres` maintenance database) if it is missing. Default true. */
  createDatabase?: boolean;
  /** Folder holding `<timestamp>_<name>/migration.sql`; defaults to `<package root>/prisma/migrations`. */
  migrationsDir?: string;
  /** How long to wait for another migrator (Warden or Prisma) holding the lock. Default 5 minutes. */
  lockTimeoutMs?: number;
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order (empty when the database was up to date). */
  applied: string[];
}

export type MigrationErrorCode =
  | 'INVALID_URL'
  | 'INVALID_MIGRATIONS'
  | 'PROVIDER_MISMATCH'
  | 'LOCK_TIMEOUT'
  | 'DATABASE_NOT_EMPTY'
  | 'FAILED_MIGRATION'
  | 'CHECKSUM_MISMATCH'
  | 'APPLY_FAILED';

/** Refusals and failures of the migrator; `code` lets callers (CLI, tests) tell them apart. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Prisma Migrate's advisory lock key (schema-engine, flavour/postgres.rs). Shared on purpose. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;
export const MIGRATIONS_TABLE = '_prisma_migrations';

// Verbatim from Prisma's schema engine (PostgresFlavour::create_migrations_table), so the table is
// indistinguishable from one Prisma created.
const CREATE_MIGRATIONS_TABLE_SQL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
`;

const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60_000;

export interface MigrationFile {
  /** Folder name, e.g. `20261122021515_init`; this is what `_prisma_migrations.migration_name` holds. */
  name: string;
  path: string;
  script: Buffer;
  checksum: string;
}

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** Folder with package.json above `from`; works from src/ (tsx) and from dist/src/ (tsc output) alike. */
export function findPackageRoot(from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json found above ${from}`);
    dir = parent;
  }
}

export function defaultMigrationsDir(): string {
  return join(findPackageRoot(), 'prisma', 'migrations');
}

/** sha256 hex of the migration file's bytes, as Prisma stores it in `_prisma_migrations.checksum`. */
export function migrationChecksum(script: Buffer | string): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Whether `script` matches a recorded checksum the way Prisma decides it (checksum.rs): the file as is,
 * or with CRLF/LF line endings swapped (git may rewrite them on checkout), and accepting the
 * non-zero-padded hex that old Prisma versions stored.
 */
export function scriptMatchesChecksum(script: Buffer, checksum: string): boolean {
  const text = script.toString('utf8');
  const variants = [script, Buffer.from(text.replace(/\r\n/g, '\n')), Buffer.from(text.replace(/\n/g, '\r\n'))];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    if (checksum.length === 64) return digest.toString('hex') === checksum;
    const unpadded = Array.from(digest, (byte) => byte.toString(16)).join('');
    return unpadded === checksum;
  });
}

/** Migration folders sorted by name, as Prisma lists them; `migration_lock.toml` must name postgresql. */
export async function listMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (err) {
    throw new MigrationError('INVALID_MIGRATIONS', `cannot read migrations folder ${migrationsDir}`, { cause: err });
  }

  const lockPath = join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockPath)) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(await readFile(lockPath, 'utf8'))?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError(
        'PROVIDER_MISMATCH',
        `${lockPath} says provider = "${provider}", but Warden migrates PostgreSQL only`,
      );
    }
  }

  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const path = join(migrationsDir, name, 'migration.sql');
    let script: Buffer;
    try {
      script = await readFile(path);
    } catch (err) {
      // Same rule as Prisma (P3015): a migration folder without its script is an error, not a skip.
      throw new MigrationError(
        'INVALID_MIGRATIONS',
        `migration folder ${name} has no migration.sql: restore the file or delete the folder`,
        { cause: err },
      );
    }
    migrations.push({ name, path, script, checksum: migrationChecksum(script) });
  }
  return migrations;
}

/**
 * Brings the database at `databaseUrl` up to date with prisma/migrations.
 * Safe to call from several instances at once: they serialise on Prisma Migrate's advisory lock and
 * later callers find nothing left to apply.
 */
export async function migrateDatabase(databaseUrl: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.logger;
  const target = parseDatabaseUrl(databaseUrl);
  // Read the files before touching the database so a broken checkout fails fast and changes nothing.
  const migrationsDir = opts.migrationsDir ?? defaultMigrationsDir();
  const migrations = await listMigrations(migrationsDir);

  const client = await connectTarget(target, opts.createDatabase !== false, log);
  try {
    client.on('error', () => {
      // A dropped connection surfaces through the pending query; without a listener node would crash.
    });
    if (target.schema !== undefined) {
      // Prisma's `?schema=` convention: history and tables live in that schema; create it like Prisma
      // does, but only when missing (CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege).
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [target.schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(target.schema)}`);
    }

    await acquireLock(client, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, log, target.database);
    try {
      await ensureHistoryTable(client, log);
      const history = await readHistory(client);
      refuseFailedMigrations(history);
      refuseEditedMigrations(history, migrations, log);

      const pending = migrations.filter(
        (migration) =>
          !history.some((row) => row.rolled_back_at === null && row.migration_name === migration.name),
      );
      if (pending.length === 0) {
        log?.info({ database: target.database, migrations: migrations.length }, 'database schema is up to date');
        return { applied: [] };
      }

      const applied: string[] = [];
      for (const migration of pending) {
        await applyMigration(client, migration, log);
        applied.push(migration.name);
      }
      log?.info({ database: target.database, applied }, 'database migrations applied');
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface TargetDatabase {
  /** Connection string for pg, without Prisma-only parameters. */
  connectionString: string;
  database: string;
  schema: string | undefined;
  url: URL;
}

function parseDatabaseUrl(databaseUrl: string): TargetDatabase {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new MigrationError('INVALID_URL', 'database URL is not a valid URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new MigrationError('INVALID_URL', `database URL must use postgresql://, not ${url.protocol}//`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') throw new MigrationError('INVALID_URL', 'database URL names no database');
  // `schema` is Prisma's parameter, not libpq's; pg must not see it.
  const schema = url.searchParams.get('schema') ?? undefined;
  const forPg = new URL(url.href);
  forPg.searchParams.delete('schema');
  return { connectionString: forPg.href, database, schema: schema === '' ? undefined : schema, url: forPg };
}

async function connectTarget(
  target: TargetDatabase,
  createDatabase: boolean,
  log: MigrateLogger | undefined,
): Promise<pg.Client> {
  try {
    return await connect(target.connectionString);
  } catch (err) {
    if (pgCode(err) !== '3D000' || !createDatabase) throw err; // 3D000 = invalid_catalog_name
  }
  await createMissingDatabase(target, log);
  return connect(target.connectionString);
}

async function connect(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, application_name: 'warden-migrate' });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

async function createMissingDatabase(target: TargetDatabase, log: MigrateLogger | undefined): Promise<void> {
  // Like Prisma: go through the `postgres` maintenance database, or `template1` where that is absent.
  let admin: pg.Client | undefined;
  for (const maintenance of ['postgres', 'template1']) {
    const url = new URL(target.url.href);
    url.pathname = `/${encodeURIComponent(maintenance)}`;
    try {
      admin = await connect(url.href);
      break;
    } catch (err) {
      if (pgCode(err) !== '3D000' || maintenance === 'template1') throw err;
    }
  }
  if (admin === undefined) throw new Error('unreachable: no maintenance database');
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(target.database)}`);
    log?.info({ database: target.database }, 'created database');
  } catch (err) {
    // Another instance created it first (42P04 duplicate_database, or 23505 when both raced on the
    // pg_database unique index): the database exists, which is all we wanted.
    const code = pgCode(err);
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function acquireLock(
  client: pg.Client,
  timeoutMs: number,
  log: MigrateLogger | undefined,
  database: string,
): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    PRISMA_MIGRATE_LOCK_KEY,
  ]);
  if (rows[0]?.locked === true) return;

  log?.info({ database, timeoutMs }, 'another migrator holds the migration lock; waiting');
  // statement_timeout bounds the wait, so a stuck peer produces a clear error rather than a hung boot.
  await client.query(`SET statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  } catch (err) {
    if (pgCode(err) === '57014') {
      throw new MigrationError(
        'LOCK_TIMEOUT',
        `timed out after ${timeoutMs} ms waiting for the migration lock (pg_advisory_lock(${PRISMA_MIGRATE_LOCK_KEY})) ` +
          `on database "${database}": another Warden instance or \`prisma migrate\` is still migrating`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    await client.query('RESET statement_timeout');
  }
}

async function ensureHistoryTable(client: pg.Client, log: MigrateLogger | undefined): Promise<void> {
  // Same check as Prisma's MigrationPersistence::initialize: ordinary tables in the current schema.
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname = current_schema()`,
  );
  const tables = rows.map((row) => row.relname);
  if (tables.includes(MIGRATIONS_TABLE)) return;

  // PostGIS' catalog table is the one Prisma ignores when deciding whether a database is empty.
  const userTables = tables.filter((name) => name !== 'spatial_ref_sys');
  if (userTables.length > 0) {
    throw new MigrationError(
      'DATABASE_NOT_EMPTY',
      `the database schema is not empty (found ${userTables.slice(0, 5).join(', ')}${userTables.length > 5 ? ', …' : ''}) ` +
        `but has no ${MIGRATIONS_TABLE} table. Prisma Migrate would refuse it too (P3005). If it already matches ` +
        'the migrations, baseline it (`npx prisma migrate resolve --applied <migration>`), otherwise start from an empty database.',
    );
  }
  await client.query(CREATE_MIGRATIONS_TABLE_SQL);
  log?.info({ table: MIGRATIONS_TABLE }, 'created migration history table');
}

async function readHistory(client: pg.Client): Promise<HistoryRow[]> {
  const { rows } = await client.query<HistoryRow>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM ${MIGRATIONS_TABLE} ORDER BY started_at ASC`,
  );
  return rows;
}

function refuseFailedMigrations(history: HistoryRow[]): void {
  const failed = history.filter((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed.length === 0) return;
  const details = failed
    .map((row) => {
      const logs = row.logs?.trim();
      return `- \`${row.migration_name}\` (id ${row.id}) started at ${row.started_at.toISOString()} failed` +
        (logs ? ` with the following logs:\n${indent(logs)}` : '');
    })
    .join('\n');
  throw new MigrationError(
    'FAILED_MIGRATION',
    `refusing to migrate: the database records failed migrations (Prisma error P3009).\n${details}\n` +
      'Check the database, then mark each one as rolled back so it is applied again: ' +
      '`npx prisma migrate resolve --rolled-back <migration>`, or where the Prisma engine is unavailable ' +
      `\`UPDATE ${MIGRATIONS_TABLE} SET rolled_back_at = now() WHERE id = '<id>'\`. ` +
      "(A failure inside Warden's migrator was rolled back as a whole, so its changes are not in the database.)",
  );
}

function refuseEditedMigrations(
  history: HistoryRow[],
  migrations: MigrationFile[],
  log: MigrateLogger | undefined,
): void {
  const byName = new Map(migrations.map((migration) => [migration.name, migration]));
  const edited: string[] = [];
  for (const row of history) {
    if (row.finished_at === null || row.rolled_back_at !== null) continue;
    const migration = byName.get(row.migration_name);
    if (migration === undefined) {
      // Prisma's deploy ignores these too (status reports them): typically a newer release migrated.
      log?.info({ migration: row.migration_name }, 'applied migration is missing from the local migrations folder');
      continue;
    }
    if (!scriptMatchesChecksum(migration.script, row.checksum)) {
      edited.push(`- \`${row.migration_name}\`: recorded ${row.checksum}, file ${migration.checksum}`);
    }
  }
  if (edited.length > 0) {
    throw new MigrationError(
      'CHECKSUM_MISMATCH',
      'refusing to migrate: migrations were modified after they were applied to this database ' +
        `(their sha256 differs from ${MIGRATIONS_TABLE}.checksum):\n${edited.join('\n')}\n` +
        'Restore the applied migration files; put schema changes in a new migration instead.',
    );
  }
}

async function applyMigration(client: pg.Client, migration: MigrationFile, log: MigrateLogger | undefined) {
  const id = randomUUID();
  const script = migration.script.toString('utf8');
  log?.info({ migration: migration.name }, 'applying migration');
  const startedAt = new Date();
  try {
    await client.query('BEGIN');
    // Rows as Prisma's record_migration_started / record_successful_step / record_migration_finished
    // leave them; here they commit together with the migration's own changes.
    await client.query(
      `INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, started_at, migration_name) VALUES ($1, $2, $3, $4)`,
      [id, migration.checksum, startedAt, migration.name],
    );
    // No parameters: pg sends it with the simple query protocol, which runs a multi-statement script
    // (as Prisma does); inside BEGIN it is all-or-nothing. A script with its own BEGIN/COMMIT (Prisma
    // writes those when it recreates an enum) ends this transaction early: it still applies, but is
    // then only as atomic as under Prisma itself.
    await client.query(script);
    await client.query(
      `UPDATE ${MIGRATIONS_TABLE} SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
        WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const logs = describeScriptError(migration, script, err);
    // Record the failure as Prisma's record_failed_step would (finished_at NULL, logs set), so that both
    // `prisma migrate status` and the next start see it and a human decides before anything else runs.
    await client
      .query(
        `INSERT INTO ${MIGRATIONS_TABLE} (id, checksum, started_at, migration_name, logs) VALUES ($1, $2, $3, $4, $5)`,
        [id, migration.checksum, startedAt, migration.name, logs],
      )
      .catch(() => undefined);
    throw new MigrationError(
      'APPLY_FAILED',
      `${logs}\nThe migration was rolled back and recorded as failed in ${MIGRATIONS_TABLE}; fix it, then mark it ` +
        `rolled back (\`npx prisma migrate resolve --rolled-back ${migration.name}\`, or ` +
        `\`UPDATE ${MIGRATIONS_TABLE} SET rolled_back_at = now() WHERE id = '${id}'\`).`,
      { cause: err },
    );
  }
  log?.info({ migration: migration.name, ms: Date.now() - startedAt.getTime() }, 'applied migration');
}

/** Prisma-style failure text: the database error, its code, and the failing line of the script. */
function describeScriptError(migration: MigrationFile, script: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = pgCode(err) ?? 'none';
  let text = `Migration \`${migration.name}\` failed to apply.\nDatabase error code: ${code}\nDatabase error: ${message}`;
  const position = Number((err as { position?: unknown } | null)?.position);
  if (Number.isInteger(position) && position > 0) {
    const before = script.slice(0, position - 1);
    const lineNumber = before.split('\n').length;
    const line = script.split('\n')[lineNumber - 1] ?? '';
    text += `\nPosition: ${migration.name}/migration.sql line ${lineNumber}: ${line.trim()}`;
  }
  return text;
}

function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
