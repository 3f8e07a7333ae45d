#!/usr/bin/env node
// Does a step cost more on a long thread? Twelve keeps the folded state (and an
// incremental context builder) for as long as a worker holds a thread's lease, so a
// step should cost the same on a thread of 10 events and one of 10,000; only picking
// a thread up (claim + one fold of its log) should grow with its length.
//
// Same workload as steps.mjs (10 model steps: 9 `add` calls + "done", durable
// SQLite file), run on:
//   - fresh threads (1 event: thread_started), and
//   - threads that already hold ~1,000 and ~5,000 events (333 and 1,667 earlier
//     add turns, then stopped between steps, so the measured run is a new claim).
// Printed per thread length (medians over the threads):
//   ms/step       model steps within the claim: first model call to final commit, / 10
//   fake          of which the fake model's own time: it counts the tool results in
//                 the prompt it is handed, which is O(thread length) by design (any
//                 real provider serialises the whole prompt too)
//   Twelve        ms/step minus the fake: the runtime's own cost per step
//   claim+fold    runThread() up to the first model call: read the thread, claim the
//                 lease, load and fold the whole log, render the first context
// A second table follows ONE claim driving one thread from 1 to ~10,000 events: the
// runtime's ms per model step by how long the log already was.
// Every thread is checked afterwards from the log (completed, "done", every add result).
//
// Usage: node long-thread.mjs [--threads 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkThread } from './lib/script.mjs';
import { printRows } from './lib/table.mjs';
import { adderAgent, adderModel, sqliteRuntime, toolOutputsOf } from './lib/twelve.mjs';

const { values: opts } = parseArgs({ options: { threads: { type: 'string', default: '20' } } });
const threadsPerSize = Number(opts.threads);
const MORE_TURNS = 9; // the measured workload: 9 add calls + "done" = 10 model steps
const STEPS = MORE_TURNS + 1;
const EVENTS_PER_TURN = 3; // model_called, tool_requested, tool_succeeded (add is pure: no tool_started)
const sizes = [0, 333, 1667]; // earlier add turns: 1, ~1,000 and ~5,000 events
const GROWTH_TURNS = 3333; // second table: one claim, 1 -> ~10,000 events

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = (x) => x.toLocaleString('en-US');

