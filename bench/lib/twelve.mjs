// Twelve helpers shared by the Twelve peer and the Twelve-only benchmarks: the
// `add` tool, an agent, the shared fake (lib/script.mjs) at Twelve's own model
// interface, and a runtime on a durable SQLite file. Uses the BUILT library
// (npm run build at the root), exactly as a user's project would.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
// The library's own zod (one copy, as in a project that installs both).
import { z } from '../../node_modules/zod/index.js';
import { createRuntime, defineAgent, defineTool, scriptedModel } from '../../dist/index.js';
import { nextMove } from './script.mjs';

export const addTool = defineTool({
  name: 'add',
  description: 'Add two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  // Pure: a re-run is harmless, so the step takes two commits (no tool_started).
  effect: 'pure',
  run: async ({ a, b }) => a + b,
});

/** Tool results the model holds: the tool-result parts of the prompt's tool messages. */
export function countToolResults(prompt) {
  let n = 0;
  for (const m of prompt) if (m.role === 'tool') for (const part of m.content) if (part.type === 'tool-result') n++;
  return n;
}

/**
 * The shared fake: add({a: i, b: 1}) while it holds fewer than `turns` tool results,
 * then "done". Optional `onCall` sees every call (for timing); optional `fakeTime`
 * ({ ms, calls? }) accumulates the time the fake itself spends (counting results is
 * O(prompt)), and lists it per call when it has a `calls` array.
 */
export function adderModel(turns, onCall, fakeTime) {
  return scriptedModel(
    (request) => {
      const t0 = fakeTime && performance.now();
      onCall?.(request);
      const move = nextMove(countToolResults(request.prompt), turns);
      const reply = move.call ? { toolCalls: [{ tool: 'add', args: move.call, callId: `call_${move.call.a}` }] } : { text: move.text };
      if (fakeTime) {
        const ms = performance.now() - t0;
        fakeTime.ms += ms;
        fakeTime.calls?.push(ms);
      }
      return reply;
    },
    { recordCalls: false },
  );
}

/** An agent that adds with the `add` tool; `maxSteps` leaves room for long threads (default limit: 20). */
export function adderAgent({ name = 'adder', model = 'scripted:bench', maxSteps = 20 } = {}) {
  return defineAgent({ name, purpose: 'Add numbers.', model, prompt: { text: 'Add numbers.' }, tools: [addTool], limits: { maxSteps } });
}

/** A runtime on a fresh, durable SQLite file (WAL, synchronous=NORMAL: the defaults) under `dir`. */
export function sqliteRuntime({ dir, agents, models }) {
  const dbPath = join(mkdtempSync(join(dir, 'twelve-')), 'twelve.db');
  const runtime = createRuntime({ agents, models, env: { TWELVE_DATABASE_URL: `sqlite:${dbPath}` } });
  return { runtime, dbPath };
}

/** The tool results a thread's events hold, in order. */
export function toolOutputsOf(events) {
  return events.filter((e) => e.type === 'tool_succeeded' || e.type === 'tool_failed').map((e) => (e.type === 'tool_succeeded' ? e.data.result : `failed: ${e.data.error.message}`));
}
