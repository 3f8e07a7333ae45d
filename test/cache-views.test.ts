/**
 * Prompt-cache tokens wherever a person looks, over real parts (SQLite, the HTTP server on
 * 127.0.0.1, the built CLI, the typed client): scripted models whose calls read and write a
 * cache (generated or streamed, as a provider reports them); `twelve threads show` (each model call, the child's line, the thread's totals, and
 * per step with --messages), the thread JSON and its OpenAPI schema, the client, and the
 * remote CLI. Only the nonzero parts are shown.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createClient } from '../src/client/index.js';
import { defineAgent, scriptedModel } from '../src/index.js';
import { cachedAgents, cachedPricesEnv, cachedUsage, leadTotals } from './support/cached-agents.js';
import { keys, startApi } from './support/api.js';
import { runCli } from './support/cli.js';
import { eventsOfType, makeRuntime } from './support/runtime.js';

/** A `twelve threads show` line without its time offset and seq. */
const lineOf = (stdout: string, label: string) => stdout.split('\n').filter((line) => new RegExp(`^ *\\+[\\d.]+s +\\d+  ${label}\\b`).test(line));

describe('the scripted model', () => {
  it('reports cached and written tokens as a provider does, generated or streamed, and refuses more cached than input tokens', async () => {
    const usage = { inputTokens: 900, outputTokens: 7, cachedInputTokens: 512, cacheWriteTokens: 88 };
    const agents = [false, true].map((stream) => defineAgent({ name: stream ? 'streamed' : 'generated', purpose: 'Answers, for tests', model: 'scripted:s', prompt: { text: 'Say {{input}}' }, stream }));
    const wrong = defineAgent({ name: 'wrong', purpose: 'Answers, for tests', model: 'scripted:wrong', prompt: { text: 'Say {{input}}' }, modelSettings: { maxRetries: 0 } });
    const models = { 'scripted:s': scriptedModel(() => ({ text: 'hi', usage })), 'scripted:wrong': scriptedModel(() => ({ text: 'hi', usage: { inputTokens: 10, outputTokens: 1, cachedInputTokens: 11 } })) };
    const { runtime } = makeRuntime({ agents: [...agents, wrong], models });
    for (const agent of ['generated', 'streamed']) {
      const thread = await runtime.launch({ agent, input: 'hi' });
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
      expect(eventsOfType(await runtime.loadEvents(thread.id), 'model_called')[0]!.data.usage).toEqual(usage);
    }
    const thread = await runtime.launch({ agent: 'wrong', input: 'hi' });
    await runtime.runThread(thread.id);
    const [failed] = eventsOfType(await runtime.loadEvents(thread.id), 'model_failed');
    expect(failed!.data.error.message).toContain('inputTokens (10) counts every input token');
  });
});

describe('cached tokens in the terminal', () => {
  it('shows cached and written tokens per model call, per child, in the thread totals and per step with --messages', async () => {
    const { agents, models } = cachedAgents();
    const { runtime, dbFile } = makeRuntime({ agents, models, env: cachedPricesEnv });
    const thread = await runtime.launch({ agent: 'lead', input: 'go' });
    await runtime.runUntilIdle();
    const done = await runtime.getThreadOrThrow(thread.id);
    expect(done).toMatchObject({ status: 'completed', ...leadTotals, unpricedCalls: 0 });
    const [finished] = eventsOfType(await runtime.loadEvents(thread.id), 'child_finished');
    const childId = finished!.data.childThreadId;
    expect(finished!.data).toMatchObject({ inputTokens: 500, outputTokens: 10, cacheWriteTokens: 400 });
    expect(finished!.data).not.toHaveProperty('cachedInputTokens');
    const env = { TWELVE_DATABASE_URL: `sqlite:${dbFile}` };

    const shown = await runCli(['threads', 'show', thread.id], { env });
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toMatch(/^ {2}usage {4}2 model steps, 3000→330 tokens \(2224 cached, 550 written\), \$0\.\d{5}$/m);
    const calls = lineOf(shown.stdout, 'model');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/scripted:lead {2}1200→300 tok \(1024 cached, 150 written\) {2}\$0\.\d{5} {2}(\d+ ms|[\d.]+ s) {2}→ helper$/);
    // Only the nonzero parts.
    expect(calls[1]).toMatch(/scripted:lead {2}1300→20 tok \(1200 cached\) {2}\$0\.\d{5} {2}(\d+ ms|[\d.]+ s)$/);
    expect(lineOf(shown.stdout, 'child done')).toEqual([expect.stringMatching(new RegExp(`thread ${childId} completed {2}500→10 tok \\(400 written\\) {2}\\$0\\.\\d{5}$`))]);

    const child = await runCli(['threads', 'show', childId], { env });
    expect(child.stdout).toMatch(/^ {2}usage {4}1 model steps, 500→10 tokens \(400 written\), \$/m);
    expect(lineOf(child.stdout, 'model')).toEqual([expect.stringMatching(/scripted:helper {2}500→10 tok \(400 written\) {2}\$/)]);

    const steps = await runCli(['threads', 'show', thread.id, '--messages'], { env });
    expect(steps.stderr).toBe('');
    const responses = steps.stdout.split('\n').filter((line) => line.startsWith('response: '));
    expect(responses).toEqual([
      expect.stringMatching(/ · 1200 in \(1024 cached, 150 written\) \/ 300 out tokens · \$/),
      expect.stringMatching(/ · 1300 in \(1200 cached\) \/ 20 out tokens · \$/),
    ]);
  });
});

