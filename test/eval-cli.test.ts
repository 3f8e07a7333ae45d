/**
 * `twelve eval` as CI runs it: the example suites pass offline from recordings; the gate — in a
 * small project whose model (a scripted OpenAI-compatible server on 127.0.0.1, live) answers by
 * the prompt's text — a prompt edit that flips a decision makes `twelve eval <agent> --baseline
 * lock` exit 1 and name the case, whether the baseline comes from the project store or the
 * committed results file; --json, --model with a successor pin, usage errors; the run stored in a
 * PostgreSQL project store.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open.js';
import { repoRoot, runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;

const agentFile = `import { z } from 'zod';
import { defineAgent } from '${twelve}';
export default defineAgent({
  name: 'triage',
  purpose: 'Decide whether a support message is escalated to a person or answered.',
  model: 'openai:gpt-4o-mini-2024-07-18',
  prompt: new URL('./prompts/triage.md', import.meta.url),
  output: z.object({ decision: z.enum(['escalate', 'answer']) }),
  modelSettings: { temperature: 0 },
});
`;

const cases = [
  { id: 'refund-request', input: 'I was charged twice, I want a refund.', expect: { outputSubset: { decision: 'escalate' }, noHuman: true } },
  { id: 'opening-hours', input: 'What are your opening hours?', expect: { outputSubset: { decision: 'answer' } } },
];

/** A project: an agent, its prompt, a suite; the repository's node_modules. */
function makeProject(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'prompts'));
  mkdirSync(join(dir, 'evals'));
  writeFileSync(join(dir, 'prompts', 'triage.md'), 'Escalate every message that mentions a refund to a person. Answer the rest yourself.\n');
  writeFileSync(join(dir, 'triage.mjs'), agentFile);
  writeFileSync(join(dir, 'twelve.config.mjs'), `import { defineConfig } from '${twelve}';\nimport triage from './triage.mjs';\nexport default defineConfig({ agents: [triage] });\n`);
  writeFileSync(join(dir, 'evals', 'triage.jsonl'), cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** The model: escalates a refund only while the system prompt says to. */
async function triageModel() {
  const server = await startServer();
  server.setFallback((request) => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string; content: string }>;
    const rule = messages[0]?.content.includes('Escalate every message that mentions a refund');
    const refund = /refund/i.test(messages.find((m) => m.role === 'user')?.content ?? '');
    return { text: JSON.stringify({ decision: rule && refund ? 'escalate' : 'answer' }), usage: { prompt_tokens: 50, completion_tokens: 8 } };
  });
  return server;
}

