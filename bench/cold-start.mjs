#!/usr/bin/env node
// Cold start: how long a fresh process takes to be useful. Each case is a new Node
// process, timed from spawn to exit (so process teardown counts too), run `--runs`
// times after 2 untimed runs that warm the OS file cache. Target: p90 <= 300 ms.
//
//   node (bare)             `node -e 0`: the floor every Node program pays
//   twelve --version        the CLI entry, `node bin/twelve.js --version`
//   import twelve           `import('twelve-agents')` (dist/index.js), nothing else
//   ready to claim work     import dist, define an agent with a tool, createRuntime on
//                           an existing SQLite file (open, WAL, migration check), and
//                           one claim attempt that returns (the database holds no
//                           runnable thread): what a restarted worker pays before its
//                           first step
//   ready, new database     the same with a database file that does not exist yet
//                           (create it, apply the migrations)
//
// Usage: node cold-start.mjs [--runs 20]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, printRows } from './lib/table.mjs';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(opts.runs);
const TARGET_MS = 300;
const rootDir = join(new URL('.', import.meta.url).pathname, '..');
const bin = join(rootDir, 'bin', 'twelve.js');
const dist = pathToFileURL(join(rootDir, 'dist', 'index.js')).href;
const readyWorker = new URL('./lib/ready-worker.mjs', import.meta.url).pathname;

const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-cold-'));
// A clean environment: no NODE_OPTIONS or TWELVE_* from the caller's shell.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TWELVE_')));
const existingDb = join(workDir, 'existing.db');

function time(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: rootDir, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

try {
  if (!existsSync(join(rootDir, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` at the repository root first');
  const freshDb = () => join(mkdtempSync(join(workDir, 'new-')), 'twelve.db');
  const cases = [
    { name: 'node (bare)', args: () => ['-e', '0'] },
    ...(existsSync(bin) ? [{ name: 'twelve --version', args: () => [bin, '--version'], check: (out) => /^twelve \S+/.test(out) }] : []),
    { name: 'import twelve', args: () => ['--input-type=module', '-e', `await import(${JSON.stringify(dist)})`] },
    { name: 'ready to claim work', args: () => [readyWorker, existingDb] },
    { name: 'ready, new database', args: () => [readyWorker, freshDb()] },
  ];
  if (!existsSync(bin)) process.stderr.write(`note: ${bin} does not exist yet; skipping the --version case\n`);
  time([readyWorker, existingDb]); // creates the "existing" database

  const rows = [];
  let worst = 0;
  for (const c of cases) {
    process.stderr.write(`${c.name}...\n`);
    const samples = [];
    for (let i = 0; i < runs + 2; i++) {
      const { ms, stdout } = time(c.args());
      if (c.check && !c.check(stdout)) throw new Error(`${c.name}: unexpected output ${JSON.stringify(stdout)}`);
      if (i >= 2) samples.push(ms);
    }
    const p90 = percentile(samples, 90);
    if (c.name !== 'node (bare)') worst = Math.max(worst, p90);
    rows.push([c.name, percentile(samples, 50).toFixed(1), p90.toFixed(1), Math.min(...samples).toFixed(1), Math.max(...samples).toFixed(1)]);
  }
  console.log(`cold start, spawn to exit, ${runs} runs each (after 2 warm-up runs); target p90 <= ${TARGET_MS} ms`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
  printRows(['process', 'median ms', 'p90 ms', 'min ms', 'max ms'], rows);
  console.log(`\n${worst <= TARGET_MS ? 'OK' : 'OVER TARGET'}: slowest p90 ${worst.toFixed(1)} ms (target ${TARGET_MS} ms)`);
  if (worst > TARGET_MS) process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