describe('cached tokens over HTTP', () => {
  it("gives the thread's cached and written tokens in its JSON, the OpenAPI schema and the typed client; the remote CLI shows them", async () => {
    const { agents, models } = cachedAgents();
    const api = await startApi({ agents, models, env: cachedPricesEnv, hookSecrets: new Map() });
    const thread = await api.runtime.launch({ agent: 'lead', input: 'go' });
    await api.runtime.runUntilIdle();

    const shown = await api.call('GET', `/v1/threads/${thread.id}`, { key: 'reader' });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ status: 'completed', ...leadTotals });
    const listed = await api.call('GET', '/v1/threads?agent=helper', { key: 'reader' });
    expect(listed.body.threads).toEqual([expect.objectContaining({ agent: 'helper', inputTokens: 500, cachedInputTokens: 0, cacheWriteTokens: 400 })]);
    const schema = (await api.call('GET', '/openapi.json', { key: null })).body.components.schemas.Thread;
    expect(schema.required).toEqual(expect.arrayContaining(['cachedInputTokens', 'cacheWriteTokens']));
    expect(schema.properties.cachedInputTokens).toMatchObject({ type: 'integer' });

    const client = createClient({ url: api.url, apiKey: keys.reader.key });
    const detail = await client.getThread(thread.id);
    expectTypeOf(detail.cachedInputTokens).toEqualTypeOf<number>();
    expectTypeOf(detail.cacheWriteTokens).toEqualTypeOf<number>();
    expect({ cached: detail.cachedInputTokens, written: detail.cacheWriteTokens }).toEqual({ cached: 2224, written: 550 });

    const env = { TWELVE_URL: api.url, TWELVE_API_KEY: keys.reader.key };
    const remote = await runCli(['threads', 'show', thread.id], { env });
    expect(remote.stderr).toBe('');
    expect(remote.stdout).toMatch(/^ {2}usage {4}2 model steps, 3000→330 tokens \(2224 cached, 550 written\), \$/m);
    expect(lineOf(remote.stdout, 'model')[0]).toMatch(/1200→300 tok \(1024 cached, 150 written\)/);
    const steps = await runCli(['threads', 'show', thread.id, '--messages'], { env });
    expect(steps.stdout).toMatch(/ · 1300 in \(1200 cached\) \/ 20 out tokens · \$/);

    // /metrics' whole-store totals count each model call once: the parent's row also holds its
    // child's spend (child_finished), and summing thread rows would count the child's call twice.
    const metrics = (await api.call('GET', '/metrics', { key: 'reader' })).text;
    const total = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const calls = Object.values(cachedUsage);
    expect(total('twelve_model_steps')).toBe(3);
    expect(total('twelve_tokens')).toBe(calls.reduce((sum, u) => sum + u.inputTokens + u.outputTokens, 0));
    expect(total('twelve_cached_input_tokens')).toBe(leadTotals.cachedInputTokens);
    expect(total('twelve_cache_write_tokens')).toBe(leadTotals.cacheWriteTokens);
    expect(total('twelve_cost_usd')).toBeCloseTo(detail.costUsd!, 12);
  });
});
