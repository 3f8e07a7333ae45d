/**
 * The non-LLM fallback and confidence, end to end: the email classifier with every model down
 * (a scripted OpenAI-compatible server answering 503 to every call, the Anthropic fallback
 * model on a port where nothing listens) still classifies through its keyword rules, over the
 * real HTTP API and worker; no provider key at all answers the same way (reason blocked); a
 * budget breach does when the agent says so. A fallback that throws or answers badly leaves
 * what happens without one unchanged, and says so. Confidence is recorded on the completion,
 * in the thread row, the API, /metrics (agreeing with the events), and `twelve threads show`.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import emailClassifier from '../examples/email-classifier/agent.js';
import { classifyByKeywords } from '../examples/email-classifier/fallback.js';
import { createRelease, defineAgent, type Agent } from '../src/index.js';
import { recordingLogger } from './support/recording-logger.js';
import { diffManifests } from '../src/release/diff.js';
import { runFallback } from '../src/runtime/fallback.js';
import { initialState } from '../src/thread/state.js';
import type { ThreadEvent } from '../src/thread/events.js';
import { startApi, waitForStatus } from './support/api.js';
import { runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { eventsOfType, makeRuntime, startServer, testApiKey, typesOf } from './support/runtime.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';

const billingEmail = 'Subject: Charged twice\n\nI was billed $49 twice this month, please refund the duplicate charge.';
const modelAnswer = { label: 'billing', confidence: 0.93, reason: 'The customer reports a duplicate charge.' };

/** A port on 127.0.0.1 where nothing listens (connections are refused at once). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every model of the chain down: OpenAI answers 503 to every call, Anthropic is refused. */
async function modelsDown(): Promise<{ server: ScriptedServer; env: NodeJS.ProcessEnv }> {
  const server = await startServer();
  server.setFallback(() => ({ status: 503, body: { error: { message: 'The server is overloaded', type: 'server_error' } } }));
  const env = {
    OPENAI_BASE_URL: server.baseURL,
    ANTHROPIC_API_KEY: 'sk-ant-test-7c1e9a4f2b6d8035',
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
  };
  return { server, env };
}


/** A classifier-shaped agent on the OpenAI model only, with the given fallback options. */
function labeller(options: Partial<Parameters<typeof defineAgent>[0]> = {}): Agent {
  return defineAgent({
    name: 'labeller',
    purpose: 'Labels a message, for tests',
    model: 'openai:gpt-4o-2024-08-06',
    prompt: { text: 'Label {{input}}' },
    output: z.object({ label: z.enum(['billing', 'other']), confidence: z.number().min(0).max(1) }),
    confidence: 'confidence',
    modelSettings: { maxRetries: 0 },
    ...options,
  } as Parameters<typeof defineAgent>[0]) as Agent;
}

function completion(events: readonly ThreadEvent[]) {
  return eventsOfType(events, 'thread_completed')[0]!.data;
}

