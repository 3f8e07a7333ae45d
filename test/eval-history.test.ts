/** Stored eval runs: `twelve eval history` (local and TWELVE_URL) and the API, from runs saved with saveEvalRun. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import type { EvalRunRecord } from '../src/eval/types.js';
import type { Store } from '../src/store/types.js';
import { keys, startApi } from './support/api.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';
import { evalRunRecord } from './support/eval-runs.js';

const run = evalRunRecord;

async function saveRuns(store: Store) {
  await store.saveEvalRun(run('ev_1', 'rel_aaaaaaaaaaaaaaaa', '2026-11-30T10:00:00.000Z', 4, 0));
  await store.saveEvalRun(run('ev_2', 'rel_bbbbbbbbbbbbbbbb', '2026-12-01T10:00:00.000Z', 3, 1, { baselineReleaseId: 'rel_aaaaaaaaaaaaaaaa' }));
  await store.saveEvalRun(run('ev_3', 'rel_bbbbbbbbbbbbbbbb', '2026-12-01T11:00:00.000Z', 4, 0, { model: 'openai:gpt-4.1-2025-04-14', baselineReleaseId: 'rel_aaaaaaaaaaaaaaaa' }));
  await store.saveEvalRun({ ...run('ev_4', 'rel_cccccccccccccccc', '2026-12-01T12:00:00.000Z', 2, 0), agent: 'email-classifier', suite: 'evals/email-classifier.jsonl' });
}

describe('twelve eval history', () => {
  it('prints the runs newest first with a per-release score trend, and --json', async () => {
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}` };
    const store = openStore(env.TWELVE_DATABASE_URL);
    await saveRuns(store);
    await store.close();

    const shown = await runCli(['eval', 'history', 'refunds'], { env });
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    const lines = shown.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DATE +SUITE +RELEASE +MODEL +PASSED +FAILED +SCORE +COST +BASELINE$/);
    expect(lines[1]).toMatch(/^2026-12-01 11:00 +evals\/refunds.jsonl +rel_bbbbbbbbbbbbbbbb +openai:gpt-4.1-2025-04-14 +4 +0 +1.00 +\$0.0123 +rel_aaaaaaaaaaaaaaaa$/);
    expect(lines[2]).toMatch(/^2026-12-01 10:00 +evals\/refunds.jsonl +rel_bbbbbbbbbbbbbbbb +- +3 +1 +0.75 /);
    expect(lines[3]).toMatch(/^2026-11-30 10:00 .* +4 +0 +1.00 +\$0.0123 +-$/);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('trend evals/refunds.jsonl: rel_aaaaaaaaaaaaaaaa 1.00 → rel_bbbbbbbbbbbbbbbb 0.75 → rel_bbbbbbbbbbbbbbbb (openai:gpt-4.1-2025-04-14) 1.00');

    const json = JSON.parse((await runCli(['eval', 'history', '--json', '--limit', '2'], { env })).stdout);
    expect(json.runs.map((r: EvalRunRecord) => r.id)).toEqual(['ev_4', 'ev_3']);
    expect(json.runs[0].results).toBeUndefined();
    expect(json.trends.map((t: { suite: string }) => t.suite)).toEqual(['evals/refunds.jsonl', 'evals/email-classifier.jsonl']);

    expect((await runCli(['eval', 'history', 'nobody'], { env })).stdout).toBe('no eval runs of nobody stored yet (twelve eval <agent> stores each run)\n');
  }, 30_000);
});

describe('eval runs over the API', () => {
  it('lists runs (by agent and suite), reads one with its per-case results, and answers the remote CLI', async () => {
    const api = await startApi();
    await saveRuns(api.runtime.store);
    const listed = await api.call('GET', '/v1/evals/runs?agent=refunds', { key: 'reader' });
    expect(listed.status).toBe(200);
    expect(listed.body.runs.map((r: EvalRunRecord) => r.id)).toEqual(['ev_3', 'ev_2', 'ev_1']);
    expect(listed.body.runs[0]).not.toHaveProperty('results');
    expect((await api.call('GET', '/v1/evals/runs?suite=evals/email-classifier.jsonl')).body.runs.map((r: EvalRunRecord) => r.id)).toEqual(['ev_4']);
    const one = await api.call('GET', '/v1/evals/runs/ev_2', { key: 'reader' });
    expect(one.status).toBe(200);
    expect(one.body.results[3]).toMatchObject({ id: 'case-4', pass: false, scores: [{ detail: 'decision: expected "declined", got "refunded"' }] });
    expect((await api.call('GET', '/v1/evals/runs/ev_nope')).status).toBe(404);
    expect((await api.call('GET', '/v1/evals/runs', { key: null })).status).toBe(401);
    const openapi = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/evals/runs', '/v1/evals/runs/{id}', '/v1/evals/proposals', '/v1/evals/proposals/{id}/accept', '/v1/evals/proposals/{id}/dismiss']));

    const remote = await runCli(['eval', 'history', 'refunds'], { env: { TWELVE_URL: api.url, TWELVE_API_KEY: keys.reader.key } });
    expect(remote.code).toBe(0);
    expect(remote.stdout).toContain('trend evals/refunds.jsonl: rel_aaaaaaaaaaaaaaaa 1.00 → rel_bbbbbbbbbbbbbbbb 0.75');
  }, 30_000);
});
