// Warden's migrator against a real PostgreSQL: database creation, idempotence, Prisma-compatible
// history rows, refusals (edited or failed migrations, foreign schema, held lock), concurrent starts,
// and the append-only trigger the init migration installs on audit_events.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import {
  MigrationError,
  PRISMA_MIGRATE_LOCK_KEY,
  defaultMigrationsDir,
  migrateDatabase,
  type MigrationErrorCode,
} from '../../src/db/migrate.js';
import { createTestDatabase, databaseUrl, dropDatabase, freshDatabaseName, withClient } from '../support/db.js';

const migrationsDir = defaultMigrationsDir();

/** Migration folder names on disk, computed independently of the migrator. */
async function migrationNames(dir = migrationsDir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** A database name that is dropped when the test ends, whatever happens. */
function scratchDatabase(t: TestContext): { name: string; url: string } {
  const name = freshDatabaseName();
  t.after(() => dropDatabase(name));
  return { name, url: databaseUrl(name) };
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(databaseUrl('postgres'), async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  });
}

async function rejectsWith(promise: Promise<unknown>, code: MigrationErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof MigrationError, `expected a MigrationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('creates a missing database, applies every migration once, then applies nothing', async (t) => {
  const { name, url } = scratchDatabase(t);
  const logs: { obj: object; msg: string | undefined }[] = [];
  const logger = { info: (obj: object, msg?: string) => void logs.push({ obj, msg }) };

  assert.equal(await databaseExists(name), false);
  const first = await migrateDatabase(url, { logger });
  assert.equal(await databaseExists(name), true);
  assert.deepEqual(first.applied, await migrationNames());
  assert.ok(logs.some((l) => l.msg === 'created database'));
  assert.ok(logs.some((l) => l.msg === 'applied migration'));

  const second = await migrateDatabase(url, { logger });
  assert.deepEqual(second.applied, []);
  const rows = await withClient(url, (c) => c.query('SELECT count(*)::int AS n FROM _prisma_migrations'));
  assert.equal(rows.rows[0].n, first.applied.length);
});

test('does not create the database when createDatabase is false', async (t) => {
  const { name, url } = scratchDatabase(t);
  await assert.rejects(migrateDatabase(url, { createDatabase: false }), (err: unknown) => {
    assert.equal((err as { code?: string }).code, '3D000'); // invalid_catalog_name
    return true;
  });
  assert.equal(await databaseExists(name), false);
});

test('records history rows exactly like Prisma Migrate', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  await withClient(db.url, async (client) => {
    // Table layout of Prisma's create_migrations_table.
    const columns = await client.query(
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    assert.deepEqual(
      columns.rows.map((c) => [c.column_name, c.data_type, c.len, c.is_nullable, c.column_default]),
      [
        ['id', 'character varying', 36, 'NO', null],
        ['checksum', 'character varying', 64, 'NO', null],
        ['finished_at', 'timestamp with time zone', null, 'YES', null],
        ['migration_name', 'character varying', 255, 'NO', null],
        ['logs', 'text', null, 'YES', null],
        ['rolled_back_at', 'timestamp with time zone', null, 'YES', null],
        ['started_at', 'timestamp with time zone', null, 'NO', 'now()'],
        ['applied_steps_count', 'integer', null, 'NO', '0'],
      ],
    );
    const pk = await client.query(
      `SELECT conname FROM pg_constraint WHERE conrelid = '_prisma_migrations'::regclass AND contype = 'p'`,
    );
    assert.equal(pk.rows[0]?.conname, '_prisma_migrations_pkey');

    const { rows } = await client.query(
      'SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name',
    );
    const names = await migrationNames();
    assert.deepEqual(
      rows.map((r) => r.migration_name),
      names,
    );
    for (const row of rows) {
      const file = await readFile(join(migrationsDir, row.migration_name, 'migration.sql'));
      assert.equal(row.checksum, createHash('sha256').update(file).digest('hex'), row.migration_name);
      assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(row.finished_at instanceof Date && row.finished_at >= row.started_at);
      assert.equal(row.rolled_back_at, null);
      assert.equal(row.logs, null);
      assert.equal(row.applied_steps_count, 1);
    }
  });
});

test('refuses to run when an applied migration was edited (checksum mismatch)', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  const [firstMigration] = await migrationNames();
  assert.ok(firstMigration);
  await withClient(db.url, (c) =>
    c.query("UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = $1", [firstMigration]),
  );
  await rejectsWith(migrateDatabase(db.url), 'CHECKSUM_MISMATCH', new RegExp(firstMigration));

  // Prisma's tolerance for git's line-ending conversion: a CRLF copy of the file still matches.
  const file = await readFile(join(migrationsDir, firstMigration, 'migration.sql'), 'utf8');
  const crlf = createHash('sha256').update(file.replace(/\n/g, '\r\n')).digest('hex');
  await withClient(db.url, (c) =>
    c.query('UPDATE _prisma_migrations SET checksum = $1 WHERE migration_name = $2', [crlf, firstMigration]),
  );
  assert.deepEqual((await migrateDatabase(db.url)).applied, []);
});

test('a failing migration is rolled back, recorded as failed, and blocks until resolved', async (t) => {
  const { url } = scratchDatabase(t);
  const dir = await mkdtemp(join(tmpdir(), 'warden-migrations-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(migrationsDir, dir, { recursive: true });
  const broken = '99991231235959_broken';
  await mkdir(join(dir, broken));
  await writeFile(
    join(dir, broken, 'migration.sql'),
    '-- CreateTable\nCREATE TABLE "half_done" ("id" INTEGER NOT NULL);\n\nINSERT INTO "no_such_table" VALUES (1);\n',
  );

  await rejectsWith(migrateDatabase(url, { migrationsDir: dir }), 'APPLY_FAILED', /no_such_table[\s\S]*line 4/);
  await withClient(url, async (client) => {
    const table = await client.query("SELECT to_regclass('half_done') AS t");
    assert.equal(table.rows[0].t, null, 'the failed migration must leave no trace');
    const { rows } = await client.query('SELECT * FROM _prisma_migrations WHERE migration_name = $1', [broken]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].finished_at, null);
    assert.equal(rows[0].rolled_back_at, null);
    assert.equal(rows[0].applied_steps_count, 0);
    assert.match(rows[0].logs, /42P01/); // undefined_table
  });
  // Migrations before it were applied and kept.
  const good = await migrationNames();
  await withClient(url, async (client) => {
    const { rows } = await client.query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL');
    assert.deepEqual(rows.map((r) => r.migration_name).sort(), good);
  });

  // Prisma's P3009 rule: nothing runs while a failed migration is unresolved.
  await rejectsWith(migrateDatabase(url, { migrationsDir: dir }), 'FAILED_MIGRATION', new RegExp(broken));

  // Resolve it the way `prisma migrate resolve --rolled-back` does, fix the file, and it applies.
  await withClient(url, (c) =>
    c.query('UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1', [broken]),
  );
  await writeFile(join(dir, broken, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL);\n');
  assert.deepEqual((await migrateDatabase(url, { migrationsDir: dir })).applied, [broken]);
});

test('two concurrent migrateDatabase calls on a new database both succeed and apply once', async (t) => {
  const { url } = scratchDatabase(t);
  const results = await Promise.all([migrateDatabase(url), migrateDatabase(url)]);
  const names = await migrationNames();
  assert.deepEqual(
    results.flatMap((r) => r.applied).sort(),
    names,
    'each migration is applied by exactly one of the two callers',
  );
  await withClient(url, async (client) => {
    const { rows } = await client.query(
      'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY 1',
    );
    assert.deepEqual(rows, names.map((migration_name) => ({ migration_name, n: 1 })));
  });
});

test("waits on Prisma Migrate's advisory lock and gives up with a clear error", async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  // Stands in for a `prisma migrate deploy` (or another Warden) that is busy migrating.
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    await rejectsWith(migrateDatabase(db.url, { lockTimeoutMs: 300 }), 'LOCK_TIMEOUT', /72707369/);
  } finally {
    await holder.end();
  }
  assert.deepEqual((await migrateDatabase(db.url)).applied, []);
});

test('refuses a non-empty database without migration history (Prisma P3005)', async (t) => {
  const { url } = scratchDatabase(t);
  const empty = await mkdtemp(join(tmpdir(), 'warden-empty-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  await migrateDatabase(url, { migrationsDir: empty });
  await withClient(url, async (client) => {
    await client.query('DROP TABLE _prisma_migrations');
    await client.query('CREATE TABLE pushed_without_migrations (id int)');
  });
  await rejectsWith(migrateDatabase(url), 'DATABASE_NOT_EMPTY', /pushed_without_migrations/);
});

test("honours Prisma's ?schema= parameter: schema, tables and history live there", async (t) => {
  const { url } = scratchDatabase(t);
  const inSchema = `${url}?schema=warden_app`;
  assert.deepEqual((await migrateDatabase(inSchema)).applied, await migrationNames());
  assert.deepEqual((await migrateDatabase(inSchema)).applied, []);
  await withClient(url, async (client) => {
    const { rows } = await client.query(
      `SELECT table_schema, count(*)::int AS n FROM information_schema.tables
        WHERE table_name IN ('_prisma_migrations', 'routers', 'audit_events') GROUP BY table_schema`,
    );
    assert.deepEqual(rows, [{ table_schema: 'warden_app', n: 3 }]);
  });
});

test('audit_events is append-only: UPDATE and DELETE are rejected, INSERT works', async (t) => {
  const db = await createTestDatabase();
  t.after(() => db.drop());
  await withClient(db.url, async (client) => {
    const inserted = await client.query(
      "INSERT INTO audit_events (actor, action, detail) VALUES ('operator', 'session.approve', '{\"a\":1}') RETURNING id",
    );
    const id = inserted.rows[0].id as string;
    await assert.rejects(client.query("UPDATE audit_events SET actor = 'mallory' WHERE id = $1", [id]), /append-only: UPDATE/);
    await assert.rejects(client.query('DELETE FROM audit_events WHERE id = $1', [id]), /append-only: DELETE/);
    const { rows } = await client.query('SELECT actor, action, detail FROM audit_events');
    assert.deepEqual(rows, [{ actor: 'operator', action: 'session.approve', detail: { a: 1 } }]);
  });
});
