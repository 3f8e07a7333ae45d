/**
 * vitest globalSetup: one PostgreSQL for the whole test run.
 *
 * With TWELVE_TEST_DATABASE_URL set (CI, or a developer's server) it is used as it is.
 * Otherwise a throwaway embedded PostgreSQL starts here (about a second); its URL goes to
 * the test workers (provide/inject, and an env var for child processes), and teardown stops
 * it and deletes its data directory. Tests never skip for want of a database: if neither
 * works, the PostgreSQL tests fail and say why, and the other tests run on.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

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
    // In a child process: see test/support/embedded-postgres-process.ts for why.
    const script = fileURLToPath(new URL('../support/embedded-postgres-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        const match = /READY (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with status ${code} before it was ready`)));
    });
    process.env.TWELVE_TEST_EMBEDDED_DATABASE_URL = url;
    project.provide('postgres', { url });
    process.stderr.write(`[postgres] embedded PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')} ready in ${Math.round(performance.now() - started)} ms\n`);
    return async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    };
  } catch (error) {
    project.provide('postgres', { error: (error as Error).message });
    return undefined;
  }
}