const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-long-'));
try {
  // One agent (and fake) per total length: the fake answers "done" after prefill + 9 results.
  const agentName = (turns) => `adder-${turns}`;
  const modelId = (turns) => `scripted:adder-${turns}`;
  let firstCallAt; // the first model call of the claim being timed
  let callTimes; // when set: the start of every model call (growth table)
  const fakeTime = { ms: 0, calls: undefined };
  const onCall = () => {
    const now = performance.now();
    firstCallAt ??= now;
    callTimes?.push(now);
  };
  const totalTurns = [...new Set([...sizes.map((s) => s + MORE_TURNS), GROWTH_TURNS])];
  const { runtime } = sqliteRuntime({
    dir: workDir,
    agents: totalTurns.map((turns) => adderAgent({ name: agentName(turns), model: modelId(turns), maxSteps: turns + 10 })),
    models: Object.fromEntries(totalTurns.map((turns) => [modelId(turns), adderModel(turns, onCall, fakeTime)])),
  });

  const stopAt = new Map(); // threadId -> { results, controller }: prefill stops after that many results
  let lastCommitAt; // when the latest event was committed (subscribers hear right after the append)
  runtime.subscribe((e) => {
    lastCommitAt = performance.now();
    const stop = stopAt.get(e.threadId);
    if (stop && e.type === 'tool_succeeded' && --stop.results === 0) stop.controller.abort();
  });

  // Warm-up (untimed): complete fresh threads, so the JIT has settled.
  for (let i = 0; i < 30; i++) {
    const { id } = await runtime.launch({ agent: agentName(MORE_TURNS), input: `warm-up ${i}` });
    await runtime.runThread(id);
  }
  process.stderr.write(`prefilling ${threadsPerSize} threads per length...\n`);
  const threads = []; // { id, size }
  for (let i = 0; i < threadsPerSize; i++) {
    for (const size of sizes) {
      const { id } = await runtime.launch({ agent: agentName(size + MORE_TURNS), input: `Add up, ${size} turns done before, thread ${i}.` });
      if (size > 0) {
        const controller = new AbortController();
        stopAt.set(id, { results: size, controller });
        const { outcome, thread } = await runtime.runThread(id, { stop: controller.signal });
        stopAt.delete(id);
        if (outcome !== 'interrupted' || thread.seq !== 1 + size * EVENTS_PER_TURN) throw new Error(`${id}: prefill ended ${outcome} at seq ${thread.seq}`);
      }
      threads.push({ id, size });
    }
  }

  // Timed, round-robin over lengths (the order above), so drift on a busy machine hits all alike.
  const bySize = new Map(sizes.map((s) => [s, { stepMs: [], fakeMs: [], ownMs: [], claimMs: [], events: 0 }]));
  for (const { id, size } of threads) {
    const before = (await runtime.getThread(id)).seq;
    firstCallAt = undefined;
    fakeTime.ms = 0;
    const t0 = performance.now();
    const { outcome } = await runtime.runThread(id);
    if (outcome !== 'completed') throw new Error(`${id}: ${outcome}`);
    const row = bySize.get(size);
    row.events = before;
    row.claimMs.push(firstCallAt - t0);
    const stepMs = (lastCommitAt - firstCallAt) / STEPS;
    row.stepMs.push(stepMs);
    row.fakeMs.push(fakeTime.ms / STEPS);
    row.ownMs.push(stepMs - fakeTime.ms / STEPS);
  }

  // Growth: one claim takes one thread from 1 to ~10,000 events.
  const growthEvents = 1 + GROWTH_TURNS * EVENTS_PER_TURN + 2;
  process.stderr.write(`one claim, 1 -> ${n(growthEvents)} events...\n`);
  const { id: growthId } = await runtime.launch({ agent: agentName(GROWTH_TURNS), input: 'Add up, one long claim.' });
  callTimes = [];
  fakeTime.calls = [];
  const { outcome: growthOutcome } = await runtime.runThread(growthId);
  if (growthOutcome !== 'completed') throw new Error(`${growthId}: ${growthOutcome}`);
  // Step i: from model call i to model call i+1 (the last one: to the final commit).
  const stepTimes = callTimes.map((t, i) => (i + 1 < callTimes.length ? callTimes[i + 1] : lastCommitAt) - t);
  const fakeTimes = fakeTime.calls;
  callTimes = undefined;
  fakeTime.calls = undefined;

  // Check every thread from its log (untimed).
  for (const { id, size } of [...threads, { id: growthId, size: GROWTH_TURNS - MORE_TURNS }]) {
    const events = await runtime.loadEvents(id);
    const last = events.at(-1);
    checkThread(id, { finalText: last.type === 'thread_completed' ? last.data.output : last.type, toolOutputs: toolOutputsOf(events) }, size + MORE_TURNS);
  }
  await runtime.close();

  console.log(`workload: 10 model steps (9 add calls + "done") per claim, durable SQLite; ${threadsPerSize} threads per length, medians`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
  const fresh = bySize.get(0);
  printRows(
    ['events before the claim', 'ms/step', 'fake', 'Twelve', 'Twelve vs fresh', 'claim+fold ms', 'fold µs/event'],
    sizes.map((size) => {
      const r = bySize.get(size);
      const claim = median(r.claimMs);
      const perEvent = size === 0 ? '-' : (((claim - median(fresh.claimMs)) * 1000) / (r.events - fresh.events)).toFixed(2);
      return [
        n(r.events),
        median(r.stepMs).toFixed(3),
        median(r.fakeMs).toFixed(3),
        median(r.ownMs).toFixed(3),
        `${(median(r.ownMs) / median(fresh.ownMs)).toFixed(2)}x`,
        claim.toFixed(2),
        perEvent,
      ];
    }),
  );

  console.log(`\none claim driving one thread from 1 to ${n(growthEvents)} events (${n(stepTimes.length)} model steps; step i starts with 1+4i events):`);
  const windows = 5;
  const per = Math.ceil(stepTimes.length / windows);
  const rows = [];
  for (let w = 0; w < windows; w++) {
    const from = w * per;
    const to = Math.min(stepTimes.length, from + per);
    const mean = (xs) => xs.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    rows.push({ from, to, all: mean(stepTimes), fake: mean(fakeTimes) });
  }
  printRows(
    ['events in the log', 'ms/step', 'fake', 'Twelve', 'Twelve vs first window'],
    rows.map((r) => [
      `${n(1 + r.from * EVENTS_PER_TURN)} - ${n(1 + r.to * EVENTS_PER_TURN)}`,
      r.all.toFixed(3),
      r.fake.toFixed(3),
      (r.all - r.fake).toFixed(3),
      `${((r.all - r.fake) / (rows[0].all - rows[0].fake)).toFixed(2)}x`,
    ]),
  );
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
