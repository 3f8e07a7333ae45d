/**
 * The eval runner in process: scorers one by one (passing and failing), cases as real threads on
 * an isolated store with tools served from fixtures, fakes and pure code (a side-effect tool with
 * none of them is an error and never runs), the people's script, and the LLM judge recorded on a
 * scripted OpenAI-compatible server, then replayed with the server gone.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { askHuman, defineAgent, defineEval, defineTool, scriptedModel, type CaseRun, type EvalCase, type ThreadEvent } from '../src/index.js';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { runSuite } from '../src/eval/run-suite.js';
import { expectationScores } from '../src/eval/scorers/index.js';
import { compareResults } from '../src/eval/compare.js';
import { readSuiteFile } from '../src/eval/suite-file.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

/** A hand-made run for the scorers: a thread that called lookup then charge and completed. */
function caseRun(expect: EvalCase['expect'], overrides: Partial<CaseRun> = {}): CaseRun {
  const e = (seq: number, type: string, data: unknown) => ({ threadId: 'th_1', seq, at: '2026-12-02T00:00:00Z', releaseId: 'rel_1', type, data }) as ThreadEvent;
  return {
    case: { id: 'c1', input: 'hi', expect },
    threadId: 'th_1',
    status: 'completed',
    output: { label: 'billing', confidence: 0.9, tags: ['a', 'b'] },
    error: null,
    events: [
      e(1, 'thread_started', { agent: 'a', input: 'hi' }),
      e(2, 'tool_requested', { callId: 'k1', tool: 'lookup', args: { orderId: 'A-1', verbose: true } }),
      e(3, 'tool_requested', { callId: 'k2', tool: 'charge', args: { amount: 5 } }),
      e(4, 'approval_requested', { callId: 'k2', policy: 'always', reason: 'money' }),
    ],
    costUsd: 0.002,
    inputTokens: 100,
    outputTokens: 20,
    steps: 2,
    latencyMs: 10,
    ...overrides,
  };
}

const byName = (run: CaseRun, schema?: z.ZodType) => Object.fromEntries(expectationScores(run, schema).map((s) => [s.name, s]));

