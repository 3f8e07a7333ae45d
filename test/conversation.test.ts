/**
 * Conversations through the real runtime: a completed thread takes the user's next message
 * (message_added), the model reads turn 1's question and answer before turn 2's text (seen in
 * the request the scripted OpenAI-compatible server receives), a new runtime on the same
 * store continues it, failed/cancelled and unfinished threads refuse a message, a retried
 * messageId is recorded once, and a long conversation's request stays within the window while
 * every turn stays in the log.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import type { Store } from '../src/store/types.js';
import { runPrune } from '../src/retention/prune.js';
import { ContextBuilder, defaultRenderContext } from '../src/thread/render-context.js';
import { replayThread } from '../src/replay/replay-thread.js';
import { supportAgent } from './support/agents.js';
import { expectTwelveError } from './support/hitl.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { eventsOfType, makeRuntime, messagesOf, startServer, testEnv } from './support/runtime.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';
import { tempDir } from './support/temp-dir.js';

/** Chat messages as role: text lines (tool messages and calls left out), to compare whole transcripts. */
function transcript(messages: Array<Record<string, any>>): string[] {
  return messages
    .filter((m) => m.role !== 'tool' && typeof m.content === 'string')
    .map((m) => `${m.role}: ${m.content}`);
}

async function turn(runtime: Runtime, server: ScriptedServer, threadId: string, text: string, answer: string) {
  await runtime.say(threadId, { by: 'alice', text });
  server.enqueue({ text: answer });
  const { thread, outcome } = await runtime.runThread(threadId);
  expect(outcome).toBe('completed');
  return thread;
}

async function twoTurns(runtime: Runtime, server: ScriptedServer) {
  const thread = await runtime.launch({ agent: 'support', input: 'Where is order A-1001?' });
  server.enqueue({ text: 'It shipped on Monday.' });
  expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
  const said = await runtime.say(thread.id, { by: 'alice', text: 'Which carrier?', messageId: 'm-2' });
  expect(said).toMatchObject({ added: true, thread: { status: 'runnable' } });
  server.enqueue({ text: 'DHL.' });
  const { thread: done, outcome } = await runtime.runThread(thread.id);
  expect(outcome).toBe('completed');
  expect(done.output).toBe('DHL.');
  return thread.id;
}

