/**
 * The drain's grace period is a hard limit: a SIGTERMed `twelve worker` whose tool ignores
 * its abort signal exits right after the grace period, keeping the thread's lease until it
 * is gone, so that another worker re-runs the call only once the first run is over (the
 * process died with it). Real worker processes, on SQLite and on PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { eventually, repoRoot } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import stubbornAgent, { readStubbornLog } from './fixtures/stubborn-tool-agent.js';

const bin = join(repoRoot, 'bin/twelve.js');

function startWorker(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, 'worker', '--config', 'test/fixtures/stubborn-tool-agent.ts'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid!, exited, stderr: () => stderr };
}

async function drainPastGrace(databaseUrl: string): Promise<void> {
  const server = await startServer();
  server.setFallback((request) => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
    return messages.some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'stubborn', arguments: { label: 'x' } }] };
  });
  const log = join(tempDir(), 'runs.jsonl');
  const graceMs = 300;
  const env = {
    TWELVE_DATABASE_URL: databaseUrl,
    OPENAI_API_KEY: testApiKey,
    OPENAI_BASE_URL: server.baseURL,
    TWELVE_POLL_MS: '50',
    TWELVE_WORKER_CONCURRENCY: '1',
    TWELVE_SHUTDOWN_GRACE_MS: String(graceMs),
    STUBBORN_LOG: log,
    STUBBORN_FIRST_RUN_MS: '60000',
  };
  const runtime = createRuntime({ agents: [stubbornAgent], env });
  const workers: Array<ReturnType<typeof startWorker>> = [];
  try {
    const first = startWorker(env);
    workers.push(first);
    await eventually(() => /ready in \d+ ms/.test(first.stderr()), 45_000);
    const thread = await runtime.launch({ agent: 'stubborn-tool', input: 'go' });
    await eventually(() => readStubbornLog(log).some((r) => r.event === 'start' && r.pid === first.pid), 45_000);
    // A second worker, ready to take the thread over the moment it may.
    const second = startWorker(env);
    workers.push(second);
    await eventually(() => /ready in \d+ ms/.test(second.stderr()), 45_000);

    const signalled = Date.now();
    first.child.kill('SIGTERM');
    // Generous: the point is that it exits at all while its tool still has a minute to go.
    const exit = await Promise.race([first.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    const exitMs = Date.now() - signalled;
    expect(exit, first.stderr()).toEqual({ code: 0, signal: null });
    console.log(`[drain] ${databaseUrl.split(':')[0]}: exited ${exitMs} ms after SIGTERM (grace ${graceMs} ms)`);
    expect(first.stderr()).toMatch(/abandoned/);
    // It did not wait for the tool: that run never ended.
    expect(readStubbornLog(log).filter((r) => r.pid === first.pid).map((r) => r.event)).toEqual(['start']);

    // The second worker re-runs the call (same key), once the first process is gone.
    await eventually(async () => (await runtime.getThread(thread.id))?.status === 'completed', 45_000);
    const records = readStubbornLog(log);
    expect(records.filter((r) => r.event === 'overlap')).toEqual([]);
    expect(records.map((r) => [r.event, r.pid, r.attempt])).toEqual([
      ['start', first.pid, 1],
      ['start', second.pid, 2],
      ['end', second.pid, 2],
    ]);
    expect(new Set(records.map((r) => r.key)).size).toBe(1);
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await runtime.close();
    await server.close();
  }
}

describe('twelve worker: the grace period is a hard limit', () => {
  it('exits right after the grace period although a tool ignores its signal, and never runs one call twice at once (SQLite)', async () => {
    await drainPastGrace(`sqlite:${join(tempDir(), 'twelve.db')}`);
  }, 90_000);

  it('does the same on PostgreSQL, where the next worker knows at once that the first is gone', async () => {
    const database = await freshPostgresDatabase();
    try {
      await drainPastGrace(database.url);
    } finally {
      await database.cleanup();
    }
  }, 90_000);
});
