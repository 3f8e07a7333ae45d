#!/usr/bin/env node
// Per-step cost of OpenTelemetry tracing (issue 11): the steps.mjs workload (200 threads x 10
// model steps: 9 `add` tool calls + a final answer, instant scripted model, durable SQLite), run
//   baseline      the library of another commit (--baseline-root, e.g. a copy of the commit before
//                 tracing, built with `npx tsc -p tsconfig.build.json`), tracing variables unset
//   off           this checkout, no OTEL_* variable (the SDK is never imported)
//   on            OTEL_EXPORTER_OTLP_ENDPOINT -> a no-op OTLP/HTTP receiver in this process
//                 (segment, step, model and tool spans, batched, exported over real HTTP)
//   on, sampled 0 the same with OTEL_TRACES_SAMPLER=always_off (spans made, none recorded)
// Each case runs in a fresh child process, --rounds times interleaved (so drift on a shared machine
// hits every case alike); the table shows the median ms/step and each case against `off`/baseline.
// The goal: `off` within 5% of the baseline.
//
// Usage: npm run build && node bench/tracing.mjs [--threads 200] [--warmup 5] [--rounds 5] [--baseline-root DIR]
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, printRows } from './lib/table.mjs';

const { values: opts } = parseArgs({
  options: {
    threads: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    'baseline-root': { type: 'string' },
  },
});
const here = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./lib/tracing-child.mjs', import.meta.url));
const baselineRoot = opts['baseline-root'];
if (baselineRoot && !existsSync(join(baselineRoot, 'dist/index.js'))) throw new Error(`--baseline-root ${baselineRoot}: no dist/index.js there (build it first)`);

// The no-op collector: accepts every export (and counts the spans' bytes, so "on" provably exported).
let exports = 0;
let exportedBytes = 0;
const receiver = createServer((req, res) => {
  req.on('data', (chunk) => (exportedBytes += chunk.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${receiver.address().port}`;

const cases = [
  ...(baselineRoot ? [{ name: 'baseline (commit before)', root: baselineRoot, env: {} }] : []),
  { name: 'off', root: here, env: {} },
  { name: 'on (OTLP/HTTP)', root: here, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'bench' } },
  { name: 'on, sampled 0', root: here, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_off' } },
];

function childEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(OTEL_|TWELVE_|OPENAI_|ANTHROPIC_)/.test(key) || key === 'NODE_OPTIONS') delete env[key];
  return env;
}

async function runOnce(c) {
  const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-tracing-'));
  try {
    const payload = { threads: Number(opts.threads), warmupThreads: Number(opts.warmup), turns: 9, workDir, env: c.env };
    const msg = await new Promise((resolve, reject) => {
      const child = fork(CHILD, [c.root, JSON.stringify(payload)], { env: childEnv(), execArgv: [] });
      let reply;
      child.on('message', (m) => (reply = m));
      child.on('error', reject);
      child.on('exit', (code) => (reply ? resolve(reply) : reject(new Error(`${c.name}: child exited (${code}) without a result`))));
    });
    if (!msg.ok) throw new Error(`${c.name} failed:\n${msg.error}`);
    return { msPerStep: msg.elapsedMs / msg.modelSteps, rssMb: msg.peakRssKb / 1024 };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const rounds = Number(opts.rounds);
console.log(`workload: ${opts.threads} threads x 10 model steps (9 add tool calls + final answer), ${opts.warmup} warm-up threads, ${rounds} rounds per case (median)`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
const samples = new Map(cases.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    process.stderr.write(`round ${round + 1}/${rounds}: ${c.name}...\n`);
    samples.get(c.name).push(await runOnce(c));
  }
}
receiver.close();

const median = (name) => percentile(samples.get(name).map((s) => s.msPerStep), 50);
const off = median('off');
const base = baselineRoot ? median('baseline (commit before)') : undefined;
const rows = cases.map((c) => {
  const ms = median(c.name);
  const spread = samples.get(c.name).map((s) => s.msPerStep);
  return [
    c.name,
    ms.toFixed(4),
    `${Math.min(...spread).toFixed(4)}-${Math.max(...spread).toFixed(4)}`,
    `${(((ms - off) / off) * 100).toFixed(1)}%`,
    base ? `${(((ms - base) / base) * 100).toFixed(1)}%` : '-',
    percentile(samples.get(c.name).map((s) => s.rssMb), 50).toFixed(1),
  ];
});
printRows(['case', 'ms/step', 'min-max', 'vs off', 'vs baseline', 'peak RSS MB'], rows);
console.log(`\nreceiver: ${exports} OTLP exports, ${(exportedBytes / 1e6).toFixed(1)} MB`);
if (base !== undefined) {
  const ratio = off / base;
  console.log(`off / baseline: ${ratio.toFixed(3)} (goal <= 1.05) ${ratio <= 1.05 ? 'met' : 'NOT met'}`);
  process.exitCode = ratio <= 1.05 ? 0 : 1;
}
