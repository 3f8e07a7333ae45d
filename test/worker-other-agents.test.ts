/**
 * A worker whose config lacks an agent never claims that agent's threads. That must not be
 * silent: it logs, once per agent, how many threads wait and that it does not have the agent.
 * Real SQLite and PostgreSQL, two runtimes sharing one store as two deployments would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../src/index.js';
import { scriptedAgent, stepModel } from './support/hitl.js';
import { freshPostgresDatabase, type FreshPostgresDatabase } from './support/postgres.js';
import { recordingLogger } from './support/recording-logger.js';

const dirs: string[] = [];
const databases: FreshPostgresDatabase[] = [];
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const db of databases) await db.cleanup();
});

const answer = () => stepModel(() => ({ text: 'done' }));

describe('a worker without an agent', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`says which threads it leaves waiting, and why (${kind})`, async () => {
      let url: string;
      if (kind === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'twelve-other-agents-'));
        dirs.push(dir);
        url = `sqlite:${join(dir, 'twelve.db')}`;
      } else {
        const db = await freshPostgresDatabase();
        databases.push(db);
        url = db.url;
      }
      const env = { TWELVE_DATABASE_URL: url, TWELVE_LOG: 'off' };
      // The deployment that launches billing threads; no worker of it runs.
      const launcher = createRuntime({ agents: [scriptedAgent({ name: 'billing' })], models: { 'scripted:billing': answer() }, env });
      const ids = [(await launcher.launch({ agent: 'billing', input: 'a' })).id, (await launcher.launch({ agent: 'billing', input: 'b' })).id];
      await launcher.close();

      const logger = recordingLogger();
      const worker = createRuntime({ agents: [scriptedAgent({ name: 'support' })], models: { 'scripted:support': answer() }, env, logger });
      const running = worker.startWorker({ pollMs: 20 });
      const supportThread = await worker.launch({ agent: 'support', input: 'c' });
      try {
        await expect.poll(async () => (await worker.getThread(supportThread.id))?.status, { timeout: 45_000 }).toBe('completed');
        const warning = () => logger.lines.filter((l) => l.level === 'warn' && l.fields.agent === 'billing');
        await expect.poll(() => warning().length, { timeout: 45_000 }).toBe(1);
        expect(warning()[0]!.message).toBe('2 threads of agent billing wait for a worker, and this one does not have billing (it runs support): start a worker whose config lists it');
        for (const id of ids) expect((await worker.getThread(id))?.status).toBe('runnable');
        // Once per agent, however many times it looks.
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        expect(warning()).toHaveLength(1);
      } finally {
        await running.stop();
        await worker.close();
      }
    });
  }
});