describe('the non-LLM fallback', () => {
  it('classifies with every model down, over the HTTP API, and confidence shows in the thread, the API and /metrics', async () => {
    const { server, env } = await modelsDown();
    const api = await startApi({ agents: [emailClassifier], worker: true, env, hookSecrets: new Map() });
    // First a model answers (a high confidence), then every model is down.
    server.enqueue({ text: JSON.stringify(modelAnswer) });
    const first = (await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'email-classifier', input: billingEmail } })).body.thread.id as string;
    await waitForStatus(api, first, ['completed']);
    const second = (await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'email-classifier', input: billingEmail } })).body.thread.id as string;
    const shown = await waitForStatus(api, second, ['completed']);

    // Three attempts at the primary (two retries), then the refused Anthropic fallback, then the keyword rules.
    expect(server.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1 + 3);
    const events = await api.runtime.loadEvents(second);
    expect(typesOf(events)).toEqual(['thread_started', 'model_failed', 'fallback_used', 'thread_completed']);
    const failed = eventsOfType(events, 'model_failed')[0]!.data;
    expect(failed.failures.map((f) => f.model)).toEqual([...Array(3).fill('openai:gpt-4o-mini-2024-07-18'), ...Array(3).fill('anthropic:claude-haiku-4-5-20251001')]);
    const output = { label: 'billing', confidence: 0.4, reason: "keyword rule: matched 'charged'" };
    expect(eventsOfType(events, 'fallback_used')[0]!.data).toEqual({ reason: 'models_failed', detail: expect.stringMatching(/^every model failed \(6 attempts\)/), output });
    expect(completion(events)).toEqual({ output, confidence: 0.4, source: 'fallback' });
    expect(emailClassifier.outputSchema!.safeParse(output).success).toBe(true);

    // The thread row and the API view.
    expect(await api.runtime.getThread(second)).toMatchObject({ status: 'completed', output, confidence: 0.4, error: null });
    expect(shown).toMatchObject({ status: 'completed', output, confidence: 0.4, fallback: { reason: 'models_failed', detail: expect.stringContaining('every model failed') } });
    expect((await api.call('GET', `/v1/threads/${first}`, { key: 'reader' })).body).toMatchObject({ confidence: 0.93, fallback: null });
    const list = (await api.call('GET', '/v1/threads?agent=email-classifier', { key: 'reader' })).body.threads as Array<Record<string, unknown>>;
    expect(list.map((t) => [t.id, t.confidence, (t.fallback as { reason: string } | null)?.reason ?? null])).toEqual([
      [second, 0.4, 'models_failed'],
      [first, 0.93, null],
    ]);
    const openapi = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(openapi.components.schemas.Thread.properties).toHaveProperty('confidence');
    expect(openapi.components.schemas.Thread.properties.fallback.properties.reason.enum).toEqual(['models_failed', 'blocked', 'budget']);

    // /metrics: the histogram agrees with the thread_completed events.
    const completions = [first, second].map(async (id) => completion(await api.runtime.loadEvents(id)).confidence!);
    const confidences = await Promise.all(completions);
    const metrics = (await api.call('GET', '/metrics', { key: 'reader' })).text;
    const sample = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(metrics).toMatch(/^# TYPE twelve_output_confidence histogram$/m);
    expect(sample('twelve_output_confidence_count', 'agent="email-classifier"')).toBe(confidences.length);
    expect(sample('twelve_output_confidence_sum', 'agent="email-classifier"')).toBeCloseTo(confidences.reduce((a, b) => a + b, 0), 9);
    for (const le of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
      expect(sample('twelve_output_confidence_bucket', `agent="email-classifier",le="${le}"`), `le=${le}`).toBe(confidences.filter((c) => c <= le).length);
    }
    expect(sample('twelve_output_confidence_bucket', 'agent="email-classifier",le="\\+Inf"')).toBe(2);
    expect(sample('twelve_fallback_answers_total', 'agent="email-classifier",reason="models_failed"')).toBe(1);
  });

  it('answers when no model can be called (no provider key): reason blocked, nobody notified, no error left on the thread', async () => {
    const logger = recordingLogger();
    const { runtime } = makeRuntime({
      agents: [emailClassifier],
      logger,
      env: { OPENAI_API_KEY: '', TWELVE_NOTIFY_URL: 'http://127.0.0.1:9/hook', TWELVE_NOTIFY_SECRET: 'whsec_test_0123456789abcdef' },
    });
    const thread = await runtime.launch({ agent: 'email-classifier', input: 'I am locked out of my account after a password reset.' });
    const run = await runtime.runThread(thread.id);

    expect(run.outcome).toBe('completed');
    expect(run.thread).toMatchObject({ status: 'completed', error: null, waitingReason: null, confidence: 0.4, output: { label: 'account_access' } });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'blocked', 'fallback_used', 'thread_completed']);
    expect(eventsOfType(events, 'fallback_used')[0]!.data).toMatchObject({ reason: 'blocked', detail: expect.stringContaining('OPENAI_API_KEY is not set') });
    expect(await runtime.store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 3 })).toEqual([]);
    expect(await runtime.listWaiting()).toEqual([]);
    // Said in the log: a warning naming the agent, the thread and why; no "waits for a person".
    const warned = logger.lines.filter((l) => l.level === 'warn' && /non-LLM fallback/.test(l.message));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.fields).toMatchObject({ threadId: thread.id, agent: 'email-classifier', reason: 'blocked' });
    expect(logger.lines.some((l) => /waits for a person/.test(l.message))).toBe(false);
  });

  it('answers a budget breach only when fallbackOn includes "budget"; otherwise the thread waits for a person', async () => {
    const server = await startServer();
    const rules = () => ({ label: 'other' as const, confidence: 0.2 });
    // 10 tokens cannot hold one call: the breach comes before any request.
    const limits = { maxTokens: 10 };
    const budgeted = makeRuntime({ agents: [labeller({ fallback: rules, fallbackOn: ['budget'], limits })], server });
    const answered = await budgeted.runtime.launch({ agent: 'labeller', input: 'hello' });
    expect((await budgeted.runtime.runThread(answered.id)).thread).toMatchObject({ status: 'completed', output: { label: 'other', confidence: 0.2 }, confidence: 0.2 });
    const events = await budgeted.runtime.loadEvents(answered.id);
    expect(typesOf(events)).toEqual(['thread_started', 'budget_exceeded', 'fallback_used', 'thread_completed']);
    expect(eventsOfType(events, 'fallback_used')[0]!.data).toMatchObject({ reason: 'budget', detail: expect.stringContaining('of 10 are used') });

    const waiting = makeRuntime({ agents: [labeller({ fallback: rules, limits })], server });
    const held = await waiting.runtime.launch({ agent: 'labeller', input: 'hello' });
    expect((await waiting.runtime.runThread(held.id)).thread).toMatchObject({ status: 'awaiting_human', waitingReason: expect.stringMatching(/^budget: /) });
    expect(typesOf(await waiting.runtime.loadEvents(held.id))).toEqual(['thread_started', 'budget_exceeded']);
    expect(server.requests).toHaveLength(0);
  });

  it('a fallback that throws changes nothing but says so: model_failed, retries, escalation, each error saying "fallback failed"', async () => {
    const { server, env } = await modelsDown();
    const logger = recordingLogger();
    const agent = labeller({
      fallback: () => {
        throw new Error('rules table missing');
      },
    });
    const { runtime } = makeRuntime({ agents: [agent], server, env, logger });
    const thread = await runtime.launch({ agent: 'labeller', input: 'hello' });
    const run = await runtime.runThread(thread.id);

    expect(run.thread).toMatchObject({ status: 'awaiting_human', waitingReason: expect.stringMatching(/^escalated: /) });
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_failed', 'model_failed', 'model_failed', 'escalated']);
    for (const failed of eventsOfType(events, 'model_failed')) {
      expect(failed.data.error.message).toMatch(/^every model failed \(1 attempts\); last: openai:gpt-4o-2024-08-06: .*; fallback failed: threw: rules table missing$/);
    }
    expect(eventsOfType(events, 'escalated')[0]!.data.reason).toContain('threw: rules table missing');
    const errors = logger.lines.filter((l) => l.level === 'error' && /fallback/.test(l.message));
    expect(errors).toHaveLength(3);
    expect(errors[0]!.fields).toMatchObject({ threadId: thread.id, agent: 'labeller', reason: 'models_failed', error: 'threw: rules table missing' });
  });

  it('a fallback whose output fails the schema changes nothing but says so: the thread stays blocked, its error says why', async () => {
    const agent = labeller({ fallback: () => ({ label: 'refund', confidence: 2 }) });
    const { runtime } = makeRuntime({ agents: [agent], env: { OPENAI_API_KEY: '' } });
    const thread = await runtime.launch({ agent: 'labeller', input: 'hello' });
    const run = await runtime.runThread(thread.id);

    expect(run.thread).toMatchObject({ status: 'awaiting_human', waitingReason: expect.stringMatching(/^blocked: /) });
    expect(run.thread.error!.message).toMatch(/OPENAI_API_KEY is not set.*; fallback failed: returned output that fails the output schema: label: .*; confidence: /);
    expect(typesOf(await runtime.loadEvents(thread.id))).toEqual(['thread_started', 'blocked']);
  });

  it('classifies with every model down on PostgreSQL, confidence in the thread row and the histogram', async () => {
    const { server, env } = await modelsDown();
    const database = await freshPostgresDatabase();
    try {
      const { runtime } = makeRuntime({ agents: [emailClassifier], server, env: { ...env, TWELVE_DATABASE_URL: database.url } });
      const thread = await runtime.launch({ agent: 'email-classifier', input: 'Can I get a quote for 40 seats?' });
      const run = await runtime.runThread(thread.id);
      expect(run.thread).toMatchObject({ status: 'completed', confidence: 0.4, output: { label: 'sales', reason: "keyword rule: matched 'quote'" } });
      expect(typesOf(await runtime.loadEvents(thread.id))).toEqual(['thread_started', 'model_failed', 'fallback_used', 'thread_completed']);
      expect((await runtime.getThread(thread.id))!.confidence).toBe(0.4);
      expect(await runtime.store.confidenceHistogram([0.3, 0.5, 1])).toEqual([{ agent: 'email-classifier', counts: [0, 1, 1], count: 1, sum: 0.4 }]);
      await runtime.close();
    } finally {
      await database.cleanup();
    }
  });

  it('twelve run prints the fallback and the confidence; threads show and threads ls show them too', async () => {
    const { env } = await modelsDown();
    const dir = (await import('./support/temp-dir.js')).tempDir();
    const cliEnv = { ...env, OPENAI_API_KEY: testApiKey, TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off' };
    const run = await runCli(['run', 'email-classifier', '--input', 'Unsubscribe me, I am not a lottery winner'], { env: cliEnv });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/fallback +non-LLM fallback answered \(models failed\): every model failed \(6 attempts\)/);
    const last = run.stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/completed +\{"label":"spam","confidence":0\.4,"reason":"keyword rule: matched 'unsubscribe'"\} +\(confidence 0\.40, answered by the non-LLM fallback\)$/);
    const id = /^(th_\w+)/m.exec(run.stdout)![1]!;
    const show = await runCli(['threads', 'show', id], { env: cliEnv });
    expect(show.stdout).toMatch(/^ {2}confidence 0\.40$/m);
    expect(show.stdout).toMatch(/^ {2}answered by the non-LLM fallback \(models failed\): every model failed/m);
    const ls = await runCli(['threads', 'ls'], { env: cliEnv });
    expect(ls.stdout).toMatch(/^THREAD +AGENT +STATUS +STEPS +TOKENS +COST +CONF +UPDATED$/m);
    expect(ls.stdout).toMatch(new RegExp(`^${id} +email-classifier +completed +0 +0 +\\$0\\.00000 +0\\.40 `, 'm'));
  });
  it('twelve run with no provider key: an agent with a fallback for blocked models runs (a warning says why) instead of refusing', async () => {
    const dir = (await import('./support/temp-dir.js')).tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_MODEL_MODE: 'live', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' };
    const run = await runCli(['run', 'email-classifier', '--input', 'I was charged twice on my invoice'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toContain('agent email-classifier cannot call its models; its non-LLM fallback will answer');
    expect(run.stdout).toMatch(/completed +\{"label":"billing","confidence":0\.4,"reason":"keyword rule: matched 'charged'"\}/);
    // Without a fallback the preflight still refuses, and no thread is created.
    const refunds = await runCli(['run', 'refunds', '--input', 'refund A-1001'], { env });
    expect(refunds.code).toBe(2);
    expect(refunds.stderr).toContain('twelve: agent refunds cannot call its models, so no thread was created:');
  });
});

