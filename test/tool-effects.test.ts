/**
 * Effects, declared: pure and idempotent tools take two commits per step (no tool_started)
 * and are simply run again after a crash, uncounted; an external tool's interrupted runs
 * count against its own maxAttempts, and past it a person says whether the call happened
 * ("happened", "did not happen", "retry"). Real SQLite files, and worker processes that
 * die by SIGKILL in the middle of a tool's run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../src/cli/format.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/types.js';
import type { ThreadEvent } from '../src/thread/events.js';
import { effectsAgent, effectsModels, runs, type EffectRun } from './fixtures/effects-agent.js';
import { expectTwelveError, ofType } from './support/hitl.js';
import { makeRuntime, testEnv, typesOf } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const repoRoot = join(import.meta.dirname, '..');

/** One worker process on the database in `dir`; resolves with its output and how it ended. */
function child(dir: string, env: Record<string, string>): Promise<{ output: string; signal: NodeJS.Signals | null; code: number | null }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/support/effects-crash-child.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv({ dbFile: join(dir, 'twelve.db') }), EFFECTS_RUNS_FILE: join(dir, 'runs.jsonl'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (chunk) => (output += chunk));
  proc.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => proc.on('close', (code, signal) => resolve({ output, code, signal })));
}

/** Runs a worker that dies inside `tool`; returns the thread id. */
async function killedIn(dir: string, tool: string, thread: { id?: string; input?: string }): Promise<string> {
  const result = await child(dir, { EFFECTS_KILL_IN: tool, ...(thread.id ? { EFFECTS_THREAD: thread.id } : {}), ...(thread.input ? { EFFECTS_INPUT: thread.input } : {}) });
  expect(result.signal, result.output).toBe('SIGKILL');
  return result.output.split('\n')[0]!.trim();
}