describe('eval scorers', () => {
  it('checks the status (completed by default) and the output exactly, as a subset, and against the schema', () => {
    const schema = z.object({ label: z.string(), confidence: z.number(), tags: z.array(z.string()) });
    const ok = byName(caseRun({ output: { tags: ['a', 'b'], confidence: 0.9, label: 'billing' }, outputSubset: { label: 'billing', tags: ['a'] } }), schema);
    expect([ok.status!.pass, ok.output!.pass, ok.outputSubset!.pass, ok.schema!.pass]).toEqual([true, true, true, true]);
    const bad = byName(caseRun({ output: { label: 'sales' }, outputSubset: { label: 'sales' } }, { status: 'failed', output: { label: 1 }, error: { code: 'x', message: 'boom' } }), schema);
    expect(bad.status).toMatchObject({ pass: false, score: 0, detail: 'expected completed, got failed (x: boom)' });
    expect(bad.schema).toBeUndefined(); // only a completed output is checked against the schema
    expect(bad.output!.detail).toBe('expected {"label":"sales"}, got {"label":1}');
    expect(bad.outputSubset!.detail).toBe('label: expected "sales", got 1');
    const invalid = byName(caseRun({}, { output: { label: 'x' } }), schema);
    expect(invalid.schema).toMatchObject({ pass: false, detail: 'confidence: Invalid input: expected number, received undefined' });
    expect(byName(caseRun({ status: 'awaiting_approval' }, { status: 'awaiting_approval' })).status!.pass).toBe(true);
  });

  it('checks tools called with matching arguments, never called, and no approval', () => {
    const ok = byName(caseRun({ tools: { called: [{ tool: 'lookup', args: { orderId: 'A-1' } }, { tool: 'charge' }], never: ['refund', { tool: 'charge', args: { amount: 500 } }] } }));
    expect([ok['tools.called']!.pass, ok['tools.never']!.pass]).toEqual([true, true]);
    const bad = byName(caseRun({ tools: { called: [{ tool: 'lookup', args: { orderId: 'B-2' } }, { tool: 'charge' }], never: ['charge'], noApproval: true } }));
    expect(bad['tools.called']).toMatchObject({ pass: false, score: 0.5 });
    expect(bad['tools.called']!.detail).toContain('not called: lookup {"orderId":"B-2"}');
    expect(bad['tools.never']).toMatchObject({ pass: false, detail: 'called: charge' });
    expect(bad['tools.noApproval']).toMatchObject({ pass: false, detail: 'approval asked for charge' });
  });

  it('checks limits, failing closed on an unknown cost, and that no person was needed', () => {
    const limits = { maxCostUsd: 0.01, maxSteps: 2, maxTokens: 120 };
    const ok = byName(caseRun(limits));
    expect([ok.maxCostUsd!.pass, ok.maxSteps!.pass, ok.maxTokens!.pass]).toEqual([true, true, true]);
    const over = byName(caseRun({ maxCostUsd: 0.001, maxSteps: 1, maxTokens: 100, noHuman: true }));
    expect(over.maxCostUsd!.detail).toBe('cost $0.002000 at uncached rates > $0.001');
    expect(over.maxSteps!.detail).toBe('2 model calls > 1');
    expect(over.maxTokens!.detail).toBe('120 tokens > 100');
    expect(over.noHuman).toMatchObject({ pass: false, detail: 'needed an approval' });
    const unknown = byName(caseRun({ maxCostUsd: 100 }, { costUsd: null }));
    expect(unknown.maxCostUsd).toMatchObject({ pass: false, detail: 'cost unknown (a model call had no known price); limit $100' });
  });

  it('makes custom scorers of functions and { name, score }, and a throwing one fails its check', async () => {
    const suite = defineEval({
      agent: 'a',
      cases: [{ id: 'c1', input: 'x' }],
      scorers: [function confident(run) { return (run.output as { confidence: number }).confidence; }, { name: 'short', score: () => false }, function broken() { throw new Error('oops'); }],
    });
    const { scoreCase } = await import('../src/eval/scorers/index.js');
    const scores = await scoreCase(caseRun(undefined), { outputSchema: undefined, custom: suite.scorers });
    expect(scores.map((s) => [s.name, s.pass, s.score])).toEqual([['status', true, 1], ['confident', true, 0.9], ['short', false, 0], ['broken', false, 0]]);
    expect(scores[3]!.detail).toBe('the scorer threw: oops');
    expect(() => defineEval({ agent: 'a', cases: [{ id: 'x', input: 1 }, { id: 'x', input: 2 }] })).toThrow('case id "x" is used twice');
    expect(() => defineEval({ agent: 'a', cases: 'cases.json' })).toThrow('cases must be a list or a .jsonl file');
  });

  it('compares baseline and candidate: a case that passed and now fails, or a mean drop beyond the threshold', () => {
    const r = (id: string, pass: boolean, score: number) => ({ id, pass, score, scores: [], status: 'completed' as const, output: null, costUsd: 0, tokens: 0, steps: 0, latencyMs: 0 });
    const base = [r('a', true, 1), r('b', false, 0.5), r('c', true, 1)];
    expect(compareResults(base, [r('a', false, 0.5), r('b', false, 0.5), r('c', true, 1)], 0)).toMatchObject({ failed: true, regressions: [{ id: 'a' }] });
    expect(compareResults(base, [r('a', true, 0.9), r('b', false, 0.5), r('c', true, 1)], 0.05)).toMatchObject({ failed: false, scoreDrop: 0.0333 });
    expect(compareResults(base, [r('a', true, 0.7), r('b', false, 0.5), r('c', true, 1)], 0.05)).toMatchObject({ failed: true, regressions: [] });
    expect(compareResults(undefined, [r('a', true, 1), r('b', false, 0)], 0)).toMatchObject({ failed: true, regressions: [{ id: 'b' }] });
  });
});

