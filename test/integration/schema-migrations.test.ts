// Proves that prisma/migrations produce exactly the schema declared in prisma/schema.prisma: a fresh
// database is migrated, read back from pg_catalog and compared with what Prisma's own parser (the DMMF
// from the prisma CLI's WebAssembly schema module) says the schema declares. Nothing is hand-copied:
// a model, field, @@unique, @@index or relation added to schema.prisma without a migration fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findPackageRoot } from '../../src/db/migrate.js';
import {
  compareSchemas,
  describeSchema,
  expectedSchemaFromDatamodel,
  formatSchemaDiff,
  introspectDatabase,
  loadPrismaDatamodel,
  type DmmfDatamodel,
  type SchemaSnapshot,
} from '../../src/db/schemaIntrospection.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/db.js';

const schemaPath = join(findPackageRoot(import.meta.url), 'prisma', 'schema.prisma');
// Prisma Migrate's own history table is the only table schema.prisma does not declare.
const ignoreTables = ['_prisma_migrations'];

let db: TestDatabase | undefined;
let datamodel: DmmfDatamodel;
let expected: SchemaSnapshot;

before(async () => {
  datamodel = await loadPrismaDatamodel(schemaPath);
  expected = expectedSchemaFromDatamodel(datamodel);
  db = await createTestDatabase();
});

after(async () => {
  await db?.drop();
});

test("Prisma's DMMF covers every model and enum written in schema.prisma", async () => {
  // Guards the comparison against a loader that silently returns too little.
  const source = await readFile(schemaPath, 'utf8');
  const declared = (keyword: string) =>
    [...source.matchAll(new RegExp(`^${keyword}\\s+(\\w+)\\s*\\{`, 'gm'))].map((m) => m[1]).sort();
  assert.deepEqual(datamodel.models.map((m) => m.name).sort(), declared('model'));
  assert.deepEqual(datamodel.enums.map((e) => e.name).sort(), declared('enum'));
  assert.ok(describeSchema(expected).length > 100, 'expected schema should describe every table, column and key');
});

test('migrations produce exactly the schema declared in schema.prisma', async () => {
  assert.ok(db);
  const actual = await withClient(db.url, (client) => introspectDatabase(client));
  const diff = compareSchemas(expected, actual, { ignoreTables });
  assert.ok(diff.missing.length === 0 && diff.unexpected.length === 0, formatSchemaDiff(diff));
  assert.deepEqual(actual.tables.filter((t) => !ignoreTables.includes(t)).sort(), expected.tables.slice().sort());
});

test('the comparison reports drift (dropped column, changed FK, extra table, missing index)', async () => {
  assert.ok(db);
  // DDL is transactional in PostgreSQL: drift is made inside a transaction and rolled back afterwards.
  const diff = await withClient(db.url, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('ALTER TABLE routers DROP COLUMN api_tls');
      await client.query('ALTER TABLE bans DROP CONSTRAINT bans_router_id_fkey');
      await client.query(
        'ALTER TABLE bans ADD CONSTRAINT bans_router_id_fkey FOREIGN KEY (router_id) REFERENCES routers(id) ON DELETE SET NULL ON UPDATE CASCADE',
      );
      await client.query('CREATE TABLE stray (id int)');
      await client.query('DROP INDEX audit_events_at_idx');
      await client.query("ALTER TABLE people ALTER COLUMN display_name SET DEFAULT 'x'");
      return compareSchemas(expected, await introspectDatabase(client), { ignoreTables });
    } finally {
      await client.query('ROLLBACK');
    }
  });
  assert.deepEqual(diff.missing, [
    'column people.display_name: text NOT NULL',
    'column routers.api_tls: boolean NOT NULL DEFAULT false',
    'foreign key bans_router_id_fkey on bans (router_id) -> routers (id) ON DELETE CASCADE ON UPDATE CASCADE',
    'index audit_events_at_idx on audit_events (at)',
  ]);
  assert.deepEqual(diff.unexpected, [
    "column people.display_name: text NOT NULL DEFAULT 'x'::text",
    'column stray.id: integer NULL',
    'foreign key bans_router_id_fkey on bans (router_id) -> routers (id) ON DELETE SET NULL ON UPDATE CASCADE',
    'table stray',
  ]);
  assert.match(formatSchemaDiff(diff), /- column routers\.api_tls: boolean NOT NULL DEFAULT false/);
});
