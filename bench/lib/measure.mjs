// Measurement helpers: run one peer in a fresh child process, and print results.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHILD = new URL('./child.mjs', import.meta.url).pathname;

// Child environment: the fake model needs no credentials, and tracing/debug
// switches inherited from a developer's shell would add I/O the peers don't
// normally pay (or try to reach the network). Force them off.
function childEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(LANGSMITH_|LANGCHAIN_|OPENAI_|ANTHROPIC_)/.test(k) || k === 'DEBUG' || k === 'NODE_OPTIONS') delete env[k];
  }
  return { ...env, LANGSMITH_TRACING: 'false', LANGCHAIN_TRACING_V2: 'false', OPENAI_AGENTS_DISABLE_TRACING: '1' };
}

/**
 * Runs `file`'s runWorkload in a fresh process: `warmupThreads` untimed threads,
 * then `threads` timed ones. Resolves to { name, msPerStep, stepsPerSec, peakRssMb }.
 */
export async function measureInChild({ name, file, threads = 200, warmupThreads = 5, turns = 9 }) {
  // A real on-disk directory (not :memory:) so durable peers pay for real writes.
  const workDir = mkdtempSync(join(tmpdir(), `twelve-bench-${name}-`));
  try {
    const msg = await new Promise((resolve, reject) => {
      const child = fork(CHILD, [file, JSON.stringify({ threads, warmupThreads, turns, workDir })], {
        env: childEnv(),
        execArgv: [],
      });
      let reply;
      child.on('message', (m) => (reply = m));
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        reply ? resolve(reply) : reject(new Error(`${name}: child exited (code ${code}, signal ${signal}) without a result`)),
      );
    });
    if (!msg.ok) throw new Error(`${name} failed:\n${msg.error}`);
    const msPerStep = msg.elapsedMs / msg.modelSteps;
    return { name, msPerStep, stepsPerSec: 1000 / msPerStep, peakRssMb: msg.peakRssKb / 1024 };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Prints rows as an aligned plain-text table. With a `baseline` row name, adds
 * columns giving each row's ms/step and peak RSS as a multiple of that row's.
 */
export function printTable(rows, { baseline } = {}) {
  const base = rows.find((r) => r.name === baseline);
  const header = ['framework', 'ms/step', 'steps/s', 'peak RSS MB'];
  if (base) header.push(`ms/step vs ${base.name}`, `RSS vs ${base.name}`);
  const body = rows.map((r) => {
    const cells = [r.name, r.msPerStep.toFixed(3), r.stepsPerSec.toFixed(0), r.peakRssMb.toFixed(1)];
    if (base) cells.push(`${(r.msPerStep / base.msPerStep).toFixed(2)}x`, `${(r.peakRssMb / base.peakRssMb).toFixed(2)}x`);
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  // Name column left-aligned, numbers right-aligned so decimals line up.
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of body) console.log(fmt(cells));
}