describe('a conversation continues a completed thread', () => {
  it('shows the model turn 1 question and answer before turn 2 text, and completes again', async () => {
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const id = await twoTurns(runtime, server);

    expect(server.requests).toHaveLength(2);
    expect(transcript(messagesOf(server.requests[1])).slice(1)).toEqual(['user: Where is order A-1001?', 'assistant: It shipped on Monday.', 'user: Which carrier?']);
    const events = await runtime.loadEvents(id);
    expect(eventsOfType(events, 'thread_completed').map((e) => e.data.output)).toEqual(['It shipped on Monday.', 'DHL.']);
    expect(eventsOfType(events, 'message_added')[0]!.data).toEqual({ text: 'Which carrier?', by: 'alice', messageId: 'm-2' });
  });

  it('continues after a restart: a new runtime on the same SQLite file reads the history from the log', async () => {
    const server = await startServer();
    const dir = tempDir();
    const first = makeRuntime({ agents: [supportAgent().agent], server, dir });
    const thread = await first.runtime.launch({ agent: 'support', input: 'Where is order A-1001?' });
    server.enqueue({ text: 'It shipped on Monday.' });
    await first.runtime.runThread(thread.id);
    await first.runtime.say(thread.id, { by: 'alice', text: 'Which carrier?' });
    await first.runtime.close();

    const second = makeRuntime({ agents: [supportAgent().agent], server, dir });
    server.enqueue({ text: 'DHL.' });
    expect((await second.runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(transcript(messagesOf(server.requests[1])).slice(1)).toEqual(['user: Where is order A-1001?', 'assistant: It shipped on Monday.', 'user: Which carrier?']);
    await turn(second.runtime, server, thread.id, 'Thanks!', 'You are welcome.');
    expect(transcript(messagesOf(server.requests[2])).slice(-2)).toEqual(['assistant: DHL.', 'user: Thanks!']);
  });

  it('works the same on PostgreSQL (the status column is updated on append, the worker claims the next turn)', async () => {
    const server = await startServer();
    const database = await freshPostgresDatabase();
    let store: Store | undefined;
    let runtime: Runtime | undefined;
    try {
      store = database.open();
      runtime = createRuntime({ agents: [supportAgent().agent], store, retryBaseMs: 1, env: testEnv({ dbFile: '/nonexistent', server }) });
      const id = await twoTurns(runtime, server);
      expect(transcript(messagesOf(server.requests[1])).slice(1)).toEqual(['user: Where is order A-1001?', 'assistant: It shipped on Monday.', 'user: Which carrier?']);
      // A worker picks the next turn up by itself (claim on the status column).
      const worker = runtime.startWorker({ pollMs: 20 });
      server.enqueue({ text: 'Tomorrow.' });
      await runtime.say(id, { by: 'alice', text: 'When will it arrive?' });
      await expect.poll(async () => (await runtime!.getThread(id))?.status, { timeout: 10_000 }).toBe('completed');
      await worker.stop();
      expect((await runtime.getThread(id))?.output).toBe('Tomorrow.');
      // Retention read it at an earlier seq (before the last turn): the prune skips it.
      expect((await store.pruneThreads([id], { [id]: 6 })).skipped).toEqual([id]);
      expect((await store.pruneThreads([id], { [id]: (await runtime.getThreadOrThrow(id)).seq })).threads).toBe(1);
    } finally {
      await runtime?.close();
      await store?.close();
      await database.cleanup();
    }
  });
});

describe('a conversation across releases', () => {
  it('records the move to the new release before the message, so the next turn runs on it knowingly', async () => {
    const server = await startServer();
    const dir = tempDir();
    const first = makeRuntime({ agents: [supportAgent().agent], server, dir });
    const thread = await first.runtime.launch({ agent: 'support', input: 'Where is order A-1001?' });
    server.enqueue({ text: 'It shipped on Monday.' });
    await first.runtime.runThread(thread.id);
    const oldRelease = first.runtime.release('support').releaseId;
    await first.runtime.close();

    const changed = supportAgent({ prompt: { text: 'You help with orders, briefly. Tools:\n{{tools}}' } });
    const second = makeRuntime({ agents: [changed.agent], server, dir });
    await second.runtime.say(thread.id, { by: 'alice', text: 'Which carrier?' });
    const events = await second.runtime.loadEvents(thread.id);
    expect(events.slice(-2).map((e) => e.type)).toEqual(['release_changed', 'message_added']);
    expect(eventsOfType(events, 'release_changed')[0]!.data).toMatchObject({ from: oldRelease, to: second.runtime.release('support').releaseId, decision: 'continue' });
    server.enqueue({ text: 'DHL.' });
    expect((await second.runtime.runThread(thread.id)).outcome).toBe('completed');
  });
});

describe('what a message is refused for', () => {
  it('refuses failed and cancelled threads, and a thread that has not completed yet, with 409 codes saying why', async () => {
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const pending = await runtime.launch({ agent: 'support', input: 'Where is order A-1001?' });
    const notYet = await expectTwelveError(runtime.say(pending.id, { by: 'alice', text: 'Hello?' }), 'conflict');
    expect(notYet.message).toMatch(/still working on its answer.*only once it has completed/);

    await runtime.cancel(pending.id, { by: 'alice' });
    const cancelled = await expectTwelveError(runtime.say(pending.id, { by: 'alice', text: 'Hello?' }), 'thread_not_runnable');
    expect(cancelled.message).toMatch(/cancelled thread cannot be continued/);
    expect(cancelled.exitCode).toBe(5);

    await expectTwelveError(runtime.say(pending.id, { by: 'alice', text: '   ' }), 'usage');
    expect(eventsOfType(await runtime.loadEvents(pending.id), 'message_added')).toHaveLength(0);
  });

  it('records a retried messageId once, and refuses the same id with another text', async () => {
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const id = await twoTurns(runtime, server);
    // The same send again, after the thread answered it: nothing new is recorded.
    const again = await runtime.say(id, { by: 'alice', text: 'Which carrier?', messageId: 'm-2' });
    expect(again.added).toBe(false);
    expect(again.thread.status).toBe('completed');
    await expectTwelveError(runtime.say(id, { by: 'alice', text: 'Something else', messageId: 'm-2' }), 'conflict');
    expect(eventsOfType(await runtime.loadEvents(id), 'message_added')).toHaveLength(1);
  });
});

describe('a long conversation', () => {
  it('keeps the request within maxContextTokens by leaving out whole early turns, which stay in the log', async () => {
    const server = await startServer();
    const maxContextTokens = 700;
    const { agent } = supportAgent({ tools: [], limits: { maxContextTokens } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'Let us talk about order A-1001.' });
    server.enqueue({ text: 'Sure.' });
    await runtime.runThread(thread.id);
    const turns = 16;
    for (let n = 2; n <= turns; n++) await turn(runtime, server, thread.id, `Question ${n}: ${'tell me more about the parcel. '.repeat(6)}`, `Answer ${n}: ${'it is on its way. '.repeat(6)}`);

    const sizes = server.requests.map((request) => messagesOf(request).reduce((sum, m) => sum + JSON.stringify(m.content).length, 0));
    // The window's estimate is one token per 3 characters of message JSON: every request fits.
    for (const size of sizes) expect(size / 3).toBeLessThan(maxContextTokens);
    const last = transcript(messagesOf(server.requests.at(-1)));
    expect(last[1]).toBe('user: Let us talk about order A-1001.');
    expect(last[2]).toMatch(/^user: \(\d+ earlier turns of this conversation are omitted here/);
    expect(last.at(-1)).toMatch(/^user: Question 16/);
    // Whole turns: after the note, a user message (a turn's start) comes first.
    expect(last[3]).toMatch(/^user: Question/);
    // The window moves in blocks: consecutive requests often share their start (prompt caching).
    const starts = server.requests.map((request) => JSON.stringify(messagesOf(request).slice(0, 4)));
    const moves = starts.filter((start, i) => i > 0 && start !== starts[i - 1]).length;
    expect(moves).toBeLessThan(turns / 2);
    // Nothing is lost: every turn is in the log.
    const events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'message_added')).toHaveLength(turns - 1);
    expect(eventsOfType(events, 'thread_completed')).toHaveLength(turns);
    // The window is a function of the log: a builder read after every event (a worker holding the
    // thread) and one fold of the whole log (a worker picking it up, a replay) give the same messages.
    const release = runtime.release('support');
    const held = new ContextBuilder(release);
    for (const e of events) {
      held.apply(e);
      held.messages();
    }
    expect(held.messages()).toEqual(defaultRenderContext(release, events));
    // A replay re-derives every turn's windowed request and finds them the same.
    const replay = await replayThread({ store: runtime.store, threadId: thread.id, candidate: release });
    expect(replay).toMatchObject({ outcome: 'same', stepsCompared: turns });
  });

  it('counts maxSteps per turn, tokens and cost per thread', async () => {
    const server = await startServer();
    const { agent } = supportAgent({ tools: [], limits: { maxSteps: 1 } });
    const { runtime } = makeRuntime({ agents: [agent], server });
    const thread = await runtime.launch({ agent: 'support', input: 'Hi' });
    server.enqueue({ text: 'Hello.' });
    await runtime.runThread(thread.id);
    // A second model step would breach a per-thread limit of 1; per turn it is the turn's first.
    const done = await turn(runtime, server, thread.id, 'How are you?', 'Fine.');
    expect(done.modelSteps).toBe(2);
  });
});

describe('retention', () => {
  it('does not delete a thread that got a message after it was read for pruning', async () => {
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: [supportAgent().agent], server });
    const id = await twoTurns(runtime, server);
    const store = runtime.store;
    // A prune that read the thread at its current seq, then the conversation moved on (and completed again).
    const read = (await runtime.getThreadOrThrow(id)).seq;
    await turn(runtime, server, id, 'Thanks!', 'Welcome.');
    const counts = await store.pruneThreads([id], { [id]: read });
    expect(counts.skipped).toEqual([id]);
    expect(await runtime.getThread(id)).toBeDefined();
    // Read at its real seq, it goes.
    const report = await runPrune({ store, before: new Date(Date.now() + 60_000).toISOString(), archive: null });
    expect(report.threads).toBe(1);
  });
});
