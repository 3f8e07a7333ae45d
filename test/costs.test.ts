/**
 * Cost and usage reports over real parts: a priced OpenAI model id on the scripted server,
 * real SQLite, the real HTTP server and the built CLI. Tenants come from a launch metadata
 * key; a tenant's daily cap refuses the next call before it is sent while another tenant goes
 * on; the report, /metrics and `twelve costs` agree with totals computed from the events.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig, scriptedModel, TwelveError, type Runtime } from '../src/index.js';
import { parseCostQuery } from '../src/costs/query.js';
import { defaultPrices } from '../src/model/prices.js';
import { apiAgents, startApi, waitForStatus } from './support/api.js';
import { supportAgent } from './support/agents.js';
import { runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { eventsOfType, makeRuntime, startServer } from './support/runtime.js';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/types.js';
import type { CostDimension, CostRow } from '../src/costs/types.js';
import { runPrune } from '../src/retention/prune.js';
import { event } from '../src/thread/events.js';
import { tempDir } from './support/temp-dir.js';

const model = 'openai:gpt-4o-2024-08-06';
const price = defaultPrices[model]!;
const costOf = (input: number, output: number) => (input * price.input + output * price.output) / 1_000_000;
const tenantEnv = { TWELVE_TENANT_KEY: 'customer', TWELVE_TENANT_CAPS: 'acme=0.005', TWELVE_TENANT_DAILY_COST_USD: '1' };

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (TwelveError.is(error, 'config_invalid')) return error.message;
    throw error;
  }
  throw new Error('no config error');
}

/** Spend, tokens and calls per agent and tenant, summed from the model_called events of every thread. */
async function totalsFromEvents(runtime: Runtime) {
  const totals = new Map<string, { costUsd: number; inputTokens: number; outputTokens: number; cachedInputTokens: number; cacheWriteTokens: number; calls: number; unpricedCalls: number }>();
  for (const thread of await runtime.store.listThreads({ limit: 1000 })) {
    for (const e of eventsOfType(await runtime.store.loadEvents(thread.id), 'model_called')) {
      for (const key of [`agent:${thread.agent}`, `tenant:${thread.tenant ?? ''}`, `model:${e.data.model}`, 'all']) {
        const t = totals.get(key) ?? { costUsd: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, calls: 0, unpricedCalls: 0 };
        t.costUsd += e.data.costUsd ?? 0;
        t.inputTokens += e.data.usage.inputTokens;
        t.outputTokens += e.data.usage.outputTokens;
        t.cachedInputTokens += e.data.usage.cachedInputTokens ?? 0;
        t.cacheWriteTokens += e.data.usage.cacheWriteTokens ?? 0;
        t.calls += 1;
        t.unpricedCalls += e.data.costUsd === null ? 1 : 0;
        totals.set(key, t);
      }
    }
  }
  return totals;
}

