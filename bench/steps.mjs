#!/usr/bin/env node
// Per-model-step overhead of agent frameworks.
//
// Workload, identical for every framework: one thread = a user message, then 9
// model turns that each call an `add` tool (args {a, b}, returns a + b), then a
// final text answer "done": 10 model steps per thread. 200 threads run one after
// another (after a few untimed warm-up threads). The model is an instant,
// deterministic in-process fake plugged in at each framework's OWN model
// interface (no HTTP), so what is measured is the framework's own cost per step:
// prompt assembly, tool dispatch, state/checkpoint handling, bookkeeping.
// Every thread's answers and tool results are checked; a wrong run fails loudly.
//
// Peers (each in a fresh child process, so peak RSS is per framework):
//   twelve         this project (peers/twelve.mjs), included when that file exists;
//                  durable on SQLite (WAL, synchronous=NORMAL), the add tool declared pure
//   ai-sdk         the AI SDK's own loop: generateText + tools with execute, in memory
//                  (not durable), MockLanguageModelV3 from ai/test as the model
//   langgraph      LangGraph.js ReAct agent + SqliteSaver on a real SQLite file (durable)
//   openai-agents  OpenAI Agents SDK, in memory (not durable), tracing off
//
// Usage: cd bench && npm install && node steps.mjs [--threads 200] [--warmup 5] [--baseline NAME]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { measureInChild, printTable } from './lib/measure.mjs';

const { values: opts } = parseArgs({
  options: {
    threads: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '5' },
    baseline: { type: 'string' },
  },
});

const peer = (name) => ({ name, file: new URL(`./peers/${name}.mjs`, import.meta.url).pathname });
const peers = [peer('twelve'), peer('ai-sdk'), peer('langgraph'), peer('openai-agents')].filter((p) => existsSync(p.file));
// Ratios read as "how many times Twelve's cost" once Twelve is there.
const baseline = opts.baseline ?? peers[0].name;
if (!peers.some((p) => p.name === baseline)) throw new Error(`--baseline ${baseline}: no such peer`);

const threads = Number(opts.threads);
const warmupThreads = Number(opts.warmup);
console.log(`workload: ${threads} threads x 10 model steps (9 add tool calls + final answer), ${warmupThreads} warm-up threads`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);

const rows = [];
let failed = false;
for (const p of peers) {
  // One at a time: on a small machine concurrent peers would steal each other's cores.
  process.stderr.write(`running ${p.name}...\n`);
  try {
    rows.push(await measureInChild({ ...p, threads, warmupThreads, turns: 9 }));
  } catch (err) {
    // A broken or invalid peer must not hide the others' numbers, but must fail the run.
    failed = true;
    console.error(err.message);
  }
}
if (rows.length) printTable(rows, { baseline });
// The goals of issue 9: durable Twelve at most as costly per step as the AI SDK's in-memory
// loop, and at most a fifth of LangGraph with its SQLite checkpointer.
const ms = Object.fromEntries(rows.map((r) => [r.name, r.msPerStep]));
if (ms.twelve !== undefined) {
  const against = [
    ['ai-sdk', 1.0],
    ['langgraph', 0.2],
  ].filter(([name]) => ms[name] !== undefined);
  if (against.length) console.log('');
  for (const [name, goal] of against) {
    const ratio = ms.twelve / ms[name];
    console.log(`twelve / ${name}: ${ratio.toFixed(2)}x (goal <= ${goal.toFixed(1)}x) ${ratio <= goal ? 'met' : 'NOT met'}`);
  }
}
process.exitCode = failed ? 1 : 0;
