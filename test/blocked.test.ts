/**
 * A thread blocked by its configuration (no provider key, credentials refused, nothing
 * recorded to replay) waits for a person with the reason, instead of staying runnable and
 * being retried forever; a resume once the configuration is fixed carries it on. Transient
 * provider errors keep their retries, fallbacks and model_failed.
 */
import { describe, expect, it } from 'vitest';
import { supportAgent } from './support/agents.js';
import { startApi, waitForStatus } from './support/api.js';
import { eventually } from './support/cli.js';
import { eventsOfType, makeRuntime, startServer, typesOf } from './support/runtime.js';

const notify = { TWELVE_NOTIFY_URL: 'http://127.0.0.1:9/hook', TWELVE_NOTIFY_SECRET: 'whsec_test_0123456789abcdef' };

describe('a thread blocked by its configuration', () => {
  it('waits for a person, says why, is notified, is not retried, and a resume after the fix completes it', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    // This process has no OPENAI_API_KEY.
    const broken = makeRuntime({ agents: [agent], server, env: { OPENAI_API_KEY: '', ...notify } });
    const thread = await broken.runtime.launch({ agent: 'support', input: 'Where is A-1001?' });

    const first = await broken.runtime.runThread(thread.id);

    expect(first.outcome).toBe('awaiting_human');
    expect(first.thread).toMatchObject({ status: 'awaiting_human', leaseOwner: null, error: { code: 'config_invalid' } });
    expect(first.thread.waitingReason).toMatch(/^blocked: model openai:gpt-4o-2024-08-06: OPENAI_API_KEY is not set/);
    expect(first.thread.error!.message).toContain('OPENAI_API_KEY is not set');
    const events = await broken.runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'blocked']);
    expect(eventsOfType(events, 'blocked')[0]!.data.failures).toEqual([{ model: 'openai:gpt-4o-2024-08-06', attempt: 1, error: expect.stringContaining('OPENAI_API_KEY is not set') }]);
    expect(server.requests).toHaveLength(0);
    // In the inbox, and notified like every other wait for a person.
    expect((await broken.runtime.listWaiting()).map((t) => t.id)).toEqual([thread.id]);
    const [notification] = await broken.runtime.store.claimDueNotifications({ limit: 10, leaseMs: 60_000, maxAttempts: 3 });
    expect(notification!.payload).toMatchObject({ threadId: thread.id, kind: 'blocked', summary: expect.stringContaining('OPENAI_API_KEY is not set') });
    // Running it again does nothing: a worker would not claim it, and a run finds it waiting.
    expect((await broken.runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(await broken.runtime.loadEvents(thread.id)).toHaveLength(2);
    expect(await broken.runtime.store.claim({ owner: 'some-worker', leaseMs: 60_000 })).toBeUndefined();

    // The configuration is fixed (another process, with the key): resume, and it runs.
    const fixed = makeRuntime({ agents: [agent], server, dir: broken.dir });
    const resumed = await fixed.runtime.resume(thread.id, { by: 'ops@example.com' });
    expect(resumed).toMatchObject({ status: 'runnable', error: null, waitingReason: null });
    server.enqueue({ text: 'A-1001 was delivered.' });
    const second = await fixed.runtime.runThread(thread.id);
    expect(second.outcome).toBe('completed');
    expect(second.thread).toMatchObject({ output: 'A-1001 was delivered.', error: null });
    expect(typesOf(await fixed.runtime.loadEvents(thread.id))).toEqual(['thread_started', 'blocked', 'resumed', 'model_called', 'thread_completed']);
  });

  it('blocks on credentials the provider refuses (401), where a 5xx is retried and recorded as model_failed', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: { maxRetries: 2 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } } });
    const refused = await runtime.launch({ agent: 'support', input: 'hi' });
    const blocked = await runtime.runThread(refused.id);
    expect(blocked.outcome).toBe('awaiting_human');
    expect(blocked.thread.waitingReason).toMatch(/^blocked: model openai:gpt-4o-2024-08-06: the provider refused the credentials \(HTTP 401: Incorrect API key provided\); check OPENAI_API_KEY/);
    // Not retried: one request, where maxRetries would allow three.
    expect(server.requests).toHaveLength(1);

    // A 5xx is transient: retried (three attempts per step), recorded as model_failed, escalated after three such steps.
    server.enqueue({ status: 503 }, { status: 503 }, { status: 503 });
    const flaky = await runtime.launch({ agent: 'support', input: 'hi' });
    const escalated = await runtime.runThread(flaky.id);
    expect(escalated.thread.waitingReason).toMatch(/^escalated: 3 consecutive errors/);
    const events = await runtime.loadEvents(flaky.id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_failed', 'model_failed', 'model_failed', 'escalated']);
    expect(eventsOfType(events, 'model_failed')[0]!.data.failures.map((f) => f.status)).toEqual([503, 503, 503]);
    expect(server.requests).toHaveLength(1 + 9);
  });

  it('takes the fallback when only the primary has a configuration problem, and blocks when no model of the chain can be called', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ model: 'anthropic:claude-sonnet-4-5-20250929', fallbackModels: ['openai:gpt-4o-2024-08-06'] });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ text: 'answered by the fallback' });
    const thread = await runtime.launch({ agent: 'support', input: 'hi' });
    const done = await runtime.runThread(thread.id);
    expect(done.outcome).toBe('completed');
    const [call] = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(call!.data).toMatchObject({ model: 'openai:gpt-4o-2024-08-06', fallbackIndex: 1, failures: [{ model: 'anthropic:claude-sonnet-4-5-20250929', error: expect.stringContaining('ANTHROPIC_API_KEY is not set') }] });

    const none = makeRuntime({ agents: [agent], server, env: { OPENAI_API_KEY: '' } });
    const stuck = await none.runtime.launch({ agent: 'support', input: 'hi' });
    const { thread: waiting } = await none.runtime.runThread(stuck.id);
    expect(waiting.waitingReason).toMatch(/^blocked: no model of the chain can be called: model anthropic:.*ANTHROPIC_API_KEY is not set.*; model openai:.*OPENAI_API_KEY is not set/);
    expect(server.requests).toHaveLength(1);
  });

  it('the API thread resource and the inbox say why, and an operator resumes it over HTTP', async () => {
    const { agent } = supportAgent();
    const api = await startApi({ agents: [agent], env: { OPENAI_API_KEY: '' }, worker: true, hookSecrets: new Map() });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'support', input: 'Where is A-1001?' } });
    const id = launched.body.thread.id as string;

    const detail = await waitForStatus(api, id, ['awaiting_human']);

    expect(detail).toMatchObject({
      status: 'awaiting_human',
      waitingReason: expect.stringMatching(/^blocked: model openai:gpt-4o-2024-08-06: OPENAI_API_KEY is not set/),
      error: { code: 'config_invalid', message: expect.stringContaining('OPENAI_API_KEY is not set') },
      pending: [{ kind: 'blocked', reason: expect.stringContaining('OPENAI_API_KEY is not set') }],
    });
    const inbox = await api.call('GET', '/v1/inbox', { key: 'reader' });
    expect(inbox.body.items).toMatchObject([{ thread: { id }, pending: [{ kind: 'blocked' }] }]);
    const events = await api.call('GET', `/v1/threads/${id}/events`, { key: 'reader' });
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['thread_started', 'blocked']);

    const resumed = await api.call('POST', `/v1/threads/${id}/resume`, { key: 'ops', body: { comment: 'key rotated' } });
    expect(resumed.status).toBe(200);
    // Still no key in this server's workers: it blocks again, on the record, rather than looping.
    await eventually(async () => (await api.runtime.loadEvents(id)).length === 4);
    expect((await api.runtime.loadEvents(id)).map((e) => e.type)).toEqual(['thread_started', 'blocked', 'resumed', 'blocked']);
  });
});
