/**
 * What the model saw, over the real HTTP API: each step's request and response, one step by
 * seq, and the blobs a thread refers to (a reader key may read them; a blob of another thread
 * is not reachable through a thread that does not refer to it). The CLI reads them remotely.
 */
import { describe, expect, it } from 'vitest';
import { startApi } from './support/api.js';
import { runCli } from './support/cli.js';

describe('what the model saw over the API', () => {
  it('serves each model step’s stored request and response to a reader, and a thread’s own blobs only', async () => {
    const api = await startApi();
    const paying = await api.runtime.launch({ agent: 'payer', input: 'pay 50' });
    await api.runtime.runThread(paying.id);
    const echoing = await api.runtime.launch({ agent: 'echo', input: 'hello there' });
    await api.runtime.runThread(echoing.id);

    const events = await api.call('GET', `/v1/threads/${paying.id}/events`, { key: 'reader' });
    const called = events.body.events.filter((e: { type: string }) => e.type === 'model_called');
    expect(called).toHaveLength(2);
    const ref = called[0].data.request.ref as string;
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);

    const all = await api.call('GET', `/v1/threads/${paying.id}/requests`, { key: 'reader' });
    expect(all.status).toBe(200);
    expect(all.body.steps.map((s: { source: string; seq: number }) => [s.source, s.seq])).toEqual([['stored', called[0].seq], ['stored', called[1].seq]]);
    expect(all.body.steps[0].request.tools.map((t: { name: string }) => t.name)).toEqual(['pay']);
    expect(all.body.steps[0].response.toolCalls).toEqual([expect.objectContaining({ tool: 'pay' })]);
    expect(all.body.steps[1].response.text).toBe('paid');

    const one = await api.call('GET', `/v1/threads/${paying.id}/steps/${called[1].seq}/request`, { key: 'reader' });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(all.body.steps[1]);
    expect(JSON.stringify(one.body.request.prompt)).toContain('"paid":50');
    const notAStep = await api.call('GET', `/v1/threads/${paying.id}/steps/1/request`, { key: 'reader' });
    expect(notAStep.status).toBe(404);
    expect(notAStep.body.error.message).toContain('no model step at seq 1');

    const blob = await api.call('GET', `/v1/threads/${paying.id}/blobs/${ref}`, { key: 'reader' });
    expect(blob.status).toBe(200);
    expect(blob.body).toMatchObject({ hash: ref, data: { format: 'twelve.request/3' } });
    expect(blob.body.data.messages[0]).toMatchObject({ role: 'system' });
    const tools = blob.body.data.tools as string;
    expect((await api.call('GET', `/v1/threads/${paying.id}/blobs/${tools}`, { key: 'reader' })).body.data).toEqual([expect.objectContaining({ name: 'pay' })]);
    // Stored, but not this thread's: not reachable through it.
    const foreign = await api.call('GET', `/v1/threads/${echoing.id}/blobs/${ref}`, { key: 'reader' });
    expect(foreign.status).toBe(404);
    expect((await api.call('GET', `/v1/threads/${paying.id}/blobs/${ref}`, { key: null })).status).toBe(401);
    expect((await api.call('GET', `/v1/threads/${paying.id}/blobs/not-a-hash`, { key: 'reader' })).status).toBe(400);

    const env = { TWELVE_URL: api.url, TWELVE_API_KEY: 'tw_test_reader_1a6c3f8e52d09b47', TWELVE_LOG: 'off' };
    const shown = await runCli(['threads', 'show', paying.id, '--messages'], { env });
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toMatch(/── step 1 \(seq \d+\) · scripted:payer · release \S+ · stored request sha256:/);
    expect(shown.stdout).toContain('tools offered: pay');
    expect(shown.stdout).toMatch(/response: answer · finish stop[^\n]*\n {2}paid/);
  });
});