describe('tenant configuration', () => {
  it('reads the key, the default cap and per-tenant caps, and names every bad value', () => {
    expect(loadConfig(tenantEnv).tenants).toEqual({ key: 'customer', dailyCostUsd: 1, caps: new Map([['acme', 0.005]]) });
    expect(loadConfig({}).tenants.key).toBeUndefined();
    const message = configError({ TWELVE_TENANT_CAPS: 'acme=5;globex;initech=-1', TWELVE_TENANT_DAILY_COST_USD: 'lots' });
    expect(message).toContain('TWELVE_TENANT_DAILY_COST_USD: must be a positive number of US dollars (got "lots")');
    expect(message).toContain('TWELVE_TENANT_CAPS: "globex" is not tenant=USD');
    expect(message).toContain('TWELVE_TENANT_CAPS: "initech=-1" is not tenant=USD');
    expect(message).toContain('need TWELVE_TENANT_KEY');
    expect(configError({ TWELVE_TENANT_KEY: 'cust omer' })).toContain('TWELVE_TENANT_KEY: must be a launch metadata key');
  });

  it('parses report questions: one or two dimensions, ages and ISO times, with errors naming the flag', () => {
    const now = Date.parse('2026-03-10T12:00:00Z');
    expect(parseCostQuery({ by: 'day,agent', since: '7d', until: '2026-03-10' }, { now })).toEqual({
      by: ['day', 'agent'],
      since: '2026-03-03T12:00:00.000Z',
      until: '2026-03-10T00:00:00.000Z',
    });
    expect(parseCostQuery({ since: '24h', tenant: 'acme' }, { now })).toEqual({ by: ['agent'], since: '2026-03-09T12:00:00.000Z', tenant: 'acme' });
    expect(() => parseCostQuery({ by: 'customer' })).toThrow('--by must be one or two of agent, model, day, tenant (e.g. day,agent), got "customer"');
    expect(() => parseCostQuery({ by: 'day,day' })).toThrow(/--by must be/);
    expect(() => parseCostQuery({ since: 'last week' }, { prefix: '' })).toThrow('since must be an age like 30min, 24h, 7d or 2w, or an ISO date or time');
    expect(() => parseCostQuery({ since: '1d', until: '2d' }, { now })).toThrow(/--since .* must be before --until/);
    // A date off the calendar is refused, not rolled into the next month; a bare m is ambiguous; a sign is named.
    expect(() => parseCostQuery({ since: '2026-02-30' }, { now })).toThrow('--since: 2026-02-30 is not a date on the calendar');
    expect(() => parseCostQuery({ since: '2026-02-30' }, { prefix: '', now })).toThrow('since: 2026-02-30 is not a date on the calendar');
    expect(() => parseCostQuery({ since: '6m' }, { now })).toThrow(/ambiguous \(minutes or months\?\): write 6min/);
    expect(parseCostQuery({ since: '90min' }, { now }).since).toBe('2026-03-10T10:30:00.000Z');
    expect(() => parseCostQuery({ since: '-5d' }, { now })).toThrow('--since takes an age back from now without a sign (e.g. 5d)');
    expect(parseCostQuery({ since: '2024-02-29' }, { now }).since).toBe('2024-02-29T00:00:00.000Z');
  });
});

