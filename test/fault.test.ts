/**
 * Nothing lost, nothing twice: worker processes are SIGKILLed at random while the model
 * server fails at random (and, on PostgreSQL, the database restarts once); every thread
 * must complete, every side effect happen exactly once per idempotency key, and every
 * thread's log stay gapless.
 *
 * No time budget: the driver kills only as fast as replacement workers get ready, then waits
 * as long as threads keep moving, and gives up only when nothing moved for two minutes
 * (test/support/chaos.ts). The vitest timeouts below are a last resort against a hang.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFaultSuite, type FaultSuiteResult } from './support/chaos.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './support/embedded-postgres.js';
import { freshPostgresDatabase, withAdminClient, withDatabase } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';

const chaos = {
  threads: 300,
  workers: 3,
  steps: 2,
  killIntervalMs: 500,
  minKills: 30,
  errorRate: 0.08,
  hangRate: 0.03,
};

/** Only a hang reaches this (the suite itself gives up after 2 minutes without progress). */
const lastResortMs = 30 * 60_000;

function expectNothingLostNothingTwice(result: FaultSuiteResult): void {
  expect(result.stalled).toBeUndefined();
  expect(result.kills).toBeGreaterThanOrEqual(30);
  expect(result.statuses).toEqual({ completed: result.threads });
  expect(result.completed).toBe(result.threads);
  expect(result.seqAnomalies).toBe(0);
  expect(result.workerCrashes).toBe(0);
  expect(result.missingEffects).toBe(0);
  expect(result.strayEffects).toBe(0);
  // Exactly once per key; the only other outcome allowed is the runtime giving up on a call
  // after 3 interrupted runs (tool_interrupted, at most one effect), which is rare.
  expect(Object.keys(result.toolFailures).filter((code) => code !== 'tool_interrupted')).toEqual([]);
  expect(result.effects).toBe(result.toolCalls - result.abandonedCalls + result.abandonedWithEffect);
  // Re-runs are expected (kills land mid-tool) and visible; each one bracketed by tool_started.
  expect(result.toolAttempts).toBe(result.effects + result.toolReruns);
  expect(result.toolReruns).toBeGreaterThan(0);
  expect(result.unbracketedRuns).toBe(0);
  expect(result.injected5xx + result.injectedHangs).toBeGreaterThan(0);
}

function printCounts(store: string, result: FaultSuiteResult): void {
  const { statuses, workerErrorSamples, ...counts } = result;
  console.log(`[fault] ${store}: ${JSON.stringify(counts)}\n[fault] ${store} statuses ${JSON.stringify(statuses)}`);
  if (workerErrorSamples.length) console.log(`[fault] ${store} worker errors (samples):\n  ${workerErrorSamples.join('\n  ')}`);
}

describe('fault suite', () => {
  it('completes every thread with each side effect exactly once while workers are killed at random (SQLite, 3 workers)', async () => {
    const dir = tempDir();
    const result = await runFaultSuite({
      ...chaos,
      databaseUrl: `sqlite:${join(dir, 'twelve.db')}`,
      log: (line) => console.log(`[fault] ${line}`),
    });
    printCounts('sqlite', result);
    expectNothingLostNothingTwice(result);
  }, lastResortMs);

  it('does the same on PostgreSQL, through a database restart mid-run (3 workers)', async () => {
    // A server of its own, so the test can stop and start it without disturbing other tests.
    let dedicated: EmbeddedPostgres | undefined;
    let skipped: string | undefined;
    try {
      dedicated = await startEmbeddedPostgres();
    } catch (error) {
      skipped = (error as Error).message.split('\n')[0];
    }
    let databaseUrl: string;
    let cleanup: () => Promise<void>;
    if (dedicated) {
      const server = dedicated;
      await withAdminClient((client) => client.query('CREATE DATABASE twelve_fault'), server.url);
      databaseUrl = withDatabase(server.url, 'twelve_fault');
      cleanup = () => server.destroy();
    } else {
      // Only an external server (TWELVE_TEST_DATABASE_URL): no way to restart it from here.
      console.log(
        `[fault] postgres: DATABASE RESTART SKIPPED: no dedicated embedded PostgreSQL could be started (${skipped}); ` +
          `running the chaos on the external server without restarting it`,
      );
      const database = await freshPostgresDatabase();
      databaseUrl = database.url;
      cleanup = database.cleanup;
    }
    try {
      const result = await runFaultSuite({
        ...chaos,
        databaseUrl,
        ...(dedicated
          ? {
              restartDatabase: {
                afterKills: 10,
                restart: async () => {
                  await dedicated.stop();
                  await new Promise((resolve) => setTimeout(resolve, 1_000));
                  await dedicated.start();
                },
              },
            }
          : {}),
        log: (line) => console.log(`[fault] postgres: ${line}`),
      });
      printCounts('postgres', result);
      expectNothingLostNothingTwice(result);
      if (dedicated) {
        expect(result.databaseRestarts).toBe(1);
        // Every worker that lived through the restart got its LISTEN connection back.
        expect(result.listenersBack).toBe(result.workers);
        // The restart was felt (loops failed and backed off) and survived.
        expect(result.workerErrors).toBeGreaterThan(0);
      }
    } finally {
      await cleanup();
    }
  }, lastResortMs);
});
