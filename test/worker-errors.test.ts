/**
 * `twelve worker` is never silent about a thread that cannot progress: with no TWELVE_LOG set
 * it prints warnings and errors on stderr, one readable line each. A thread blocked by its
 * configuration says so and waits (resumable once fixed); a database outage is said once, and
 * its end too. Real child processes, a real PostgreSQL behind a TCP proxy the test can cut.
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRuntime } from '../src/index.js';
import { eventually, repoRoot, runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';
import slowAgent from './fixtures/slow-tool-agent.js';

const bin = join(repoRoot, 'bin/twelve.js');
const fixture = 'test/fixtures/slow-tool-agent.ts';

/** A worker with only `env` (nothing from the shell: no TWELVE_LOG, no provider keys). */
function startWorker(env: NodeJS.ProcessEnv) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TWELVE_|OPENAI_|ANTHROPIC_)/.test(name)));
  const child = spawn(process.execPath, [bin, 'worker', '--config', fixture, '--concurrency', '1'], {
    cwd: repoRoot,
    env: { ...base, NO_COLOR: '1', TWELVE_POLL_MS: '50', SLOW_TOOL_MS: '10', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  onTestFinished(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  // Whole lines only: a line still arriving must not match half-way.
  const lines = (pattern: RegExp) => stderr.split('\n').slice(0, -1).filter((line) => pattern.test(line));
  return { child, exited, stderr: () => stderr, lines };
}

function playSlowTool(server: ScriptedServer) {
  server.setFallback((request) => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
    return messages.some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'slow', arguments: { label: 'x' } }] };
  });
}

/** A TCP proxy to `target` that the test can cut (every connection dropped, new ones refused) and restore. */
async function cuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let down = false;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (down) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    get refused() {
      return refused;
    },
  };
}

describe('twelve worker on stderr, with no TWELVE_LOG set', () => {
  it('says a thread is blocked by its configuration (no key), leaves it waiting with the reason, and resume finishes it once fixed', async () => {
    const server = await startServer();
    playSlowTool(server);
    const dir = tempDir();
    const database = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}` };
    const runtime = createRuntime({ agents: [slowAgent], env: { ...database, TWELVE_LOG: 'off' } });
    onTestFinished(() => runtime.close());

    const worker = startWorker(database); // no OPENAI_API_KEY
    await eventually(() => /ready in \d+ ms/.test(worker.stderr()), 45_000);
    const thread = await runtime.launch({ agent: 'slow-tool', input: 'go' });
    const [line] = await eventually(() => {
      const found = worker.lines(/ ERROR +thread .* is blocked by its configuration/);
      return found.length > 0 && found;
    }, 15_000);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR +thread th_\w+ is blocked by its configuration and waits for a person: model openai:gpt-4o-2024-08-06: OPENAI_API_KEY is not set\./);
    expect(line).toContain(`Fix it, then: twelve resume ${thread.id}`);
    expect(line).toMatch(new RegExp(`  threadId=${thread.id} agent=slow-tool seq=2 code=config_invalid$`));
    // The line is written when the event is appended; the worker lets go of the thread just after.
    const waiting = await eventually(async () => {
      const found = (await runtime.getThread(thread.id))!;
      return found.leaseOwner === null && found;
    }, 15_000);
    expect(waiting).toMatchObject({ status: 'awaiting_human', leaseOwner: null, error: { code: 'config_invalid' } });
    expect(waiting.waitingReason).toMatch(/^blocked: model openai:gpt-4o-2024-08-06: OPENAI_API_KEY is not set/);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // Said once, and never retried: the log holds one blocked step.
    expect(worker.lines(/is blocked by its configuration/)).toHaveLength(1);
    expect((await runtime.loadEvents(thread.id)).map((e) => e.type)).toEqual(['thread_started', 'blocked']);

    const resumed = await runCli(['resume', thread.id, '--config', fixture, '--as', 'ops@example.com'], {
      env: { ...database, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, SLOW_TOOL_MS: '10' },
    });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed +by ops@example.com/);
    expect(resumed.stdout).toMatch(/completed +"done"/);
  });

  it('says once that the database is unreachable, however many polls fail, and says when it is back', async () => {
    const server = await startServer();
    playSlowTool(server);
    const database = await freshPostgresDatabase();
    onTestFinished(() => database.cleanup());
    const direct = new URL(database.url);
    const proxy = await cuttableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const runtime = createRuntime({ agents: [slowAgent], env: { TWELVE_DATABASE_URL: database.url, TWELVE_LOG: 'off' } });
    onTestFinished(() => runtime.close());

    // Debug level only to count the failed polls the outage spans; they stay below the default level.
    const worker = startWorker({ TWELVE_DATABASE_URL: proxied.toString(), OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_LOG_LEVEL: 'debug' });
    const first = await runtime.launch({ agent: 'slow-tool', input: 'before' });
    await eventually(async () => (await runtime.getThread(first.id))?.status === 'completed', 45_000);

    proxy.cut();
    await eventually(() => worker.lines(/DEBUG the database is still unreachable/).length >= 2, 30_000);
    const outage = worker.lines(/ERROR +cannot reach the database/);
    expect(outage).toHaveLength(1);
    expect(outage[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR cannot reach the database; retrying with backoff, and saying so here once it is back  error=".*PostgreSQL at /);
    expect(proxy.refused).toBeGreaterThan(0);

    proxy.restore();
    const [back] = await eventually(() => {
      const found = worker.lines(/WARN +the database is reachable again, after [\d.]+ s/);
      return found.length > 0 && found;
    }, 30_000);
    expect(back).toMatch(/downMs=\d+ retries=\d+$/);
    const second = await runtime.launch({ agent: 'slow-tool', input: 'after' });
    await eventually(async () => (await runtime.getThread(second.id))?.status === 'completed', 30_000);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.lines(/cannot reach the database/)).toHaveLength(1);
    expect(worker.lines(/reachable again/)).toHaveLength(1);
    // Nothing else was worth a warning: no per-poll lines at the default level.
    const loud = worker.lines(/ (WARN|ERROR) /);
    expect(loud, loud.join('\n')).toHaveLength(2);
  });
});
