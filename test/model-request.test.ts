/**
 * What the model saw: each model step stores the exact request it sent (as blobs, referenced
 * from model_called), large tool results are stored once with a preview and a note the model
 * reads, and old steps get a request re-derived from the log, labelled so. Through the real
 * HTTP path to a scripted OpenAI-compatible server, on a real SQLite file.
 */
import { createOpenAI } from '@ai-sdk/openai';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../src/index.js';
import { loadConfig } from '../src/config/env.js';
import { loadRequest } from '../src/model/request-record.js';
import { stepRequests } from '../src/replay/step-requests.js';
import type { NewEvent } from '../src/thread/events.js';
import { supportAgent } from './support/agents.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { runCli } from './support/cli.js';
import { eventsOfType, makeRuntime, startServer, testApiKey } from './support/runtime.js';

const settings = { temperature: 0, maxOutputTokens: 300 };

describe('what the model saw', () => {
  it('stores the request each step sent: re-sent through the same provider, with the thread\'s prompt-cache options, it makes the very HTTP body the server received', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: settings });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      { toolCalls: [{ id: 'call_a', name: 'lookup_order', arguments: { orderId: 'A-1001' } }, { id: 'call_b', name: 'lookup_order', arguments: { orderId: 'B-2002' } }] },
      { toolCalls: [{ id: 'call_c', name: 'lookup_order', arguments: { orderId: 'C-3003' } }], text: 'One more.' },
      { text: 'It shipped.' },
    );
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');

    const calls = eventsOfType(await runtime.loadEvents(thread.id), 'model_called');
    expect(calls).toHaveLength(3);
    const again = await startServer();
    again.enqueue({ text: 'x' }, { text: 'x' }, { text: 'x' });
    const model = createOpenAI({ apiKey: testApiKey, baseURL: again.baseURL }).chat('gpt-4o-2024-08-06');
    for (const [index, call] of calls.entries()) {
      const ref = call.data.request!;
      expect(ref.ref).toMatch(/^sha256:[0-9a-f]{64}$/);
      const stored = (await loadRequest(runtime.store, { threadId: thread.id, seq: call.seq, ref: ref.ref }))!;
      // Readable without a provider: system prompt, messages, tools with schemas, settings.
      expect(stored.prompt[0]).toMatchObject({ role: 'system', content: expect.stringContaining('You help with orders') });
      expect(stored.prompt).toHaveLength(call.data.contextMessages);
      expect(stored.tools).toEqual([expect.objectContaining({ type: 'function', name: 'lookup_order', inputSchema: expect.objectContaining({ type: 'object' }) })]);
      expect(stored).toMatchObject({ temperature: 0, maxOutputTokens: 300, toolChoice: { type: 'auto' } });
      // The stored request is provider-neutral (no cache options; none go to a server other than api.openai.com by default).
      await model.doGenerate(stored);
      expect(again.requests[index]!.body).toEqual(server.requests[index]!.body);
    }
    // The second step saw the tool's result.
    expect(JSON.stringify(server.requests[1]!.body!.messages)).toContain('A-1001');
  });

  it('keeps each step’s request with its event (one row, no blob of its own), the tools stored once across threads', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime, dbFile } = makeRuntime({ agents: [agent], server });
    server.setFallback(() => ({ text: 'Nothing to look up.' }));
    const first = await runtime.launch({ agent: 'support', input: 'Hello' });
    await runtime.runThread(first.id);
    const db = new Database(dbFile, { readonly: true });
    const count = () => db.prepare(`SELECT count(*) FROM blobs`).pluck().get() as number;
    // The tools: one blob.
    expect(count()).toBe(1);
    const second = await runtime.launch({ agent: 'support', input: 'Hello' });
    await runtime.runThread(second.id);
    expect(count()).toBe(1);
    const [a] = eventsOfType(await runtime.loadEvents(first.id), 'model_called');
    const [b] = eventsOfType(await runtime.loadEvents(second.id), 'model_called');
    // The same request, the same content address; each kept with its own event.
    expect(b!.data.request).toEqual(a!.data.request);
    const kept = db.prepare(`SELECT thread_id, seq FROM events WHERE request IS NOT NULL ORDER BY thread_id`).all();
    expect(kept).toEqual([{ thread_id: first.id, seq: a!.seq }, { thread_id: second.id, seq: b!.seq }].sort((x, y) => x.thread_id.localeCompare(y.thread_id)));
    db.close();
  });

  it('truncates a tool result over TWELVE_MAX_PAYLOAD_BYTES in the context with a note, and keeps the full result as a blob', async () => {
    const server = await startServer();
    const rows = Array.from({ length: 2000 }, (_, i) => ({ line: i, text: `row ${i} of the export` }));
    const exportTool = defineTool({ name: 'export_rows', description: 'All rows', input: z.object({}), effect: 'pure', run: async () => ({ rows }) });
    const { agent } = supportAgent({ tools: [exportTool] });
    const { runtime } = makeRuntime({ agents: [agent], server, env: { TWELVE_MAX_PAYLOAD_BYTES: '4096' } });
    server.enqueue({ toolCalls: [{ id: 'call_x', name: 'export_rows', arguments: {} }] }, { text: 'Too many rows.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Export' });
    await runtime.runThread(thread.id);

    const [done] = eventsOfType(await runtime.loadEvents(thread.id), 'tool_succeeded');
    const note = /\[result truncated: (\d+) KB, first 4 KB shown; full result stored as blob (sha256:[0-9a-f]{64})\]$/;
    expect(done!.data.result).toMatch(note);
    const [, , ref] = note.exec(done!.data.result as string)!;
    expect(done!.data.blob).toEqual({ ref, bytes: expect.any(Number) });
    expect(done!.data.blob!.bytes).toBeGreaterThan(50_000);
    // The model read the preview and the note, not the whole result.
    const toolMessage = (server.requests[1]!.body!.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'tool')!;
    expect(toolMessage.content).toContain(`full result stored as blob ${ref}`);
    expect(toolMessage.content.length).toBeLessThan(4096 + 200);
    const full = await runtime.store.getBlob(ref!);
    expect(JSON.parse(full!.data)).toEqual({ rows });
  });

  it('keeps secrets out of the blobs, as out of the events', async () => {
    const server = await startServer();
    const leaky = defineTool({ name: 'export_rows', description: 'All rows', input: z.object({}), effect: 'pure', run: async () => ({ header: `token ${testApiKey}`, rows: 'r'.repeat(5_000) }) });
    const { agent } = supportAgent({ tools: [leaky] });
    const { runtime, dbFile } = makeRuntime({ agents: [agent], server, env: { TWELVE_MAX_PAYLOAD_BYTES: '2048' } });
    server.enqueue({ toolCalls: [{ id: 'call_x', name: 'export_rows', arguments: {} }] }, { text: 'Done.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Export' });
    await runtime.runThread(thread.id);
    const db = new Database(dbFile, { readonly: true });
    const blobs = db.prepare(`SELECT data FROM blobs`).pluck().all() as string[];
    const requests = db.prepare(`SELECT request FROM events WHERE request IS NOT NULL`).pluck().all() as string[];
    db.close();
    // The tools and the full result; the two steps' requests are kept with their events.
    expect(blobs.length).toBe(2);
    expect(requests.length).toBe(2);
    expect([...blobs, ...requests].filter((data) => data.includes(testApiKey))).toEqual([]);
    // The full result, and the second request (which shows the model the truncated result).
    expect([...blobs, ...requests].filter((data) => data.includes('token [redacted]')).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the user\'s patterns out of the blobs and the kept requests of an agent with redactAtWrite', async () => {
    const server = await startServer();
    const email = 'jane.doe@example.com';
    const leaky = defineTool({ name: 'export_rows', description: 'All rows', input: z.object({}), effect: 'pure', run: async () => ({ header: `owner ${email} order A-1001`, rows: 'r'.repeat(5_000) }) });
    const { agent } = supportAgent({ tools: [leaky], redactAtWrite: true });
    const { runtime, dbFile } = makeRuntime({ agents: [agent], server, env: { TWELVE_MAX_PAYLOAD_BYTES: '2048', TWELVE_REDACT_PATTERNS: 'email,/A-1001/' } });
    server.enqueue({ toolCalls: [{ id: 'call_x', name: 'export_rows', arguments: {} }] }, { text: 'Done.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Export' });
    await runtime.runThread(thread.id);
    const db = new Database(dbFile, { readonly: true });
    const blobs = db.prepare(`SELECT data FROM blobs`).pluck().all() as string[];
    const requests = db.prepare(`SELECT request FROM events WHERE request IS NOT NULL`).pluck().all() as string[];
    const events = db.prepare(`SELECT data FROM events`).pluck().all() as string[];
    db.close();
    expect(blobs.length).toBe(2);
    expect(requests.length).toBe(2);
    expect([...blobs, ...requests, ...events].filter((data) => data.includes(email) || data.includes('A-1001'))).toEqual([]);
    expect(blobs.some((data) => data.includes('[redacted:email]'))).toBe(true);
  });

  it('serves a truncated result to a replay as recorded: the same preview and note, the same blob', async () => {
    const server = await startServer();
    let runs = 0;
    const exportTool = defineTool({ name: 'export_rows', description: 'All rows', input: z.object({}), run: async () => (runs++, { rows: 'r'.repeat(10_000) }) });
    const { agent } = supportAgent({ tools: [exportTool] });
    const { runtime } = makeRuntime({ agents: [agent], server, env: { TWELVE_MAX_PAYLOAD_BYTES: '2048' } });
    server.setFallback((request) => (JSON.stringify(request.body?.messages).includes('result truncated') ? { text: 'Done.' } : { toolCalls: [{ name: 'export_rows', arguments: {} }] }));
    const origin = await runtime.launch({ agent: 'support', input: 'Export' });
    await runtime.runThread(origin.id);
    const shadow = await runtime.fork(origin.id, { atSeq: 1, by: 'replay', shadow: { replayOf: origin.id } });
    expect((await runtime.runThread(shadow.id)).outcome).toBe('completed');

    expect(runs).toBe(1);
    const [recorded] = eventsOfType(await runtime.loadEvents(origin.id), 'tool_succeeded');
    const [served] = eventsOfType(await runtime.loadEvents(shadow.id), 'tool_succeeded');
    expect(served!.data).toEqual({ ...recorded!.data, callId: served!.data.callId, durationMs: 0, replayed: 'recorded' });
    expect(served!.data.blob!.ref).toMatch(/^sha256:/);
  });

  it('gives a fork the requests of the model steps it copies', async () => {
    const server = await startServer();
    const { agent } = supportAgent();
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'Shipped.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await runtime.runThread(thread.id);
    const events = await runtime.loadEvents(thread.id);
    const last = eventsOfType(events, 'model_called').at(-1)!;
    const fork = await runtime.fork(thread.id, { atSeq: last.seq, by: 'alice' });
    const copy = (await runtime.loadEvents(fork.id)).find((e) => e.seq === last.seq)!;
    expect(copy.type).toBe('model_called');
    const ref = { ref: last.data.request!.ref };
    expect(await loadRequest(runtime.store, { threadId: fork.id, seq: last.seq, ...ref })).toEqual(await loadRequest(runtime.store, { threadId: thread.id, seq: last.seq, ...ref }));
  });

  it('keeps the request of a step whose every attempt failed on model_failed, readable through the thread', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: { maxRetries: 0 }, limits: { maxConsecutiveErrors: 1 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await runtime.runThread(thread.id);
    const [failed] = eventsOfType(await runtime.loadEvents(thread.id), 'model_failed');
    const stored = (await loadRequest(runtime.store, { threadId: thread.id, seq: failed!.seq, ref: failed!.data.request!.ref }))!;
    expect(stored.prompt.map((m) => m.role)).toEqual(['system', 'user']);
    expect(server.requests).toHaveLength(1);
  });

  it('reads TWELVE_MAX_PAYLOAD_BYTES (default 256 KiB) and names it when it is wrong', () => {
    expect(loadConfig({}).maxPayloadBytes).toBe(262_144);
    expect(loadConfig({ TWELVE_MAX_PAYLOAD_BYTES: '65536' }).maxPayloadBytes).toBe(65_536);
    expect(() => loadConfig({ TWELVE_MAX_PAYLOAD_BYTES: '12' })).toThrow(/TWELVE_MAX_PAYLOAD_BYTES: must be at least 1024 bytes/);
    expect(() => loadConfig({ TWELVE_MAX_PAYLOAD_BYTES: 'lots' })).toThrow(/TWELVE_MAX_PAYLOAD_BYTES/);
  });

  it('re-derives the request of a step recorded before requests were stored, and labels it so', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: settings });
    const { runtime } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_a', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'It shipped.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await runtime.runThread(thread.id);
    const events = await runtime.loadEvents(thread.id);

    // The same log as an older Twelve wrote it: no request on model_called.
    const old = events.map((e) => {
      const { request: _request, ...data } = e.data as Record<string, unknown>;
      return { type: e.type, data, releaseId: e.releaseId, at: e.at } as unknown as NewEvent;
    });
    await runtime.store.createThread({ id: 'th_old', agent: 'support', releaseId: events[0]!.releaseId, input: 'Where is A-1001?', events: old, summary: { status: 'completed', modelSteps: 2, inputTokens: 0, outputTokens: 0, costUsd: 0 } });

    const stored = await stepRequests(runtime.store, events);
    const derived = await stepRequests(runtime.store, await runtime.loadEvents('th_old'));
    expect(stored.map((s) => s.source)).toEqual(['stored', 'stored']);
    expect(derived.map((s) => s.source)).toEqual(['re-derived', 're-derived']);
    expect(derived[0]!.note).toMatch(/recorded before requests were stored: re-derived from the log with release/);
    expect(derived.map((s) => s.request)).toEqual(stored.map((s) => s.request));
  });

  it('twelve threads show --messages prints each step’s request and response (and --json)', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ modelSettings: settings });
    const { runtime, env } = makeRuntime({ agents: [agent], server });
    server.enqueue({ toolCalls: [{ id: 'call_a', name: 'lookup_order', arguments: { orderId: 'A-1001' } }] }, { text: 'It shipped.' });
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    await runtime.runThread(thread.id);

    const shown = await runCli(['threads', 'show', thread.id, '--messages'], { env });
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/── step 1 \(seq 2\) · openai:gpt-4o-2024-08-06 · release \S+ · stored request sha256:[0-9a-f]{64} \(\d+ (B|KB)\)/);
    expect(shown.stdout).toContain('settings: temperature 0, maxOutputTokens 300, toolChoice auto');
    expect(shown.stdout).toContain('tools offered: lookup_order');
    expect(shown.stdout).toMatch(/\[system\]\n {2}You help with orders/);
    expect(shown.stdout).toMatch(/\[user\]\n {2}Where is A-1001\?/);
    expect(shown.stdout).toMatch(/response: calls lookup_order \(call_a\) · finish tool-calls/);
    expect(shown.stdout).toMatch(/── step 2 [\s\S]*call lookup_order \{"orderId":"A-1001"\}[\s\S]*result of lookup_order: [\s\S]*response: answer · finish stop[\s\S]*It shipped\./);

    const json = await runCli(['threads', 'show', thread.id, '--messages', '--json'], { env });
    const parsed = JSON.parse(json.stdout);
    expect(parsed.thread.id).toBe(thread.id);
    expect(parsed.steps.map((s: { source: string; seq: number }) => [s.source, s.seq])).toEqual([['stored', 2], ['stored', 6]]);
    expect(parsed.steps[1].request.prompt.length).toBeGreaterThan(2);
  });

  it('stores requests and truncated results the same way on PostgreSQL', async () => {
    const db = await freshPostgresDatabase();
    const store = db.open();
    try {
      const server = await startServer();
      const big = defineTool({ name: 'export_rows', description: 'All rows', input: z.object({}), effect: 'pure', run: async () => ({ rows: 'r'.repeat(10_000) }) });
      const { agent } = supportAgent({ modelSettings: settings, tools: [big] });
      const { runtime } = makeRuntime({ agents: [agent], server, store, env: { TWELVE_MAX_PAYLOAD_BYTES: '2048' } });
      server.enqueue({ toolCalls: [{ id: 'call_x', name: 'export_rows', arguments: {} }] }, { text: 'Done.' });
      const thread = await runtime.launch({ agent: 'support', input: 'Export' });
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
      const events = await runtime.loadEvents(thread.id);
      const steps = await stepRequests(store, events);
      expect(steps.map((s) => s.source)).toEqual(['stored', 'stored']);
      const again = await startServer();
      again.enqueue({ text: 'x' }, { text: 'x' });
      const model = createOpenAI({ apiKey: testApiKey, baseURL: again.baseURL }).chat('gpt-4o-2024-08-06');
      for (const step of steps) await model.doGenerate(step.request!);
      expect(again.requests.map((r) => r.body)).toEqual(server.requests.map((r) => r.body));
      const [done] = eventsOfType(events, 'tool_succeeded');
      expect(done!.data.result).toMatch(/\[result truncated: 10 KB, first 2 KB shown; full result stored as blob sha256:/);
      expect(JSON.parse((await store.getBlob(done!.data.blob!.ref))!.data)).toEqual({ rows: 'r'.repeat(10_000) });
      await runtime.close();
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
});
