/**
 * Nothing lost, nothing twice: worker processes are SIGKILLed at random while the model
 * server fails at random; every thread must complete, every side effect happen exactly
 * once per idempotency key, and every thread's log stay gapless.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFaultSuite } from './support/chaos.js';
import { tempDir } from './support/temp-dir.js';

describe('fault suite', () => {
  it('completes every thread with each side effect exactly once while workers are killed at random (SQLite, 3 workers)', async () => {
    const dir = tempDir();
    const result = await runFaultSuite({
      databaseUrl: `sqlite:${join(dir, 'twelve.db')}`,
      threads: 300,
      workers: 3,
      steps: 2,
      killIntervalMs: 500,
      minKills: 30,
      errorRate: 0.08,
      hangRate: 0.03,
      timeoutMs: 80_000,
      log: (line) => console.log(`[fault] ${line}`),
    });
    console.log('[fault] sqlite', JSON.stringify(result));
    expect(result.kills).toBeGreaterThanOrEqual(30);
    expect(result.completed).toBe(result.threads);
    expect(result.seqAnomalies).toBe(0);
    expect(result.missingEffects).toBe(0);
    expect(result.strayEffects).toBe(0);
    expect(result.effects).toBe(result.toolCalls);
    expect(result.injected5xx + result.injectedHangs).toBeGreaterThan(0);
  }, 120_000);
});