/** Tools and an agent whose scripted model calls the tools named in its input, in order, then says what they returned. */
function clerk() {
  const runs = { lookup: 0, quote: 0, charge: 0, ship: 0 };
  const lookup = defineTool({ name: 'lookup', description: 'Find an order', effect: 'pure', input: z.object({ orderId: z.string() }), run: ({ orderId }) => (runs.lookup++, { orderId, real: true }) });
  const quote = defineTool({ name: 'quote', description: 'Price an item', input: z.object({ item: z.string() }), fake: () => ({ price: 1, fake: true }), run: () => (runs.quote++, { price: 99 }) });
  const charge = defineTool({ name: 'charge', description: 'Charge a card', input: z.object({ amount: z.number() }), run: () => (runs.charge++, { charged: true }) });
  const ship = defineTool({ name: 'ship', description: 'Ship an order', approval: 'always', input: z.object({ orderId: z.string() }), run: () => (runs.ship++, { shipped: true }) });
  const args: Record<string, unknown> = { lookup: { orderId: 'A-1' }, quote: { item: 'mug' }, charge: { amount: 5 }, ship: { orderId: 'A-1' }, ask_human: { question: 'Which size?' } };
  const model = scriptedModel((request: LanguageModelV3CallOptions) => {
    const user = request.prompt.find((m) => m.role === 'user');
    const wanted = (user && Array.isArray(user.content) && user.content[0]?.type === 'text' ? user.content[0].text : '').split(' ').filter(Boolean);
    const results = request.prompt.filter((m) => m.role === 'tool').flatMap((m) => (m.content as Array<{ type: string; output?: { value?: unknown } }>).map((p) => JSON.stringify(p.output?.value ?? p.output)));
    const next = wanted[results.length];
    if (next) return { toolCalls: [{ tool: next, args: args[next] }] };
    return { text: JSON.stringify({ said: results }) };
  });
  const agent = defineAgent({
    name: 'clerk',
    purpose: 'Call the tools it is told to, then say what they returned.',
    model: 'scripted:clerk',
    prompt: { text: 'Call the tools named in the input.' },
    tools: [lookup, quote, charge, ship, askHuman()],
    output: z.object({ said: z.array(z.string()) }),
    limits: { maxSteps: 8 },
  });
  return { agent, model, runs };
}

