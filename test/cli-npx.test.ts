/**
 * `npx twelve worker` under a process manager: the manager signals npm, which exits without
 * passing the signal on. The worker must not be left running as an orphan: it drains and exits.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { eventually, repoRoot } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('drains and exits when the npx that started it is sent SIGTERM (npm does not pass the signal on)', async () => {
  const dir = tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_MODEL_MODE: 'replay', NO_COLOR: '1' };
  delete env.TWELVE_URL;
  const npx = spawn('npx', ['twelve', 'worker', '--concurrency', '1'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  npx.stderr!.on('data', (chunk) => (stderr += chunk));
  // The ready line names the worker's own pid (host:pid:random).
  const pid = await eventually(() => {
    const match = /twelve worker [^:\s]+:(\d+):[0-9a-f]+: ready/.exec(stderr);
    return match ? Number(match[1]) : undefined;
  }, 60_000);
  expect(pid).not.toBe(npx.pid);
  try {
    npx.kill('SIGTERM');
    await eventually(() => (alive(pid) ? undefined : true), 30_000);
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL'); // never leave an orphan behind a failed test
  }
  expect(stderr).toContain('exited; stopping as on SIGTERM');
  expect(stderr).toMatch(/twelve worker: stopped/);
}, 120_000);
