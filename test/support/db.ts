// Throwaway PostgreSQL databases for integration tests: each test gets its own uniquely named
// database on the local server, so tests never share state and can run against a real schema.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '../../src/db/migrate.js';

/** Server the tests use; override with WARDEN_TEST_PG_URL (any database name; it is replaced). */
export const TEST_SERVER_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, unused database name (nothing is created). */
export function freshDatabaseName(prefix = 'warden_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Connection URL for `database` on the test server. */
export function databaseUrl(database: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.href;
}

/** Creates a uniquely named database and migrates it to the current schema. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = freshDatabaseName();
  const url = databaseUrl(name);
  try {
    await migrateDatabase(url); // creates the database too
  } catch (err) {
    await dropDatabase(name).catch(() => undefined); // do not leak a half-made database
    throw err;
  }
  return { name, url, drop: () => dropDatabase(name) };
}

/** Drops `name` if it exists, first terminating connections a test may have leaked. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_SERVER_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
      name,
    ]);
    await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}

/** Runs `fn` with a connected client to `url` and always closes it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
