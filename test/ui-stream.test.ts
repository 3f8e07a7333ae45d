/**
 * Streaming to UIs: a model call streams (doStream) and its tokens reach an AI SDK UI message
 * stream as they arrive, read with the `ai` package's own reader (readUIMessageStream over the
 * parsed SSE chunks). The scripted model releases each chunk only when the test says so, and the
 * test says so only once the previous one reached the UI message: live, not replayed at the end.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJsonEventStream } from '@ai-sdk/provider-utils';
import { readUIMessageStream, uiMessageChunkSchema, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import { createRuntime, defineAgent } from '../src/index.js';
import { scriptedModel } from '../src/testing.js';
import type { ModelDelta } from '../src/stream/delta-bus.js';
import { startServer as startHttpServer } from '../src/server/serve.js';
import { mergeDeltas, packPayloads } from '../src/stream/delta-relay.js';
import { keys, readSse, startApi, type SseMessage } from './support/api.js';
import { gate } from './support/hitl.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { makeRuntime, startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';
import { chatty } from './support/stream-agents.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const adminKey = keys.admin.key;

/** The UI message snapshots of GET /ui-stream, read by the AI SDK. */
async function openUiStream(url: string, threadId: string, signal?: AbortSignal, after?: number) {
  const response = await fetch(`${url}/v1/threads/${threadId}/ui-stream${after !== undefined ? `?after=${after}` : ''}`, { headers: { authorization: `Bearer ${adminKey}` }, ...(signal ? { signal } : {}) });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
  const chunks = parseJsonEventStream({ stream: response.body!, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream<{ success: boolean; value?: UIMessageChunk; error?: unknown }, UIMessageChunk>({
      transform(result, controller) {
        if (!result.success) throw result.error;
        controller.enqueue(result.value!);
      },
    }),
  );
  const messages = readUIMessageStream<UIMessage>({ stream: chunks, onError: () => undefined })[Symbol.asyncIterator]();
  let latest: UIMessage | undefined;
  return {
    /** Reads snapshots until one satisfies `ok` (fails if the stream ends first). */
    async until(ok: (message: UIMessage) => boolean, what: string): Promise<UIMessage> {
      if (latest && ok(latest)) return latest;
      for (;;) {
        const { value, done } = await messages.next();
        if (done) throw new Error(`the UI stream ended before ${what}; last message: ${JSON.stringify(latest)}`);
        latest = value;
        if (ok(value)) return value;
      }
    },
    /** Reads to the end; the final message. */
    async last(): Promise<UIMessage> {
      for (;;) {
        const { value, done } = await messages.next();
        if (done) return latest!;
        latest = value;
      }
    },
  };
}

const texts = (message: UIMessage) => message.parts.flatMap((part) => (part.type === 'text' ? [part.text] : []));
const toolPart = (message: UIMessage) => message.parts.find((part) => part.type === 'tool-lookup') as { state: string; input: unknown; output?: unknown } | undefined;

/** Two model steps: a tool call (with a sentence), then an answer in three chunks the test releases one by one. */
function script(server: ScriptedServer) {
  const chunks = ['The order ', 'ships ', 'tomorrow.'];
  const gates = chunks.map(() => gate());
  server.enqueue(
    { text: 'Checking.', toolCalls: [{ name: 'lookup', arguments: { order: 'A-1' } }] },
    { chunks, beforeChunk: (index) => gates[index]!.promise },
  );
  return { chunks, release: (index: number) => gates[index]!.resolve(), releaseAll: () => gates.forEach((g) => g.resolve()) };
}

/**
 * The scenario both stores run: launch, watch the tool part arrive, release the answer chunk by
 * chunk (each seen live before the next), disconnect mid-answer and reconnect (the stored part
 * and the text so far come back, then it goes on live), and check the final message and log.
 */
async function streamScenario(url: string, server: ScriptedServer, loadEvents: (id: string) => Promise<Array<{ type: string; data: any }>>) {
  const answer = script(server);
  try {
    const launched = await fetch(`${url}/v1/threads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'chatty', input: 'order A-1' }),
    });
    expect(launched.status).toBe(201);
    const threadId = ((await launched.json()) as { thread: { id: string } }).thread.id;

    const first = new AbortController();
    const ui = await openUiStream(url, threadId, first.signal);
    const withTool = await ui.until((m) => toolPart(m)?.state === 'output-available', 'the tool output');
    expect(withTool.id).toBe(threadId);
    expect(texts(withTool)).toEqual(['Checking.']);
    expect(toolPart(withTool)).toMatchObject({ input: { order: 'A-1' }, output: { order: 'A-1', ships: 'tomorrow' } });

    answer.release(0);
    const partial = await ui.until((m) => texts(m).length === 2 && texts(m)[1] === 'The order ', 'the first chunk');
    expect(texts(partial)).toEqual(['Checking.', 'The order ']);
    // Live: the model call is still open, so the log has no second model_called yet.
    expect((await loadEvents(threadId)).filter((e) => e.type === 'model_called')).toHaveLength(1);

    // Disconnect mid-answer, then reconnect: the stored parts and the text so far come back first.
    first.abort();
    const again = await openUiStream(url, threadId);
    const resumed = await again.until((m) => texts(m)[1] === 'The order ' && toolPart(m)?.state === 'output-available', 'the replay after reconnecting');
    expect(texts(resumed)).toEqual(['Checking.', 'The order ']);

    answer.release(1);
    await again.until((m) => texts(m)[1] === 'The order ships ', 'the second chunk');
    answer.release(2);
    const final = await again.last();
    expect(final.id).toBe(threadId);
    expect(texts(final)).toEqual(['Checking.', 'The order ships tomorrow.']);
    expect(final.parts.filter((part) => part.type === 'tool-lookup')).toHaveLength(1);
    expect(final.metadata).toMatchObject({ threadId, status: 'completed' });

    // Stored as without streaming: one model_called per step with the whole text, streamed requests.
    const called = (await loadEvents(threadId)).filter((e) => e.type === 'model_called');
    expect(called.map((e) => e.data.text)).toEqual(['Checking.', 'The order ships tomorrow.']);
    expect(called[1]!.data).toMatchObject({ finishReason: 'stop', toolCalls: [], usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) } });
    expect(called[1]!.data.usage.outputTokens).toBeGreaterThan(0);
    expect(server.requests.map((r) => r.body?.stream)).toEqual([true, true]);
    return threadId;
  } finally {
    answer.releaseAll();
  }
}

describe('streaming to UIs', () => {
  it('streams a model call into an AI SDK UI message live, resumes after a disconnect, and SSE carries id-less deltas (SQLite, one process)', async () => {
    const server = await startServer();
    const api = await startApi({ agents: [chatty], models: {}, hookSecrets: new Map(), worker: true, env: { OPENAI_BASE_URL: server.baseURL } });
    // The plain event stream with deltas, read alongside from the start.
    const seen: SseMessage[] = [];
    let collecting: Promise<void> | undefined;
    const unsubscribe = api.runtime.subscribe((e) => {
      if (e.type !== 'thread_started' || collecting) return;
      collecting = (async () => {
        const response = await fetch(`${api.url}/v1/threads/${e.threadId}/stream?deltas=1`, { headers: { authorization: `Bearer ${adminKey}` } });
        for await (const message of readSse(response)) seen.push(message);
      })();
    });
    const threadId = await streamScenario(api.url, server, (id) => api.runtime.loadEvents(id));
    unsubscribe();
    await collecting;
    const deltas = seen.filter((m) => m.event === 'delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((m) => m.id === undefined)).toBe(true);
    expect(deltas.map((m) => JSON.parse(m.data).text).join('')).toContain('ships');
    expect(JSON.parse(deltas[0]!.data)).toMatchObject({ threadId, seq: expect.any(Number), attempt: '0.1', offset: expect.any(Number) });
    // Stored events keep their ids in order: a Last-Event-ID resume is unaffected by deltas.
    const ids = seen.filter((m) => m.id !== undefined).map((m) => Number(m.id));
    expect(ids).toEqual(ids.map((_, index) => index + 1));
    expect(seen.at(-1)?.event).toBe('end');
  }, 60_000);

  it('streams one turn of a conversation: the UI stream after the message’s seq carries that turn’s answer only', async () => {
    const server = await startServer();
    const api = await startApi({ agents: [chatty], models: {}, hookSecrets: new Map(), worker: true, env: { OPENAI_BASE_URL: server.baseURL } });
    server.enqueue({ text: 'It ships tomorrow.' }, { chunks: ['In euros: ', '42.'] });
    const launched = await fetch(`${api.url}/v1/threads`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'chatty', input: 'order A-1' }) });
    const { thread } = (await launched.json()) as { thread: { id: string } };
    expect(texts(await (await openUiStream(api.url, thread.id)).last())).toEqual(['It ships tomorrow.']);
    const said = await fetch(`${api.url}/v1/threads/${thread.id}/messages`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'And the price?' }) });
    expect(said.status).toBe(201);
    const { seq } = (await said.json()) as { seq: number };
    const turn = await (await openUiStream(api.url, thread.id, undefined, seq)).last();
    expect(texts(turn).join('')).toBe('In euros: 42.');
  }, 60_000);

  it('streams from a worker process to a server process through PostgreSQL NOTIFY', async () => {
    const server = await startServer();
    const database = await freshPostgresDatabase();
    const env = { TWELVE_DATABASE_URL: database.url, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_LOG: 'off' };
    const runtime = createRuntime({ agents: [chatty], env });
    const http = await startHttpServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: [keys.admin] });
    const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'support', 'stream-worker-child.ts')], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk) => {
          out += chunk;
          if (out.includes('ready')) resolve();
        });
        child.once('close', (code) => reject(new Error(`the worker process exited (${code}) before it was ready`)));
      });
      await streamScenario(http.url, server, (id) => runtime.loadEvents(id));
    } finally {
      child.kill('SIGTERM');
      await exited;
      await http.close();
      await runtime.close();
      await database.cleanup();
    }
  }, 90_000);

  it('streams through the scripted model, records a streamed call, and replays it as one delta with the same event', async () => {
    const deltasOf = async (runtime: ReturnType<typeof createRuntime>, threadId: string) => {
      const seen: ModelDelta[] = [];
      const stop = await runtime.subscribeDeltas(threadId, (d) => seen.push(d));
      await runtime.runThread(threadId);
      stop();
      return seen;
    };
    const scripted = defineAgent({ name: 'scripted-streamer', purpose: 'Streams a scripted answer', model: 'scripted:s', prompt: { text: 'Say {{input}}' }, stream: true });
    const { runtime: local } = makeRuntime({ agents: [scripted], models: { 'scripted:s': scriptedModel([{ text: 'hello there' }]) } });
    const one = await local.launch({ agent: 'scripted-streamer', input: 'hi' });
    expect((await deltasOf(local, one.id)).map((d) => d.text).join('')).toBe('hello there');
    expect((await local.loadEvents(one.id)).find((e) => e.type === 'model_called')?.data).toMatchObject({ text: 'hello there', usage: { inputTokens: 10, outputTokens: 5 } });

    const server = await startServer();
    server.enqueue({ chunks: ['Recorded ', 'words.'] });
    const recordings = tempDir();
    const { runtime: recorder } = makeRuntime({ agents: [chatty], server, modelMode: 'record', recordingsDir: recordings });
    const recorded = await recorder.launch({ agent: 'chatty', input: 'order A-2' });
    expect((await deltasOf(recorder, recorded.id)).map((d) => d.text)).toEqual(['Recorded ', 'words.']);
    const { runtime: replayer } = makeRuntime({ agents: [chatty], modelMode: 'replay', recordingsDir: recordings });
    const replayed = await replayer.launch({ agent: 'chatty', input: 'order A-2' });
    expect((await deltasOf(replayer, replayed.id)).map((d) => [d.offset, d.text])).toEqual([[0, 'Recorded words.']]);
    const calledOf = async (runtime: ReturnType<typeof createRuntime>, id: string) => {
      const { latencyMs: _latency, ...data } = (await runtime.loadEvents(id)).find((e) => e.type === 'model_called')!.data as Record<string, unknown>;
      return data;
    };
    // The same event either way: text, usage, finish reason, and the same recorded request.
    expect(await calledOf(replayer, replayed.id)).toEqual(await calledOf(recorder, recorded.id));
    expect(server.requests).toHaveLength(1);
  });

  it('keeps every NOTIFY payload under 8000 bytes, splitting long texts without losing a character', () => {
    const long = 'é'.repeat(9000) + '😀'.repeat(3000);
    const deltas = [
      { threadId: 'th_a', seq: 3, attempt: '0.1', offset: 0, text: 'Hello ' },
      { threadId: 'th_a', seq: 3, attempt: '0.1', offset: 6, text: long },
      { threadId: 'th_b', seq: 5, attempt: '0.1', offset: 0, text: 'other' },
    ];
    const entries = mergeDeltas(deltas);
    expect(entries).toHaveLength(2);
    const payloads = packPayloads(entries).map((group) => JSON.stringify({ o: 'abcdef012345', n: 1, d: group }));
    expect(payloads.length).toBeGreaterThan(2);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    const pieces = payloads.flatMap((p) => JSON.parse(p).d as Array<[string, number, string, number, string]>).filter((e) => e[0] === 'th_a');
    let text = '';
    for (const [, , , offset, piece] of pieces) {
      expect(offset).toBe(text.length);
      text += piece;
    }
    expect(text).toBe(`Hello ${long}`);
  });
});