describe('the eval runner', () => {
  it('scores maxCostUsd at the uncached rates, so a warm or cold prompt cache cannot pass or fail a case', async () => {
    // Each call: 10,000 input tokens of which 9,000 read from the cache, 100 output; $3 / $0.30 / $15 per million.
    const usage = { inputTokens: 10_000, outputTokens: 100, cachedInputTokens: 9_000 };
    const model = scriptedModel(() => ({ text: 'done', usage }));
    const agent = defineAgent({ name: 'cachey', purpose: 'Answers from a warm cache, for tests', model: 'scripted:cachey', prompt: { text: 'Answer.' } });
    const env = { ...process.env, TWELVE_MODEL_PRICES: JSON.stringify({ 'scripted:cachey': { input: 3, output: 15, cachedInput: 0.3 } }) };
    const billed = (1_000 * 3 + 9_000 * 0.3 + 100 * 15) / 1e6; // $0.0072
    const list = (10_000 * 3 + 100 * 15) / 1e6; // $0.0315
    const cases: EvalCase[] = [
      { id: 'under-list', input: 'x', expect: { maxCostUsd: 0.04 } },
      { id: 'under-billed-only', input: 'x', expect: { maxCostUsd: 0.01 } },
    ];
    const { results } = await runSuite({ agent, cases, models: { 'scripted:cachey': model }, modelMode: 'live', env });
    expect(results.map((r) => r.costUsd)).toEqual([expect.closeTo(billed, 12), expect.closeTo(billed, 12)]);
    expect(results.map((r) => r.pass)).toEqual([true, false]);
    const failed = results[1]!.scores.find((s) => s.name === 'maxCostUsd')!;
    expect(failed.detail).toBe(`cost $${list.toFixed(6)} at uncached rates > $0.01 (billed $${billed.toFixed(6)} with the prompt cache)`);
  });

  it('serves tools from fixtures (an error fixture fails the call), then fakes, then pure code; a side-effect tool without any is an error and never runs', async () => {
    const { agent, model, runs } = clerk();
    const cases: EvalCase[] = [
      {
        id: 'fixtures',
        input: 'lookup charge',
        fixtures: { tools: [{ tool: 'lookup', args: { orderId: 'A-1' }, result: { fromFixture: true } }, { tool: 'charge', error: 'card declined' }] },
        expect: { tools: { called: [{ tool: 'charge', args: { amount: 5 } }] } },
      },
      { id: 'pure-and-fake', input: 'lookup quote', expect: { outputSubset: { said: ['{"orderId":"A-1","real":true}', '{"price":1,"fake":true}'] } } },
      { id: 'unbound', input: 'lookup charge' },
      { id: 'fixture-args-differ', input: 'charge', fixtures: { tools: [{ tool: 'charge', args: { amount: 6 }, result: { charged: 'fixture' } }] } },
    ];
    const { results, summary } = await runSuite({ agent, cases, models: { 'scripted:clerk': model }, modelMode: 'live' });
    const [fixtures, pureAndFake, unbound, argsDiffer] = results;
    expect(fixtures).toMatchObject({ pass: true, status: 'completed' });
    expect((fixtures!.output as { said: string[] }).said[0]).toBe('{"fromFixture":true}');
    expect(JSON.stringify(fixtures!.output)).toContain('card declined');
    expect(pureAndFake).toMatchObject({ pass: true, status: 'completed' });
    expect(unbound).toMatchObject({ pass: false, status: 'error', score: 0 });
    expect(unbound!.error).toMatch(/^no fixture for charge in case unbound and the tool is not pure \(effect external\) and has no fake: an eval never runs it for real/);
    expect(argsDiffer).toMatchObject({ status: 'error' });
    expect(runs).toEqual({ lookup: 2, quote: 0, charge: 0, ship: 0 });
    expect(summary).toMatchObject({ cases: 4, passed: 2, failed: 2, costUsd: null });
  });

  it('acts for people by the case script: approvals (per tool), answers; a wait without a script stops the case there', async () => {
    const { agent, model, runs } = clerk();
    const shipFixture = { tools: [{ tool: 'ship', result: { shipped: 'fixture' } }] };
    const cases: EvalCase[] = [
      { id: 'approved', input: 'ship', fixtures: shipFixture, humans: { approvals: { ship: 'approve' } }, expect: { outputSubset: { said: ['{"shipped":"fixture"}'] } } },
      { id: 'rejected', input: 'ship', fixtures: shipFixture, humans: { approvals: 'reject' }, expect: { tools: { noApproval: true } } },
      { id: 'unscripted', input: 'ship', fixtures: shipFixture, expect: { status: 'awaiting_approval' } },
      { id: 'answered', input: 'ask_human', humans: { answers: ['large'] }, expect: { outputSubset: { said: ['{"answer":"large","answeredBy":"eval"}'] }, noHuman: true } },
      { id: 'unanswered', input: 'ask_human' },
    ];
    const { results } = await runSuite({ agent, cases, models: { 'scripted:clerk': model }, modelMode: 'live' });
    const by = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(by.approved).toMatchObject({ pass: true, status: 'completed' });
    expect(by.rejected).toMatchObject({ pass: false, status: 'completed' });
    expect(JSON.stringify(by.rejected!.output)).toContain('rejected');
    expect(by.rejected!.scores.find((s) => s.name === 'tools.noApproval')).toMatchObject({ pass: false, detail: 'approval asked for ship' });
    expect(by.unscripted).toMatchObject({ pass: true, status: 'awaiting_approval' });
    expect(by.answered!.status, JSON.stringify(by.answered)).toBe('completed');
    expect(by.answered!.scores.find((s) => s.name === 'outputSubset')!.pass).toBe(true);
    expect(by.answered!.scores.find((s) => s.name === 'noHuman')).toMatchObject({ pass: false, detail: 'needed a question to a person' });
    expect(by.unanswered).toMatchObject({ pass: false, status: 'awaiting_human' });
    expect(runs.ship).toBe(0);
  });

  it('plays the reviewer of an agent whose answers need review: approves by default (as a reviewer role), rejects when the script says', async () => {
    const model = scriptedModel(() => ({ text: JSON.stringify({ said: ['done'] }) }));
    const agent = defineAgent({
      name: 'reviewed',
      purpose: 'Answer, then wait for a quality reviewer.',
      model: 'scripted:reviewed',
      prompt: { text: 'Say done.' },
      output: z.object({ said: z.array(z.string()) }),
      review: 'always',
      reviewers: ['quality'],
    });
    const cases: EvalCase[] = [
      { id: 'approved', input: 'go', expect: { outputSubset: { said: ['done'] } } },
      { id: 'rejected', input: 'go', humans: { review: 'reject' }, expect: { status: 'failed' } },
      { id: 'no-person', input: 'go', expect: { noHuman: true } },
    ];
    const { results } = await runSuite({ agent, cases, models: { 'scripted:reviewed': model }, modelMode: 'live' });
    const by = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(by.approved, JSON.stringify(by.approved)).toMatchObject({ pass: true, status: 'completed', output: { said: ['done'] } });
    expect(by.rejected, JSON.stringify(by.rejected)).toMatchObject({ pass: true, status: 'failed' });
    expect(by['no-person']!.scores.find((s) => s.name === 'noHuman')).toMatchObject({ pass: false, detail: 'needed an output review' });
  });

  it('grades with the LLM judge on a pinned model: recorded once, then replayed offline with the same verdicts', async () => {
    const dir = tempDir();
    const server = await startServer();
    let judgeCalls = 0;
    server.setFallback((request) => {
      const messages = (request.body?.messages ?? []) as Array<{ role: string; content: string }>;
      if (!messages[0]?.content.includes('You grade the answer')) return { status: 400 };
      judgeCalls++;
      const user = messages.find((m) => m.role === 'user')!.content;
      const good = user.includes('\\"large\\"');
      return { text: JSON.stringify({ score: good ? 0.9 : 0.2, pass: good, reason: good ? 'It names the size.' : 'It does not name a size.' }) };
    });
    const { agent: clerkAgent, model } = clerk();
    const agent = { ...clerkAgent, recordingsDir: join(dir, 'agent-recordings') };
    const suite = defineEval({ agent: 'clerk', cases: [], judge: { model: 'openai:gpt-4o-mini-2024-07-18' } });
    const cases: EvalCase[] = [
      { id: 'names-size', input: 'ask_human', humans: { answers: ['large'] }, expect: { judge: 'The answer names the size the customer chose.' } },
      { id: 'no-size', input: 'lookup', expect: { judge: 'The answer names the size the customer chose.' } },
    ];
    const env = { OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_LOG: 'off' };
    const run = (modelMode: 'record' | 'replay') =>
      runSuite({ agent, cases, judge: suite.judge!, judgeRecordingsDir: join(dir, 'evals', 'recordings'), models: { 'scripted:clerk': model }, modelMode, env });
    const recorded = await run('record');
    expect(judgeCalls).toBe(2);
    const verdicts = (r: typeof recorded) => r.results.map((c) => [c.id, c.pass, c.scores.find((s) => s.name === 'judge')]);
    expect(verdicts(recorded)).toEqual([
      ['names-size', true, { name: 'judge', pass: true, score: 0.9, detail: 'It names the size.' }],
      ['no-size', false, { name: 'judge', pass: false, score: 0.2, detail: 'It does not name a size.' }],
    ]);
    expect(readdirSync(join(dir, 'evals', 'recordings')).length).toBe(2);
    await server.close();
    const replayed = await run('replay');
    expect(verdicts(replayed)).toEqual(verdicts(recorded));
    expect(judgeCalls).toBe(2);
    // Without a judge model the criteria cannot be graded: the check fails and says why.
    const unjudged = await runSuite({ agent, cases: cases.slice(1), models: { 'scripted:clerk': model }, modelMode: 'replay', env });
    expect(unjudged.results[0]!.scores.find((s) => s.name === 'judge')).toMatchObject({ pass: false, detail: expect.stringContaining('the suite names no judge model') });
    expect(existsSync(join(dir, 'agent-recordings'))).toBe(true);
  });

  it('refuses a bad suite line with the file and line number', () => {
    const dir = tempDir();
    const file = join(dir, 'clerk.jsonl');
    writeFileSync(file, '{"id":"a","input":"x"}\n\n{"id":"b","input":"y","expect":{"maxSteps":-1}}\n');
    expect(() => readSuiteFile(file)).toThrow(`${file}:3: expect.maxSteps: Too small: expected number to be >0`);
  });
});