describe.each(['sqlite', 'postgres'] as const)('tenants and their daily caps (%s)', (kind) => {
  /** The store's URL for this run: the test runtime's SQLite file, or a fresh PostgreSQL database. */
  async function databaseEnv(): Promise<NodeJS.ProcessEnv> {
    if (kind === 'sqlite') return {};
    const database = await freshPostgresDatabase();
    onTestFinished(() => database.cleanup());
    return { TWELVE_DATABASE_URL: database.url };
  }

  it('attributes spend through the launch metadata; a tenant over its cap is refused before the call while another goes on', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: { maxOutputTokens: 100, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server, env: { ...tenantEnv, ...(await databaseEnv()) } });
    const today = new Date().toISOString().slice(0, 10);

    // acme: one call whose worst case fits its $0.005 cap, but which really costs $0.006.
    server.enqueue({ text: 'Delivered.', usage: { prompt_tokens: 2_000, completion_tokens: 100 } });
    const first = await runtime.launch({ agent: 'support', input: 'Where is A-1001?', metadata: { customer: 'acme' } });
    expect(first.tenant).toBe('acme');
    expect((await runtime.runThread(first.id)).outcome).toBe('completed');
    expect(await runtime.store.tenantSpend('acme', today)).toBeCloseTo(costOf(2_000, 100), 12);

    // acme's next thread stops before sending anything.
    const second = await runtime.launch({ agent: 'support', input: 'Where is B-2002?', metadata: { customer: 'acme' } });
    const { outcome, thread: waiting } = await runtime.runThread(second.id);
    expect(outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(1);
    const breach = eventsOfType(await runtime.loadEvents(second.id), 'budget_exceeded')[0]!.data;
    expect(breach).toMatchObject({ limit: 'tenant_daily_cost', max: 0.005 });
    expect(breach.used).toBeCloseTo(costOf(2_000, 100), 12);
    expect(waiting.waitingReason).toMatch(/^budget: tenant acme has spent \$0\.0060 of its \$0\.005 daily cap; the next call could cost up to \$0\.00\d+$/);

    // globex (the default $1 cap) and a thread with no tenant go on.
    server.enqueue({ text: 'On its way.', usage: { prompt_tokens: 2_000, completion_tokens: 100 } }, { text: 'Shipped.', usage: { prompt_tokens: 100, completion_tokens: 10 } });
    const globex = await runtime.launch({ agent: 'support', input: 'Where is A-1001?', metadata: { customer: 'globex' } });
    expect((await runtime.runThread(globex.id)).outcome).toBe('completed');
    const untenanted = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect(untenanted.tenant).toBeNull();
    expect((await runtime.runThread(untenanted.id)).outcome).toBe('completed');
    expect(server.requests).toHaveLength(3);
    expect(await runtime.store.tenantSpend('globex', today)).toBeCloseTo(costOf(2_000, 100), 12);
    expect(await runtime.store.dailySpend('support', today)).toBeCloseTo(2 * costOf(2_000, 100) + costOf(100, 10), 12);

    const byTenant = await runtime.store.costReport({ by: ['tenant'] });
    expect(byTenant.map((r) => [r.tenant, r.calls, Math.round(r.costUsd * 1e6)])).toEqual(
      expect.arrayContaining([
        ['acme', 1, Math.round(costOf(2_000, 100) * 1e6)],
        ['globex', 1, Math.round(costOf(2_000, 100) * 1e6)],
        [null, 1, Math.round(costOf(100, 10) * 1e6)],
      ]),
    );

    // A fork is its origin's tenant's; the call it copies is not counted twice.
    const startedAt = (await runtime.loadEvents(first.id)).findIndex((e) => e.type === 'model_called') + 1;
    const fork = await runtime.fork(first.id, { atSeq: startedAt, by: 'alice' });
    expect(fork.tenant).toBe('acme');
    expect((await runtime.store.costReport({ by: ['tenant'], tenant: 'acme' })).map((r) => r.calls)).toEqual([1]);

    // A tenant value that is not a name is refused at launch, naming the key.
    await expect(runtime.launch({ agent: 'support', input: 'x', metadata: { customer: { id: 7 } } })).rejects.toThrow(/metadata\.customer names the thread's tenant \(TWELVE_TENANT_KEY\)/);
    const numbered = await runtime.launch({ agent: 'support', input: 'x', metadata: { customer: 42 } });
    expect(numbered.tenant).toBe('42');
  });

  it('fails closed: a tenant cap with an unpriced model in the chain refuses the call, never counting it as $0', async () => {
    const server = await startServer();
    const local = 'openai-compatible:llama3.1-8b';
    const { agent } = supportAgent({ model: local, modelSettings: { maxOutputTokens: 100, maxRetries: 0 } });
    const { runtime } = makeRuntime({ agents: [agent], server, env: { ...tenantEnv, ...(await databaseEnv()) } });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?', metadata: { customer: 'globex' } });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(server.requests).toHaveLength(0);
    const breach = eventsOfType(await runtime.loadEvents(thread.id), 'budget_exceeded')[0]!.data;
    expect(breach).toMatchObject({ limit: 'tenant_daily_cost', max: 1, unpricedModels: [local] });
    expect(breach.message).toMatch(/^price unknown: openai-compatible:llama3\.1-8b has no known price, so the next call could not be checked against tenant globex's daily cap \(\$1\)/);

    // Without a cap for the thread (no tenant), the same model runs and its call is flagged as unpriced.
    server.enqueue({ text: 'Delivered.', usage: { prompt_tokens: 30, completion_tokens: 5 } });
    const free = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(free.id)).outcome).toBe('completed');
    expect(await runtime.store.costReport({ by: ['model'] })).toEqual([{ model: local, costUsd: 0, inputTokens: 30, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: 0, calls: 1, unpricedCalls: 1 }]);
  });
});

