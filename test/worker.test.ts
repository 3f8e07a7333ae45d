/** `twelve worker` as an operator runs it: picks up launched threads, drains on SIGTERM within a grace period. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { eventually, repoRoot } from './support/cli.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';
import slowAgent from './fixtures/slow-tool-agent.js';

const bin = join(repoRoot, 'bin/twelve.js');

function startWorker(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, 'worker', '--config', 'test/fixtures/slow-tool-agent.ts'], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

function playSlowTool(server: ScriptedServer) {
  server.setFallback((request) => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
    return messages.some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'slow', arguments: { label: 'x' } }] };
  });
}

async function setUp(extra: NodeJS.ProcessEnv) {
  const server = await startServer();
  playSlowTool(server);
  const dir = tempDir();
  const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_POLL_MS: '50', ...extra };
  const runtime = createRuntime({ agents: [slowAgent], env });
  return { server, env, runtime };
}

describe('twelve worker', () => {
  it('lets the tool run in flight finish and be recorded on SIGTERM, releases its lease and exits 0', async () => {
    const { env, runtime } = await setUp({ SLOW_TOOL_MS: '600', TWELVE_SHUTDOWN_GRACE_MS: '10000' });
    try {
      const worker = startWorker(env);
      await eventually(() => /ready in \d+ ms/.test(worker.stderr()), 45_000);
      const thread = await runtime.launch({ agent: 'slow-tool', input: 'go' });
      await eventually(async () => (await runtime.loadEvents(thread.id)).some((e) => e.type === 'tool_started'), 45_000);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const events = await runtime.loadEvents(thread.id);
      expect(events.at(-1)).toMatchObject({ type: 'tool_succeeded', data: { result: 'done x (attempt 1)' } });
      const row = (await runtime.getThread(thread.id))!;
      expect(row.status).toBe('runnable');
      expect(row.leaseOwner).toBeNull();
      // Another worker (here: this process) finishes it at once, no lease to wait out.
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    } finally {
      await runtime.close();
    }
  });

  it('abandons a step still running after the grace period, and the next worker re-runs it with the same key', async () => {
    const { env, runtime } = await setUp({ SLOW_TOOL_MS: '60000', TWELVE_SHUTDOWN_GRACE_MS: '200' });
    try {
      const worker = startWorker(env);
      await eventually(() => /ready in \d+ ms/.test(worker.stderr()), 45_000);
      const thread = await runtime.launch({ agent: 'slow-tool', input: 'go' });
      await eventually(async () => (await runtime.loadEvents(thread.id)).some((e) => e.type === 'tool_started'), 45_000);
      const killedAt = Date.now();
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(worker.stderr()).toMatch(/abandoned/);
      const before = await runtime.loadEvents(thread.id);
      expect(before.at(-1)).toMatchObject({ type: 'tool_started', data: { attempt: 1 } });
      // Its tool honours the signal, so the lease was released, or (if the process exited first)
      // it is held by a process that is gone: either way the next worker takes over at once.
      const leaseOwner = (await runtime.getThread(thread.id))!.leaseOwner;
      if (leaseOwner !== null) expect(leaseOwner.split(':')[1]).toBe(String(worker.child.pid));

      process.env.SLOW_TOOL_MS = '10';
      try {
        expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
      } finally {
        delete process.env.SLOW_TOOL_MS;
      }
      const starts = (await runtime.loadEvents(thread.id)).filter((e) => e.type === 'tool_started');
      expect(starts.map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
      expect(new Set(starts.map((e) => (e.data as { idempotencyKey: string }).idempotencyKey)).size).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it('exits 0 at once on a SIGTERM during start-up (while it loads its agents), holding nothing', async () => {
    const dir = tempDir();
    const marker = join(dir, 'loading');
    const child = spawn(process.execPath, [bin, 'worker', '--config', 'test/fixtures/slow-start-config.ts'], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, SLOW_START_MARKER: marker, SLOW_START_MS: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // The process runs our code and is in the middle of loading its config: signal it now.
    await eventually(() => existsSync(marker), 45_000);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(/SIGTERM before the worker started; nothing to drain/);
  });
});

