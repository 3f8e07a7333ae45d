/**
 * ContextBuilder.messages() is incremental (it keeps the flattened messages between
 * calls, so a step on a long thread does not re-walk the log). It must always equal a
 * from-scratch render of the same events, however calls to messages() interleave with
 * events: parallel calls, results out of order, prefetch, rejected answers, resumes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRelease } from '../src/agent/release.js';
import { defineAgent, defineTool, type NewEvent, type ThreadEvent } from '../src/index.js';
import { event } from '../src/thread/events.js';
import { ContextBuilder, defaultRenderContext } from '../src/thread/render-context.js';

const add = defineTool({ name: 'add', description: 'Add', input: z.object({ a: z.number() }), run: ({ a }) => a });
const release = createRelease(
  defineAgent({ name: 'builder', purpose: 'Exercise the context builder', model: 'scripted:builder', prompt: { text: 'Input: {{input}}' }, tools: [add] }),
);
const usage = { inputTokens: 1, outputTokens: 1 };

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomLog(seed: number): NewEvent[] {
  const random = rng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const log: NewEvent[] = [event('thread_started', { agent: 'builder', input: { n: seed } })];
  let open: string[] = [];
  let next = 0;
  if (random() < 0.3) {
    for (let i = 0; i < 1 + pick(2); i++) {
      const callId = `prefetch_${i + 1}`;
      log.push(event('tool_requested', { callId, tool: 'add', args: { a: i }, source: 'prefetch' }));
      open.push(callId);
    }
  }
  for (let step = 0; step < 40; step++) {
    const r = random();
    if (open.length > 0 && r < 0.6) {
      // Settle a random open call (out of order when several are open).
      const callId = open.splice(pick(open.length), 1)[0]!;
      if (random() < 0.5) log.push(event('tool_started', { callId, idempotencyKey: `k:${callId}`, attempt: 1 }));
      log.push(
        random() < 0.8
          ? event('tool_succeeded', { callId, result: random() < 0.5 ? next : `text ${next}`, durationMs: 1 })
          : event('tool_failed', { callId, error: { code: 'tool_error', message: 'boom' } }),
      );
    } else if (r < 0.85) {
      const calls = Array.from({ length: pick(3) }, () => ({ callId: `call_${next++}`, tool: 'add' }));
      log.push(
        event('model_called', {
          model: 'scripted:builder',
          attempt: 1,
          fallbackIndex: 0,
          latencyMs: 1,
          usage,
          costUsd: null,
          text: random() < 0.3 ? 'thinking' : '',
          toolCalls: calls,
          finishReason: calls.length ? 'tool-calls' : 'stop',
          contextMessages: 0,
        }),
      );
      for (const call of calls) log.push(event('tool_requested', { callId: call.callId, tool: 'add', args: { a: 1 }, source: 'model' }));
      open.push(...calls.map((c) => c.callId));
      if (calls.length === 0 && random() < 0.5) log.push(event('model_output_invalid', { text: '', error: { code: 'empty_answer', message: 'empty' } }));
    } else if (r < 0.95) {
      log.push(event('resumed', { by: 'ops', ...(random() < 0.5 ? { comment: 'go on' } : {}) }));
      open = [];
    } else {
      log.push(event('model_failed', { error: { code: 'model_call_failed', message: 'x' }, failures: [] }));
    }
  }
  return log;
}

describe('ContextBuilder.messages (incremental)', () => {
  it('equals a from-scratch render after every event, whenever it is called', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed * 7919);
      const builder = new ContextBuilder(release);
      const events: ThreadEvent[] = [];
      for (const e of randomLog(seed)) {
        const stored = { ...e, threadId: 'th', seq: events.length + 1, at: '2026-01-01T00:00:00.000Z', releaseId: 'rel' } as ThreadEvent;
        events.push(stored);
        builder.apply(stored);
        // Sometimes skip a call, so several events land between two calls.
        if (random() < 0.6) expect(builder.messages(), `seed ${seed}, after seq ${stored.seq}`).toEqual(defaultRenderContext(release, events));
      }
      expect(builder.messages(), `seed ${seed}, end`).toEqual(defaultRenderContext(release, events));
    }
  });

  it('returns a fresh array each time', () => {
    const builder = new ContextBuilder(release);
    builder.apply({ ...event('thread_started', { agent: 'builder', input: 'hi' }), threadId: 'th', seq: 1, at: '', releaseId: 'rel' } as ThreadEvent);
    const first = builder.messages();
    first.push({ role: 'user', content: [{ type: 'text', text: 'caller-owned' }] });
    expect(builder.messages()).toHaveLength(first.length - 1);
  });
});