describe('confidence and fallback options', () => {
  const base = { name: 'checked', purpose: 'Checks options, for tests', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'x' } };
  const output = z.object({ label: z.string(), score: z.number().optional(), note: z.string() });
  const problems = (options: Record<string, unknown>) => {
    try {
      defineAgent({ ...base, ...options } as Parameters<typeof defineAgent>[0]);
      return [];
    } catch (error) {
      return (error as { details: { problems: string[] } }).details.problems;
    }
  };

  it('defineAgent names every problem', () => {
    expect(problems({ output, confidence: 'score', fallback: () => ({}), fallbackOn: ['budget'] })).toEqual([]);
    expect(problems({ confidence: (o: unknown) => (o ? 1 : 0) })).toEqual([]);
    expect(problems({ output, fallback: 'rules', fallbackOn: [], confidence: 'certainty' })).toEqual([
      'fallback must be a function (input, ctx) => output (got string)',
      'fallbackOn must be a non-empty list of "models_failed", "blocked", "budget" (got [])',
      'confidence names the field "certainty", which is not in the output schema (fields: label, score, note)',
    ]);
    expect(problems({ output, fallback: () => 'x', fallbackOn: ['timeout', 'blocked', 'blocked'], confidence: 'note' })).toEqual([
      'fallbackOn has "timeout"; allowed: "models_failed", "blocked", "budget"',
      'fallbackOn lists a reason twice (["timeout","blocked","blocked"])',
      'confidence names the field "note", which is a string in the output schema, not a number',
    ]);
    expect(problems({ confidence: 'confidence', fallbackOn: ['budget'] })).toEqual([
      'fallbackOn is set but there is no fallback function',
      'confidence names the field "confidence", but the agent has no output schema (its output is text): declare one, or give a function',
    ]);
    expect(problems({ confidence: '' })).toEqual(['confidence must be the name of a numeric output field or a function of the output (got "")']);
  });

  it('the release manifest holds the fallback and the confidence spec, and a change to either makes a new release the diff names', () => {
    const rules = () => ({ label: 'other', confidence: 0.1 });
    const plain = createRelease(labeller({ confidence: undefined }));
    const withFallback = createRelease(labeller({ fallback: rules }));
    const onBudget = createRelease(labeller({ fallback: rules, fallbackOn: ['models_failed', 'budget'] }));
    const edited = createRelease(labeller({ fallback: () => ({ label: 'other', confidence: 0.2 }) }));
    expect(plain.manifest).not.toHaveProperty('fallback');
    expect(plain.manifest).not.toHaveProperty('confidence');
    expect(withFallback.manifest).toMatchObject({ fallback: { on: ['models_failed', 'blocked'] }, confidence: { field: 'confidence' }, code: { fallback: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(new Set([plain, withFallback, onBudget, edited].map((r) => r.releaseId)).size).toBe(4);
    expect(diffManifests(plain.manifest, withFallback.manifest).map((c) => c.detail)).toEqual([
      'non-LLM fallback (none) → on models_failed, blocked',
      'confidence (none) → field confidence',
      'fallback code changed',
    ]);
    expect(diffManifests(withFallback.manifest, onBudget.manifest).map((c) => c.detail)).toEqual(['non-LLM fallback on models_failed, blocked → on models_failed, budget']);
    expect(diffManifests(withFallback.manifest, edited.manifest).map((c) => c.detail)).toEqual(['fallback code changed']);
  });

  it('a fallback is bounded in time, and the example rules classify by keyword with a low confidence', async () => {
    const slow = createRelease(labeller({ fallback: () => new Promise(() => undefined) }));
    const state = Object.assign(initialState('th_slow'), { input: 'hello' });
    expect(await runFallback({ release: slow, state, reason: 'models_failed', detail: 'down', timeoutMs: 20 })).toEqual({ ok: false, why: expect.stringMatching(/^threw: timed out after 20 ms/) });
    expect(classifyByKeywords('The app shows an error and then crashes')).toEqual({ label: 'technical_support', confidence: 0.4, reason: "keyword rule: matched 'error'" });
    expect(classifyByKeywords('Could we book a demo?')).toMatchObject({ label: 'sales' });
    expect(classifyByKeywords('Hello there')).toEqual({ label: 'other', confidence: 0.3, reason: 'keyword rule: no rule matched' });
  });
});