function childRuns(dir: string): EffectRun[] {
  const file = join(dir, 'runs.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as EffectRun) : [];
}

async function eventsIn(dir: string, threadId: string): Promise<ThreadEvent[]> {
  const store = openSqliteStore({ path: join(dir, 'twelve.db') });
  try {
    return await store.loadEvents(threadId);
  } finally {
    await store.close();
  }
}

/** The events of one call, by type, after its tool_requested. */
function callTypes(events: ThreadEvent[], callId: string): string[] {
  return events.filter((e) => (e.data as { callId?: string }).callId === callId).map((e) => e.type);
}

/** A store that counts its appends (one append = one commit). */
function countingStore(dbFile: string): { store: Store; appends: () => number } {
  const inner = openSqliteStore({ path: dbFile });
  let appends = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'append') return (...args: unknown[]) => (appends++, (value as (...a: unknown[]) => unknown).apply(target, args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, appends: () => appends };
}

describe('effects, declared', () => {
  it('writes exactly two commits per pure or idempotent tool step and three per external one', async () => {
    const dir = tempDir();
    const { store, appends } = countingStore(join(dir, 'twelve.db'));
    const { runtime } = makeRuntime({ agents: [effectsAgent], models: effectsModels, store, dir });
    for (const input of ['lookup', 'reserve', 'refund']) {
      const thread = await runtime.launch({ agent: 'effects', input });
      const before = appends();
      await runtime.runThread(thread.id);
      // The tool step: model_called + tool_requested (one commit), [tool_started], the outcome; then the final answer.
      expect(appends() - before, input).toBe(input === 'refund' ? 4 : 3);
      const events = await runtime.loadEvents(thread.id);
      expect(callTypes(events, 'call_1'), input).toEqual(input === 'refund' ? ['tool_requested', 'tool_started', 'tool_succeeded'] : ['tool_requested', 'tool_succeeded']);
      expect(events.find((e) => e.type === 'tool_requested')!.at).toBe(events.find((e) => e.type === 'model_called')!.at);
      expect((await runtime.getThread(thread.id))!.status).toBe('completed');
    }
    // The tools still get their key and attempt.
    expect(runs.slice(-3).map((r) => [r.tool, r.attempt, r.key.endsWith(':call_1')])).toEqual([
      ['lookup', 1, true],
      ['reserve', 1, true],
      ['refund', 1, true],
    ]);
  });

  it('runs an idempotent call again after each crash, uncounted, past its maxAttempts, with the same key', async () => {
    const dir = tempDir();
    // reserve allows 2 attempts; it is killed 3 times and still runs, because nothing counts its runs.
    const id = await killedIn(dir, 'reserve', { input: 'reserve' });
    await killedIn(dir, 'reserve', { id });
    await killedIn(dir, 'reserve', { id });
    expect(typesOf(await eventsIn(dir, id))).toEqual(['thread_started', 'model_called', 'tool_requested']);
    const last = await child(dir, { EFFECTS_THREAD: id });
    expect(last.output).toContain('completed');
    const events = await eventsIn(dir, id);
    expect(typesOf(events)).toEqual(['thread_started', 'model_called', 'tool_requested', 'tool_succeeded', 'model_called', 'thread_completed']);
    const reserves = childRuns(dir).filter((r) => r.tool === 'reserve');
    expect(reserves.map((r) => r.attempt)).toEqual([1, 1, 1, 1]);
    expect(new Set(reserves.map((r) => r.key))).toEqual(new Set([`${id}:call_1`]));
  });

  it('asks a person whether an external call happened once its runs were interrupted maxAttempts times', async () => {
    const dir = tempDir();
    const id = await killedIn(dir, 'refund', { input: 'refund' });
    await killedIn(dir, 'refund', { id });
    expect(childRuns(dir).map((r) => [r.tool, r.attempt])).toEqual([
      ['refund', 1],
      ['refund', 2],
    ]);
    const asked = await child(dir, { EFFECTS_THREAD: id });
    expect(asked.output).toContain('awaiting_human');
    expect(childRuns(dir)).toHaveLength(2); // not run a third time
    const events = await eventsIn(dir, id);
    expect(typesOf(events).slice(-3)).toEqual(['tool_started', 'tool_started', 'human_asked']);
    expect(events.at(-1)!.data).toEqual({
      callId: 'call_1',
      question: `Did refund(orderId: "A-1001", amountCents: 500) happen? The worker stopped 2 times while running it; its outcome was never recorded. Check the other system (idempotency key ${id}:call_1).`,
      urgency: 'high',
      options: ['happened', 'did not happen', 'retry'],
      about: 'interrupted_tool',
    });

    // Three copies of the same moment, one per answer.
    const answered = (answer: string) => {
      const copy = tempDir();
      copyFileSync(join(dir, 'twelve.db'), join(copy, 'twelve.db'));
      const { runtime } = makeRuntime({ agents: [effectsAgent], models: effectsModels, dir: copy, env: { TWELVE_HUMANS: 'alice=finance;bob=support' } });
      return { runtime, answer: () => runtime.answer(id, { by: 'alice', answer }) };
    };

    {
      const { runtime, answer } = answered('happened: refund R-9 in the provider dashboard');
      const waiting = (await runtime.getThread(id))!;
      expect(waiting.status).toBe('awaiting_human');
      expect(waiting.waitingReason).toBe('unconfirmed: did refund(orderId: "A-1001", amountCents: 500) happen? The worker stopped 2 times while running it (answer happened, did not happen or retry)');
      expect((await runtime.listWaiting()).map((t) => t.id)).toEqual([id]);
      const wrong = await expectTwelveError(runtime.answer(id, { by: 'alice', answer: 'yes' }), 'usage');
      expect(wrong.message).toContain('"happened", "did not happen", "retry"');
      // Saying it happened is a decision about the refund: only its approvers (finance) may.
      const forbidden = await expectTwelveError(runtime.answer(id, { by: 'bob', answer: 'happened' }), 'forbidden');
      expect(forbidden.message).toContain('bob may not say whether refund happened');
      const before = runs.length;
      await answer();
      await runtime.runThread(id);
      const thread = (await runtime.getThread(id))!;
      expect(thread.status).toBe('completed');
      expect(JSON.parse(thread.output as string)).toEqual({ refund: { happened: true, confirmedBy: 'alice', comment: 'refund R-9 in the provider dashboard' } });
      expect(runs.length).toBe(before); // not run again
      expect(ofType(await runtime.loadEvents(id), 'human_answered')[0]!.data).toEqual({ callId: 'call_1', answer: 'happened', by: 'alice', comment: 'refund R-9 in the provider dashboard' });
      await expectTwelveError(runtime.answer(id, { by: 'alice', answer: 'retry' }), 'conflict');
    }
    {
      const { runtime, answer } = answered('did not happen');
      const before = runs.length;
      await answer();
      await runtime.runThread(id);
      const thread = (await runtime.getThread(id))!;
      expect(thread.status).toBe('completed');
      expect(JSON.parse(thread.output as string)).toEqual({ refund: 'tool_interrupted: refund did not happen (confirmed by alice)' });
      expect(runs.length).toBe(before);
    }
    {
      const { runtime, answer } = answered('retry');
      const before = runs.length;
      await answer();
      await runtime.runThread(id);
      const thread = (await runtime.getThread(id))!;
      expect(thread.status).toBe('completed');
      expect(JSON.parse(thread.output as string)).toEqual({ refund: { refund: 'done', orderId: 'A-1001' } });
      // Run again with the same key, as attempt 3, with a fresh budget of attempts.
      expect(runs.slice(before)).toEqual([{ tool: 'refund', key: `${id}:call_1`, attempt: 3 }]);
      const events = await runtime.loadEvents(id);
      expect(callTypes(events, 'call_1')).toEqual(['tool_requested', 'tool_started', 'tool_started', 'human_asked', 'human_answered', 'tool_started', 'tool_succeeded']);
      // The timeline says what was asked and what the person decided.
      const timeline = renderTimeline((await runtime.getThread(id))!, events);
      expect(timeline).toContain('happened?    Did refund(orderId: "A-1001", amountCents: 500) happen?');
      expect(timeline).toContain('answer: happened | did not happen | retry');
      expect(timeline).toContain('retry        refund runs again (fresh attempts, same key)  by alice');
    }
  });

  it('gives a retried external call a fresh budget: killed maxAttempts times again, it asks again', async () => {
    const dir = tempDir();
    const id = await killedIn(dir, 'refund', { input: 'refund' });
    await killedIn(dir, 'refund', { id });
    expect((await child(dir, { EFFECTS_THREAD: id })).output).toContain('awaiting_human');
    {
      const { runtime } = makeRuntime({ agents: [effectsAgent], models: effectsModels, dir, env: { TWELVE_HUMANS: 'alice=finance' } });
      await runtime.answer(id, { by: 'alice', answer: 'retry' });
      await runtime.close();
    }
    await killedIn(dir, 'refund', { id });
    await killedIn(dir, 'refund', { id });
    expect((await child(dir, { EFFECTS_THREAD: id })).output).toContain('awaiting_human');
    expect(childRuns(dir).map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    const asked = ofType(await eventsIn(dir, id), 'human_asked');
    expect(asked).toHaveLength(2);
    expect(asked[1]!.data.question).toContain('The worker stopped 2 times');
  });
});
