// One run of the tracing benchmark in a fresh process: the steps.mjs workload (threads of 9 `add`
// tool calls + a final answer, bench/lib/twelve.mjs adderAgent/adderModel, durable SQLite) on the
// library built under <root> (this checkout, or another commit's copy for the baseline), with the
// environment given (OTEL_* variables for the traced cases). Reports over IPC.
// argv: <root> <json {threads, warmupThreads, turns, workDir, env}>
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, json] = process.argv.slice(2);
const { threads, warmupThreads, turns, workDir, env } = JSON.parse(json);
const { createRuntime } = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { adderAgent, adderModel } = await import(pathToFileURL(join(root, 'bench/lib/twelve.mjs')).href);
const { checkThread, stepsPerThread } = await import(pathToFileURL(join(root, 'bench/lib/script.mjs')).href);

async function runWorkload(count) {
  const dbPath = join(mkdtempSync(join(workDir, 'twelve-')), 'twelve.db');
  const runtime = createRuntime({
    agents: [adderAgent({ maxSteps: Math.max(20, turns + 5) })],
    models: { 'scripted:bench': adderModel(turns) },
    env: { TWELVE_DATABASE_URL: `sqlite:${dbPath}`, ...env },
  });
  let toolOutputs = [];
  runtime.subscribe((e) => {
    if (e.type === 'tool_succeeded') toolOutputs.push(e.data.result);
  });
  const t0 = performance.now();
  for (let t = 0; t < count; t++) {
    toolOutputs = [];
    const { id } = await runtime.launch({ agent: 'adder', input: `Add up, thread ${t}.` });
    const { thread, outcome } = await runtime.runThread(id);
    if (outcome !== 'completed') throw new Error(`${id}: outcome ${outcome}`);
    checkThread(id, { finalText: thread.output, toolOutputs }, turns);
  }
  const elapsedMs = performance.now() - t0;
  await runtime.close(); // flushes the spans still buffered (not timed: a process pays it once)
  return { modelSteps: count * stepsPerThread(turns), elapsedMs };
}

try {
  if (warmupThreads > 0) await runWorkload(warmupThreads);
  const result = await runWorkload(threads);
  process.send({ ok: true, ...result, peakRssKb: process.resourceUsage().maxRSS }, () => process.exit(0));
} catch (err) {
  process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1));
}