describe('eval suites and results files', () => {
  it('finds a suite by config name, by agent (evals/<agent>.jsonl) or by path, and lists what there is when it cannot', async () => {
    const { resolveSuite } = await import('../src/eval/discover.js');
    const dir = tempDir();
    const { agent } = clerk();
    mkdirSync(join(dir, 'evals'));
    writeFileSync(join(dir, 'evals', 'clerk.jsonl'), '{"id":"a","input":"lookup"}\n');
    const smoke = defineEval({ agent: 'clerk', name: 'smoke', cases: [{ id: 's', input: 'quote' }] });
    const options = { projectDir: dir, agents: [agent], suites: [smoke], env: {} };
    expect(resolveSuite({ ...options, target: 'smoke' })).toMatchObject({ suite: { name: 'smoke', agent: 'clerk' }, cases: [{ id: 's' }], resultsPath: join(dir, 'evals', 'smoke.results.json') });
    expect(resolveSuite({ ...options, target: 'clerk' })).toMatchObject({ suite: { name: 'clerk' }, cases: [{ id: 'a' }], resultsPath: join(dir, 'evals', 'clerk.results.json') });
    expect(resolveSuite({ ...options, target: join(dir, 'evals', 'clerk.jsonl'), env: { TWELVE_EVAL_JUDGE_MODEL: 'openai:gpt-4o-mini-2024-07-18' } }).suite.judge).toEqual({ model: 'openai:gpt-4o-mini-2024-07-18' });
    expect(() => resolveSuite({ ...options, target: 'other.jsonl' })).toThrow('other.jsonl: a suite file is named after its agent, and there is no agent "other" in this project; agents: clerk; suites: smoke (config), evals/clerk.jsonl');
    expect(() => resolveSuite({ ...options, agents: [{ ...agent, name: 'desk' }], target: 'desk' })).toThrow(`agent desk has no eval suite: write cases to ${join(dir, 'evals', 'desk.jsonl')}`);
  });

  it('keeps the latest run per release in the results file, the 20 newest releases first', async () => {
    const { saveResults, readResultsFile } = await import('../src/eval/results-file.js');
    const file = join(tempDir(), 'clerk.results.json');
    const summary = { cases: 1, passed: 1, failed: 0, score: 1, costUsd: 0, tokens: 1, steps: 1, durationMs: 1 };
    const run = (releaseId: string, n: number) => ({ id: `ev_${n}`, suite: 'clerk', agent: 'clerk', releaseId, model: null, baselineReleaseId: null, createdAt: new Date(n * 1000).toISOString(), summary, results: [] });
    for (let n = 0; n < 22; n++) saveResults(file, run(`rel_${n}`, n));
    saveResults(file, run('rel_21', 99));
    const saved = readResultsFile(file)!;
    expect(saved.runs.map((r) => r.releaseId)).toEqual(['rel_21', ...Array.from({ length: 19 }, (_, i) => `rel_${20 - i}`)]);
    expect(saved.runs[0]!.id).toBe('ev_99');
  });
});
