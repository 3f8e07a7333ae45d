// Twelve peer: this project, built (npm run build at the root) and imported from
// dist/. Durable: every event is committed to a real SQLite file (WAL,
// synchronous=NORMAL, the defaults) before the next action runs. The fake sits
// at Twelve's own model interface (a scripted LanguageModelV3 passed to
// createRuntime), so decide, context rendering, tool dispatch and appends all
// run as they would with a real model.
import { SqliteStore, foldEvents } from '../../dist/index.js';
import { checkThread, stepsPerThread } from '../lib/script.mjs';
import { adderAgent, adderModel, sqliteRuntime, toolOutputsOf } from '../lib/twelve.mjs';

export async function runWorkload({ threads, turns, workDir }) {
  // A fresh database file per call, so warm-up and timed runs never share threads.
  const { runtime, dbPath } = sqliteRuntime({
    dir: workDir,
    agents: [adderAgent({ maxSteps: Math.max(20, turns + 5) })],
    models: { 'scripted:bench': adderModel(turns) },
  });
  // Each thread's tool results, as committed (subscribers see events right after the append).
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

  // Durability check: the last thread reads back complete from the SQLite file,
  // through a new connection.
  const store = new SqliteStore({ path: dbPath, mustExist: true });
  const events = await store.loadEvents(lastId);
  await store.close();
  const state = foldEvents(lastId, events);
  if (state.status !== 'completed') throw new Error(`twelve: last thread reads back as ${state.status} from SQLite`);
  checkThread(lastId, { finalText: state.output, toolOutputs: toolOutputsOf(events) }, turns);
  return { modelSteps: threads * stepsPerThread(turns), elapsedMs };
}
