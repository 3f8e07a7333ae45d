// Twelve peer: this project, built (npm run build at the root) and imported from
// dist/. Durable: every event is committed to a real SQLite file (WAL,
// synchronous=NORMAL, the default) before the next action runs. The fake sits at
// Twelve's own model interface (a scripted LanguageModelV3 in the registry), so
// decide/render/tool dispatch/append all run as with a real model.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SqliteStore, createRuntime, defineAgent, defineTool, foldEvents, scriptedModel } from '../../dist/index.js';
import { checkThread, nextMove, stepsPerThread } from '../lib/script.mjs';

const add = defineTool({
  name: 'add',
  description: 'Add two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  run: async ({ a, b }) => a + b,
});

/** Tool results the model holds: tool-result parts of the prompt's tool messages. */
export function countToolResults(prompt) {
  let n = 0;
  for (const m of prompt) if (m.role === 'tool') for (const part of m.content) if (part.type === 'tool-result') n++;
  return n;
}

/** The shared fake (bench/lib/script.mjs) at Twelve's model interface. */
export function benchModel(turns) {
  return scriptedModel(
    (request) => {
      const move = nextMove(countToolResults(request.prompt), turns);
      return move.call ? { toolCalls: [{ tool: 'add', args: move.call, callId: `call_${move.call.a}` }] } : { text: move.text };
    },
    { recordCalls: false },
  );
}

export function benchAgent(turns) {
  return defineAgent({
    name: 'adder',
    purpose: 'Add numbers.',
    model: 'scripted:bench',
    prompt: { text: 'Add numbers.' },
    tools: [add],
    // Default maxSteps is 20; leave headroom for long workloads.
    limits: { maxSteps: Math.max(20, turns + 5) },
  });
}

/** A runtime on a fresh SQLite file in `dir`. */
export function benchRuntime({ turns, dir }) {
  const dbPath = join(mkdtempSync(join(dir, 'twelve-')), 'twelve.db');
  const runtime = createRuntime({
    agents: [benchAgent(turns)],
    models: { 'scripted:bench': benchModel(turns) },
    env: { TWELVE_DATABASE_URL: `sqlite:${dbPath}` },
  });
  return { runtime, dbPath };
}

/** The tool results a thread's events hold, in order (numbers come back as JSON values). */
export function toolOutputsOf(events) {
  return events.filter((e) => e.type === 'tool_succeeded').map((e) => e.data.result);
}

export async function runWorkload({ threads, turns, workDir }) {
  // A fresh database file per call, so warm-up and timed runs never share threads.
  const { runtime, dbPath } = benchRuntime({ turns, dir: workDir });
  // The in-memory view of each thread's results, from events as they are committed.
  let toolOutputs = [];
  runtime.subscribe((e) => {
    if (e.type === 'tool_succeeded') toolOutputs.push(e.data.result);
    else if (e.type === 'tool_failed') toolOutputs.push(`failed: ${e.data.error.message}`);
  });

  let lastId;
  const t0 = performance.now();
  for (let t = 0; t < threads; t++) {
    toolOutputs = [];
    const { id } = await runtime.launch({ agent: 'adder', input: `Add up, thread ${t}.` });
    const { thread, outcome } = await runtime.runThread(id);
    if (outcome !== 'completed') throw new Error(`${id}: outcome ${outcome} (${JSON.stringify(thread.error)})`);
    checkThread(id, { finalText: thread.output, toolOutputs }, turns);
    if (thread.modelSteps !== stepsPerThread(turns)) throw new Error(`${id}: ${thread.modelSteps} model steps, expected ${stepsPerThread(turns)}`);
    lastId = id;
  }
  const elapsedMs = performance.now() - t0;
  await runtime.close();

  // Durability check: the last thread must read back complete from the SQLite file,
  // through a separate connection.
  const store = new SqliteStore({ path: dbPath, mustExist: true });
  const events = await store.loadEvents(lastId);
  const state = foldEvents(lastId, events);
  await store.close();
  if (state.status !== 'completed' || state.output !== 'done') throw new Error(`twelve: last thread reads back as ${state.status} from SQLite`);
  checkThread(lastId, { finalText: state.output, toolOutputs: toolOutputsOf(events) }, turns);
  return { modelSteps: threads * stepsPerThread(turns), elapsedMs };
}
