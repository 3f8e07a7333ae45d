/**
 * Record/replay: record against the scripted server over real HTTP, then replay with the
 * server closed and get the same thread, event for event.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ThreadEvent } from '../src/index.js';
import { supportAgent } from './support/agents.js';
import { makeRuntime, startServer, typesOf } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

/** What must be identical between a recorded run and its replay (timings and ids aside). */
function comparable(events: readonly ThreadEvent[]) {
  return events.map((e) => {
    const data = { ...(e.data as Record<string, unknown>) };
    delete data.latencyMs;
    delete data.durationMs;
    if (typeof data.idempotencyKey === 'string') data.idempotencyKey = data.idempotencyKey.replace(e.threadId, '<thread>');
    return { seq: e.seq, type: e.type, releaseId: e.releaseId, data };
  });
}

describe('record and replay', () => {
  it('records every model response, then replays the same thread with the server closed', async () => {
    const server = await startServer();
    const recordings = join(tempDir(), 'recordings');
    const recordLookup = supportAgent();
    const recorder = makeRuntime({ agents: [recordLookup.agent], server, modelMode: 'record', recordingsDir: recordings });
    server.enqueue(
      { text: 'Checking.', toolCalls: [{ id: 'call_r1', name: 'lookup_order', arguments: { orderId: 'A-1001' } }, { id: 'call_r2', name: 'lookup_order', arguments: { orderId: 'B-2002' } }] },
      { text: 'A-1001 was delivered and B-2002 has shipped.', usage: { prompt_tokens: 321, completion_tokens: 12 } },
    );

    const input = 'Where are my orders A-1001 and B-2002?';
    const recorded = await recorder.runtime.launch({ agent: 'support', input });
    expect((await recorder.runtime.runThread(recorded.id)).outcome).toBe('completed');
    const recordedEvents = await recorder.runtime.loadEvents(recorded.id);
    expect(server.requests).toHaveLength(2);

    const files = readdirSync(recordings).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(2);
    const recording = JSON.parse(readFileSync(join(recordings, files[0]!), 'utf8'));
    expect(recording).toMatchObject({ key: files[0]!.replace(/\.json$/, ''), model: 'openai:gpt-4o-2024-08-06', response: { content: expect.any(Array) } });
    expect(readdirSync(recordings).some((f) => f.endsWith('.tmp'))).toBe(false);

    await server.close();

    const replayLookup = supportAgent();
    const replayer = makeRuntime({ agents: [replayLookup.agent], server, modelMode: 'replay', recordingsDir: recordings });
    const replayed = await replayer.runtime.launch({ agent: 'support', input });
    const { outcome, thread } = await replayer.runtime.runThread(replayed.id);

    expect(outcome).toBe('completed');
    expect(thread.output).toBe('A-1001 was delivered and B-2002 has shipped.');
    const replayedEvents = await replayer.runtime.loadEvents(replayed.id);
    expect(typesOf(replayedEvents)).toEqual(typesOf(recordedEvents));
    expect(comparable(replayedEvents)).toEqual(comparable(recordedEvents));
    // Tools really ran again, with the same arguments; only the model was replayed.
    expect(replayLookup.lookup.runs.map((r) => r.input)).toEqual(recordLookup.lookup.runs.map((r) => r.input));
    expect(thread.inputTokens).toBe((await recorder.runtime.getThread(recorded.id))!.inputTokens);
    expect(server.requests).toHaveLength(2);
  });

  it('replays from the TWELVE_MODEL_MODE and TWELVE_RECORDINGS_DIR environment variables', async () => {
    const server = await startServer();
    const recordings = join(tempDir(), 'from-env');
    const recorder = makeRuntime({ agents: [supportAgent().agent], server, env: { TWELVE_MODEL_MODE: 'record', TWELVE_RECORDINGS_DIR: recordings } });
    server.enqueue({ text: 'hello back' });
    const first = await recorder.runtime.launch({ agent: 'support', input: 'hello' });
    await recorder.runtime.runThread(first.id);
    expect(existsSync(recordings)).toBe(true);
    await server.close();

    const replayer = makeRuntime({ agents: [supportAgent().agent], env: { TWELVE_MODEL_MODE: 'replay', TWELVE_RECORDINGS_DIR: recordings, OPENAI_API_KEY: '' } });
    const second = await replayer.runtime.launch({ agent: 'support', input: 'hello' });
    expect((await replayer.runtime.runThread(second.id)).thread.output).toBe('hello back');
  });

  it('blocks the thread on a request that was never recorded, saying how to record it, until a person resumes it', async () => {
    const recordings = join(tempDir(), 'empty');
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], modelMode: 'replay', recordingsDir: recordings });
    const thread = await runtime.launch({ agent: 'support', input: 'a question nobody recorded' });

    const { thread: after, outcome } = await runtime.runThread(thread.id);

    // Not retried blindly: the thread waits for a person, and says why.
    expect(outcome).toBe('awaiting_human');
    expect(after).toMatchObject({ status: 'awaiting_human', seq: 2, leaseOwner: null, error: { code: 'replay_missing' } });
    expect(after.waitingReason).toMatch(/^blocked: no recorded response for this openai:gpt-4o-2024-08-06 request/);
    expect(after.waitingReason).toContain('TWELVE_MODEL_MODE=record');
    expect(after.waitingReason).toContain(recordings);
    const events = await runtime.loadEvents(thread.id);
    expect(typesOf(events)).toEqual(['thread_started', 'blocked']);
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    expect(await runtime.loadEvents(thread.id)).toHaveLength(2);
  });
});