describe('twelve eval', () => {
  it('runs the example suites offline from recordings, and they pass', async () => {
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}` };
    const [classifier, refunds] = await Promise.all([runCli(['eval', 'email-classifier'], { env }), runCli(['eval', 'refunds', '--baseline', 'lock'], { env })]);
    expect(classifier.code, classifier.stdout + classifier.stderr).toBe(0);
    expect(classifier.stdout).toMatch(/^candidate rel_[0-9a-f]{16}: 4\/4 passed, mean score 0\.9929/m);
    expect(classifier.stdout).toContain('note: model mode replay (the agent has recordings and TWELVE_MODEL_MODE is unset)');
    expect(refunds.code, refunds.stdout + refunds.stderr).toBe(0);
    expect(refunds.stdout).toMatch(/^candidate rel_[0-9a-f]{16}: 5\/5 passed/m);
    expect(refunds.stdout).toMatch(/^large-espresso-machine +pass +1\.00/m);
    // Its LLM judge (a pinned model in twelve.config.ts) answers from evals/recordings.
    expect(classifier.stdout).toMatch(/^billing-duplicate-charge +pass +0\.99/m);
    const store = openStore(env.TWELVE_DATABASE_URL);
    try {
      expect((await store.listEvalRuns({ agent: 'refunds' })).map((r) => r.summary.passed)).toEqual([5]);
    } finally {
      await store.close();
    }
  });

  it('is the CI gate: a prompt edit that flips a decision makes --baseline lock exit 1 naming the case, from the store or the committed results', async () => {
    const dir = makeProject();
    const server = await triageModel();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL };
    const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extra } });

    expect((await cli(['build'])).code).toBe(0);
    const saved = await cli(['eval', 'triage', '--save']);
    expect(saved.code, saved.stdout + saved.stderr).toBe(0);
    const lockRelease = JSON.parse(readFileSync(join(dir, 'twelve.lock.json'), 'utf8')).agents.triage.releaseId as string;
    expect(JSON.parse(readFileSync(join(dir, 'evals', 'triage.results.json'), 'utf8')).runs.map((r: { releaseId: string }) => r.releaseId)).toEqual([lockRelease]);

    const unchanged = await cli(['eval', 'triage', '--baseline', 'lock']);
    expect(unchanged.code, unchanged.stdout + unchanged.stderr).toBe(0);
    expect(unchanged.stdout).toContain(`note: the lock's release ${lockRelease} is the candidate, and no saved results of another release exist: no baseline, ran the candidate only`);

    writeFileSync(join(dir, 'prompts', 'triage.md'), 'Answer every message yourself, politely.\n');
    const gated = await cli(['eval', 'triage', '--baseline', 'lock']);
    expect(gated.code, gated.stdout + gated.stderr).toBe(1);
    expect(gated.stdout).toMatch(/^refund-request +pass +FAIL ← regressed +1\.00 → 0\.75/m);
    expect(gated.stdout).toMatch(/^opening-hours +pass +pass +1\.00 → 1\.00/m);
    expect(gated.stdout).toContain(`refund-request: outputSubset: decision: expected "escalate", got "answer"`);
    expect(gated.stdout).toMatch(new RegExp(`^REGRESSION: refund-request passed on ${lockRelease} and fails on rel_[0-9a-f]{16}; mean score down 0\\.1250$`, 'm'));
    expect(gated.stdout).toMatch(/^baseline \(store\) rel_/m);

    // A clean clone: no database, only the committed results file.
    const json = await cli(['eval', 'triage', '--baseline', 'lock', '--json'], { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'clone.db')}` });
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      suite: 'triage',
      agent: 'triage',
      baseline: { releaseId: lockRelease, source: 'results-file', summary: { cases: 2, passed: 2 } },
      candidate: { model: null, modelMode: 'live', summary: { cases: 2, passed: 1, failed: 1, score: 0.875 } },
      threshold: 0,
      scoreDrop: 0.125,
      passed: false,
      regressions: [{ id: 'refund-request', reason: 'outputSubset: decision: expected "escalate", got "answer"' }],
    });
    expect(report.runId).toMatch(/^ev_/);
    expect(report.cases.map((c: { id: string; regressed: boolean; baseline: { pass: boolean }; candidate: { pass: boolean } }) => [c.id, c.regressed, c.baseline.pass, c.candidate.pass])).toEqual([
      ['refund-request', true, true, false],
      ['opening-hours', false, true, true],
    ]);
    expect(report.cases[0].candidate).toMatchObject({ status: 'completed', output: { decision: 'answer' }, tokens: 58, steps: 1 });

    // Locking the edit does not hide it: with the lock's release as the candidate, the newest results of another release are the baseline.
    expect((await cli(['build'])).code).toBe(0);
    const locked = await cli(['eval', 'triage', '--baseline', 'lock']);
    expect(locked.code, locked.stdout + locked.stderr).toBe(1);
    expect(locked.stdout).toMatch(new RegExp(`^note: the lock's release rel_[0-9a-f]{16} is the candidate: comparing with the newest saved results of another release, ${lockRelease}$`, 'm'));
    expect(locked.stdout).toMatch(/^REGRESSION: refund-request passed on/m);

    // Every run is stored in the project store, with its baseline.
    const store = openStore(env.TWELVE_DATABASE_URL);
    try {
      const runs = await store.listEvalRuns({ suite: 'triage' });
      expect(runs.map((r) => [r.summary.passed, r.baselineReleaseId])).toEqual([
        [1, lockRelease],
        [1, lockRelease],
        [2, null],
        [2, null],
      ]);
    } finally {
      await store.close();
    }
  });

  it('tries a successor model pin with --model, refuses a floating one, and says what is wrong with a suite', async () => {
    const dir = makeProject();
    const server = await triageModel();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL };
    const cli = (args: string[]) => runCli(args, { cwd: dir, env });
    expect((await cli(['build'])).code).toBe(0);
    expect((await cli(['eval', 'triage', '--save'])).code).toBe(0);
    const successor = await cli(['eval', 'triage', '--model', 'openai:gpt-4.1-mini-2025-04-14', '--baseline', 'lock', '--json']);
    expect(successor.code, successor.stdout + successor.stderr).toBe(0);
    const report = JSON.parse(successor.stdout);
    expect(report.candidate.model).toBe('openai:gpt-4.1-mini-2025-04-14');
    expect(report.baseline.source).toBe('store');
    expect(server.requests.slice(-2).map((r) => r.model)).toEqual(['gpt-4.1-mini-2025-04-14', 'gpt-4.1-mini-2025-04-14']);

    // A release known only by its stored manifest: the baseline runs from it (tools from fixtures and fakes), or it is the candidate.
    const lockRelease = JSON.parse(readFileSync(join(dir, 'twelve.lock.json'), 'utf8')).agents.triage.releaseId as string;
    const clone = { ...env, TWELVE_DATABASE_URL: `sqlite:${join(dir, 'clone.db')}` };
    expect((await runCli(['run', 'triage', '--input', 'hello'], { cwd: dir, env: clone })).code).toBe(0);
    rmSync(join(dir, 'evals', 'triage.results.json'));
    writeFileSync(join(dir, 'prompts', 'triage.md'), 'Answer every message yourself, politely.\n');
    const fromManifest = await runCli(['eval', 'triage', '--baseline', lockRelease, '--json'], { cwd: dir, env: clone });
    expect(fromManifest.code, fromManifest.stderr).toBe(1);
    const manifestReport = JSON.parse(fromManifest.stdout);
    expect(manifestReport).toMatchObject({ baseline: { releaseId: lockRelease, source: 'run', summary: { passed: 2 } }, regressions: [{ id: 'refund-request' }] });
    expect(manifestReport.notes).toContain(`baseline ${lockRelease}: no saved results, ran it from its stored manifest (tools from fixtures and fakes only)`);
    // A baseline that names nothing is refused (exit 2), never a gate that passes on no comparison.
    const typo = await runCli(['eval', 'triage', '--baseline', 'rel_nope'], { cwd: dir, env: clone });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`--baseline rel_nope: no results of that release in the store or`);
    const storedCandidate = await runCli(['eval', 'triage', '--release', lockRelease, '--json'], { cwd: dir, env: clone });
    expect(storedCandidate.code, storedCandidate.stderr).toBe(0);
    expect(JSON.parse(storedCandidate.stdout)).toMatchObject({ candidate: { releaseId: lockRelease, summary: { passed: 2 } }, baseline: null, failing: [] });

    // A suite written with defineEval in the config, with a custom scorer.
    writeFileSync(
      join(dir, 'twelve.config.mjs'),
      `import { defineConfig, defineEval } from '${twelve}';\nimport triage from './triage.mjs';\n` +
        `const smoke = defineEval({ agent: 'triage', name: 'smoke', cases: [{ id: 'hours', input: 'What are your opening hours?', expect: { outputSubset: { decision: 'answer' } } }], scorers: [function short(run) { return JSON.stringify(run.output).length < 100; }] });\n` +
        `export default defineConfig({ agents: [triage], evals: [smoke] });\n`,
    );
    const smoke = await cli(['eval', 'smoke', '--json']);
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(JSON.parse(smoke.stdout)).toMatchObject({ suite: 'smoke', agent: 'triage', failing: [], cases: [{ id: 'hours', candidate: { pass: true, scores: [{ name: 'status' }, { name: 'schema' }, { name: 'outputSubset' }, { name: 'short', pass: true }] } }] });

    const floating = await cli(['eval', 'triage', '--model', 'openai:gpt-4o']);
    expect(floating.code).toBe(2);
    expect(floating.stderr).toMatch(/--model.*gpt-4o/);
    const saveOther = await cli(['eval', 'triage', '--model', 'openai:gpt-4.1-mini-2025-04-14', '--save']);
    expect(saveOther.code).toBe(2);
    const unknown = await cli(['eval', 'nobody']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no eval suite or agent named "nobody"; agents: triage; suites: smoke (config), evals/triage.jsonl');
    const threshold = await cli(['eval', 'triage', '--threshold', 'lots']);
    expect(threshold.code).toBe(2);
    writeFileSync(join(dir, 'evals', 'triage.jsonl'), `${JSON.stringify(cases[0])}\n{"id":"x","inputs":"typo"}\n`);
    const bad = await cli(['eval', 'triage']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'evals', 'triage.jsonl')}:2: `);
    expect(bad.stderr).toContain('input: input is required');
  });

  it('stores the run in a PostgreSQL project store (the cases still run on an isolated SQLite store)', async () => {
    const database = await freshPostgresDatabase();
    try {
      const result = await runCli(['eval', 'email-classifier', '--json'], { env: { TWELVE_DATABASE_URL: database.url } });
      expect(result.code, result.stderr).toBe(0);
      const store = database.open();
      try {
        const runs = await store.listEvalRuns({ agent: 'email-classifier' });
        expect(runs.map((r) => [r.id, r.summary.passed])).toEqual([[JSON.parse(result.stdout).runId, 4]]);
        expect(await store.listThreads({})).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});