describe('reports agree with the events', () => {
  it('launches over the API with tenant metadata; GET /v1/costs, /metrics and twelve costs give the totals the events give', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: { maxOutputTokens: 100, maxRetries: 0 } });
    const fixtures = apiAgents();
    const api = await startApi({
      agents: [agent, ...fixtures.agents.filter((a) => a.name === 'echo')],
      // The echo agent's calls read and write a prompt cache, so the cached figures below are not all 0.
      models: { ...fixtures.models, 'scripted:echo': scriptedModel(() => ({ text: 'echo', usage: { inputTokens: 1200, outputTokens: 30, cachedInputTokens: 1024, cacheWriteTokens: 150 } })) },
      worker: true,
      hookSecrets: new Map(),
      // No caps here: the echo agent's scripted model has no price, and a capped tenant would refuse it.
      env: { TWELVE_TENANT_KEY: 'customer', OPENAI_BASE_URL: server.baseURL },
    });
    server.setFallback(() => ({ text: 'Delivered.', usage: { prompt_tokens: 300, completion_tokens: 20 } }));
    const launched: string[] = [];
    for (const [agentName, customer] of [['support', 'acme'], ['support', 'acme'], ['support', 'globex'], ['echo', 'acme'], ['support', undefined]] as const) {
      const response = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: agentName, input: 'Where is A-1001?', ...(customer ? { metadata: { customer } } : {}) } });
      expect(response.status).toBe(201);
      expect(response.body.thread.tenant).toBe(customer ?? null);
      launched.push(response.body.thread.id);
    }
    for (const id of launched) await waitForStatus(api, id, ['completed']);
    expect((await api.runtime.getThread(launched[0]!))!.tenant).toBe('acme');
    const events = await totalsFromEvents(api.runtime);
    const all = events.get('all')!;
    expect(all).toMatchObject({ calls: 5, unpricedCalls: 1, cachedInputTokens: 1024, cacheWriteTokens: 150 });

    // GET /v1/costs (reader role) by tenant, by agent, by day and agent; bad input is a 400 naming it.
    const byTenant = await api.call('GET', '/v1/costs?by=tenant&since=7d', { key: 'reader' });
    expect(byTenant.status).toBe(200);
    expect(byTenant.body.by).toEqual(['tenant']);
    const acme = byTenant.body.rows.find((r: any) => r.tenant === 'acme');
    expect(acme).toMatchObject({ calls: 3, unpricedCalls: 1, inputTokens: events.get('tenant:acme')!.inputTokens });
    expect(acme.costUsd).toBeCloseTo(events.get('tenant:acme')!.costUsd, 12);
    expect(byTenant.body.rows.find((r: any) => r.tenant === null)).toMatchObject({ calls: 1 });
    expect(acme).toMatchObject({ cachedInputTokens: events.get('tenant:acme')!.cachedInputTokens, cacheWriteTokens: events.get('tenant:acme')!.cacheWriteTokens });
    expect(byTenant.body.total).toMatchObject({
      calls: 5,
      unpricedCalls: 1,
      inputTokens: all.inputTokens,
      outputTokens: all.outputTokens,
      cachedInputTokens: all.cachedInputTokens,
      cacheWriteTokens: all.cacheWriteTokens,
    });
    expect(byTenant.body.total.costUsd).toBeCloseTo(all.costUsd, 12);
    const dayAgent = await api.call('GET', '/v1/costs?by=day,agent', { key: 'reader' });
    expect(dayAgent.body.rows.map((r: any) => [r.day, r.agent, r.calls])).toEqual([
      [new Date().toISOString().slice(0, 10), 'echo', 1],
      [new Date().toISOString().slice(0, 10), 'support', 4],
    ]);
    expect((await api.call('GET', '/v1/costs?since=2099-01-01', { key: 'reader' })).body.rows).toEqual([]);
    const bad = await api.call('GET', '/v1/costs?by=customer', { key: 'reader' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('by must be one or two of agent, model, day, tenant');
    expect((await api.call('GET', '/v1/costs', { key: null })).status).toBe(401);
    const openapi = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(openapi.paths['/v1/costs'].get.parameters.map((p: any) => p.name)).toEqual(['by', 'since', 'until', 'agent', 'tenant']);
    expect(openapi.components.schemas.CostRow.properties).toHaveProperty('unpricedCalls');

    // /metrics: per agent and per tenant, read from the store, equal to the events' sums.
    const metrics = (await api.call('GET', '/metrics', { key: 'reader' })).text;
    const sample = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    for (const name of ['support', 'echo']) {
      const t = events.get(`agent:${name}`)!;
      expect(sample('twelve_agent_cost_usd', `agent="${name}"`)).toBeCloseTo(t.costUsd, 12);
      expect(sample('twelve_agent_tokens', `agent="${name}",kind="input"`)).toBe(t.inputTokens);
      expect(sample('twelve_agent_tokens', `agent="${name}",kind="output"`)).toBe(t.outputTokens);
      expect(sample('twelve_agent_tokens', `agent="${name}",kind="cached_input"`)).toBe(t.cachedInputTokens);
      expect(sample('twelve_agent_tokens', `agent="${name}",kind="cache_write"`)).toBe(t.cacheWriteTokens);
      expect(sample('twelve_agent_model_calls', `agent="${name}"`)).toBe(t.calls);
      expect(sample('twelve_agent_unpriced_model_calls', `agent="${name}"`)).toBe(t.unpricedCalls);
    }
    expect(sample('twelve_tenant_cost_usd', 'tenant="acme"')).toBeCloseTo(events.get('tenant:acme')!.costUsd, 12);
    expect(sample('twelve_tenant_model_calls', 'tenant=""')).toBe(1);
    for (const tenant of ['acme', 'globex', '']) {
      const t = events.get(`tenant:${tenant}`)!;
      expect(sample('twelve_tenant_tokens', `tenant="${tenant}",kind="cached_input"`)).toBe(t.cachedInputTokens);
      expect(sample('twelve_tenant_tokens', `tenant="${tenant}",kind="cache_write"`)).toBe(t.cacheWriteTokens);
    }
    // Per model, counted by this process (its worker ran every call) as the events were appended.
    for (const name of [model, 'scripted:echo']) {
      const t = events.get(`model:${name}`)!;
      for (const [kind, value] of [['input', t.inputTokens], ['output', t.outputTokens], ['cached_input', t.cachedInputTokens], ['cache_write', t.cacheWriteTokens]] as const) {
        expect(sample('twelve_model_tokens_total', `model="${name}",kind="${kind}"`)).toBe(value);
      }
    }
    expect(Number(/^twelve_cached_input_tokens (\S+)$/m.exec(metrics)?.[1])).toBe(all.cachedInputTokens);
    expect(Number(/^twelve_cache_write_tokens (\S+)$/m.exec(metrics)?.[1])).toBe(all.cacheWriteTokens);
    expect(Number(/^twelve_cost_usd (\S+)$/m.exec(metrics)?.[1])).toBeCloseTo(all.costUsd, 12);

    // twelve costs, on the same database (local store) and against the server (TWELVE_URL).
    const local = await runCli(['costs', '--by', 'agent', '--since', '7d', '--json'], { env: { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}` } });
    expect(local.stderr).toBe('');
    const report = JSON.parse(local.stdout);
    expect(report.total).toMatchObject({ calls: all.calls, unpricedCalls: 1, inputTokens: all.inputTokens, outputTokens: all.outputTokens, cachedInputTokens: 1024, cacheWriteTokens: 150 });
    expect(report.total.costUsd).toBeCloseTo(all.costUsd, 12);
    const table = await runCli(['costs', '--by', 'tenant'], { env: { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}` } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TENANT +CALLS +INPUT +CACHED +WRITTEN +OUTPUT +SPEND$/m);
    expect(table.stdout).toMatch(/^acme +3 +\d+ +1024 +150 +\d+ +\$0\.\d{4} \+ 1 unpriced$/m);
    expect(table.stdout).toMatch(/^\(none\) +1 /m);
    expect(table.stdout).toMatch(/^total +5 /m);
    expect(table.stdout).toContain('1 model call had no known price: their spend is unknown');
    const remote = await runCli(['costs', '--by', 'model', '--json'], { env: { TWELVE_URL: api.url, TWELVE_API_KEY: 'tw_test_reader_1a6c3f8e52d09b47' } });
    expect(remote.stderr).toBe('');
    expect(JSON.parse(remote.stdout).rows.map((r: any) => [r.model, r.calls, r.unpricedCalls])).toEqual([
      [model, 4, 0],
      ['scripted:echo', 1, 1],
    ]);
    const negative = await runCli(['costs', '--since', '-5d'], { env: { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}` } });
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--since takes an age back from now without a sign (e.g. 5d)');
    const offCalendar = await api.call('GET', '/v1/costs?since=2026-02-30', { key: 'reader' });
    expect(offCalendar.status).toBe(400);
    expect(offCalendar.body.error.message).toContain('2026-02-30 is not a date on the calendar');
    const wrong = await runCli(['costs', '--since', 'yesterday'], { env: { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}` } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--since must be an age like 30min, 24h, 7d or 2w, or an ISO date or time');
  });
});

