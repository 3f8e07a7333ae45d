/**
 * PostgreSQL for tests: `postgresAdminUrl()` is the server (TWELVE_TEST_DATABASE_URL, or the
 * embedded one test/setup/postgres.ts started); `freshPostgresDatabase()` creates a uniquely
 * named empty database on it and drops it after the test, in the shape the conformance
 * suite's `freshDatabase()` expects.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.js';
import type { ConformanceDatabase } from './store-conformance.js';

/** The admin URL; throws (failing the test, never skipping it) when there is no PostgreSQL. */
export function postgresAdminUrl(): string {
  if (process.env.TWELVE_TEST_DATABASE_URL) return process.env.TWELVE_TEST_DATABASE_URL;
  const provided = inject('postgres');
  if (provided && 'url' in provided) return provided.url;
  if (process.env.TWELVE_TEST_EMBEDDED_DATABASE_URL) return process.env.TWELVE_TEST_EMBEDDED_DATABASE_URL;
  throw new Error(
    `no PostgreSQL for the tests: TWELVE_TEST_DATABASE_URL is not set and the embedded server did not start` +
      (provided && 'error' in provided ? `: ${provided.error}` : ' (is test/setup/postgres.ts registered as globalSetup in vitest.config.ts?)'),
  );
}

/** `url` with its database replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Runs `work` with a client on the admin database. */
export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>, url = postgresAdminUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface FreshPostgresDatabase extends ConformanceDatabase {
  /** The new database's URL. */
  url: string;
  name: string;
  open(options?: Partial<PostgresStoreOptions>): PostgresStore;
  cleanup(): Promise<void>;
}

/** A new, empty database; `cleanup()` drops it (closing whatever is still connected). */
export async function freshPostgresDatabase(): Promise<FreshPostgresDatabase> {
  const admin = postgresAdminUrl();
  const name = `twelve_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`), admin);
  const url = withDatabase(admin, name);
  return {
    url,
    name,
    open: (options = {}) => new PostgresStore({ url, ...options }),
    cleanup: async () => {
      await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`), admin);
    },
  };
}
