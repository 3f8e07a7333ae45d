/**
 * vitest globalSetup: one PostgreSQL for the whole test run.
 *
 * With TWELVE_TEST_DATABASE_URL set (CI, or a developer's server) it is used as it is.
 * Otherwise a throwaway embedded PostgreSQL starts here (about a second); its URL goes to
 * the test workers (provide/inject, and an env var for child processes), and teardown stops
 * it and deletes its data directory. Tests never skip for want of a database: if neither
 * works, the PostgreSQL tests fail and say why, and the other tests run on.
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../support/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An admin URL for a PostgreSQL the tests may create databases on, or why there is none. */
    postgres: { url: string } | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.TWELVE_TEST_DATABASE_URL;
  if (given) {
    project.provide('postgres', { url: given });
    return undefined;
  }
  const started = performance.now();
  try {
    const embedded = await startEmbeddedPostgres();
    process.env.TWELVE_TEST_EMBEDDED_DATABASE_URL = embedded.url;
    project.provide('postgres', { url: embedded.url });
    process.stderr.write(`[postgres] embedded PostgreSQL on 127.0.0.1:${embedded.port} ready in ${Math.round(performance.now() - started)} ms\n`);
    return embedded.destroy;
  } catch (error) {
    project.provide('postgres', { error: (error as Error).message });
    return undefined;
  }
}