describe('cost history survives a prune', () => {
  const summary = { modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const call = (model: string, costUsd: number | null, tokens: number) =>
    event('model_called', { model, attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: tokens, outputTokens: 2 }, costUsd, text: 'ok', toolCalls: [], finishReason: 'stop', contextMessages: 2 });

  /** Finished threads with priced and unpriced calls, two tenants, and a fork whose copied call is its origin's. */
  async function seed(store: Store) {
    const started = (agent: string) => event('thread_started', { agent, input: 'x', metadata: {} });
    for (const [id, agent, tenant] of [['th_a', 'support', 'acme'], ['th_b', 'support', 'globex'], ['th_c', 'echo', undefined]] as const) {
      await store.createThread({ id, agent, releaseId: 'rel_1', input: 'x', ...(tenant ? { tenant } : {}), events: [started(agent)], summary: { ...summary, status: 'runnable' } });
      await store.append(id, 1, 'rel_1', [call('gpt-4o', 0.002, 100), call(agent === 'echo' ? 'scripted:echo' : 'gpt-4o', agent === 'echo' ? null : 0.001, 50)], { ...summary, status: 'runnable' });
      await store.append(id, 3, 'rel_1', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' });
    }
    const origin = await store.loadEvents('th_a');
    const copies = origin.slice(0, 2).map((e) => ({ type: e.type, data: e.data, at: e.at, releaseId: e.releaseId }));
    await store.createThread({ id: 'th_fork', agent: 'support', releaseId: 'rel_1', input: 'x', tenant: 'acme', events: copies as never, summary: { ...summary, status: 'runnable' } });
    await store.append('th_fork', 2, 'rel_1', [event('thread_forked', { from: 'th_a', atSeq: 2, by: 'test' }), call('gpt-4o', 0.004, 10), event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' });
    // A call stamped before its thread's creation (a worker's clock behind the launcher's): not a fork's copy, so counted.
    const behind = new Date(Date.now() - 60_000).toISOString();
    await store.createThread({ id: 'th_behind', agent: 'triage', releaseId: 'rel_1', input: 'x', events: [started('triage'), { ...call('gpt-4o', 0.008, 5), at: behind, releaseId: 'rel_1' }] as never, summary: { ...summary, status: 'runnable' } });
    await store.append('th_behind', 2, 'rel_1', [event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' });
  }

  for (const backend of ['SQLite', 'PostgreSQL'] as const) {
    it(`gives the same reports by every dimension before and after the threads are pruned (${backend})`, async () => {
      let store: Store;
      if (backend === 'SQLite') store = new SqliteStore({ path: join(tempDir(), 'twelve.db') });
      else {
        const database = await freshPostgresDatabase();
        store = database.open();
        onTestFinished(() => database.cleanup());
      }
      onTestFinished(() => store.close());
      await seed(store);
      const reports = async () => {
        const out: Record<string, CostRow[]> = {};
        for (const by of [['agent'], ['model'], ['tenant'], ['day', 'agent'], ['tenant', 'model']] as CostDimension[][]) out[by.join(',')] = await store.costReport({ by });
        out.since = await store.costReport({ by: ['agent'], since: new Date(Date.now() - 3_600_000).toISOString() });
        out.acme = await store.costReport({ by: ['model'], tenant: 'acme' });
        return out;
      };
      const before = await reports();
      // The fork's copied call is counted once (for th_a), its own call once.
      expect(before.agent!.find((r) => r.agent === 'support')).toMatchObject({ calls: 5 });
      expect(before.agent!.find((r) => r.agent === 'echo')).toMatchObject({ calls: 2, unpricedCalls: 1 });
      const pruned = await runPrune({ store, before: '2999-01-01T00:00:00.000Z', archive: null });
      expect(before.agent!.find((r) => r.agent === 'triage')).toMatchObject({ calls: 1 });
      expect(pruned.threads).toBe(5);
      expect(await store.loadEvents('th_a')).toEqual([]);
      const after = await reports();
      const round = (rows: Record<string, CostRow[]>) => JSON.parse(JSON.stringify(rows, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(9)) : v)));
      expect(round(after)).toEqual(round(before));
      // A second prune of nothing changes nothing.
      await runPrune({ store, before: '2999-01-01T00:00:00.000Z', archive: null });
      expect(round(await reports())).toEqual(round(before));
    }, 30_000);
  }
});
