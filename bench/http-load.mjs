#!/usr/bin/env node
// HTTP load on loopback: the API server (built dist/, as `twelve dev` runs it: API + an
// in-process worker, a scripted instant model, a SQLite file) in a child process, and
// `--clients` concurrent clients in this one, each looping launch (POST /v1/threads with an
// Idempotency-Key) then read (GET /v1/threads/{id}) until `--launches` threads are launched.
// Bounded in count and time (--timeout s), and only ever talks to 127.0.0.1. Reports
// requests/s and latency percentiles per operation, checks that no request failed and that
// every thread completed, and exits non-zero otherwise.
//
// Usage: node http-load.mjs [--launches 2000] [--clients 50] [--timeout 120]
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile, printRows } from './lib/table.mjs';

const rootDir = join(new URL('.', import.meta.url).pathname, '..');
const API_KEY = 'tw_bench_http_load_0123456789';

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();

/** The child: the server over a runtime with a worker; reports its URL to the parent, stops on 'stop'. */
async function serve(workDir) {
  const dist = (file) => pathToFileURL(join(rootDir, 'dist', file)).href;
  const { createRuntime, defineAgent, scriptedModel } = await import(dist('index.js'));
  const { startServer } = await import(dist('server/serve.js'));
  const agent = defineAgent({ name: 'echo', purpose: 'Echo the input, for the HTTP load test.', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' } });
  const model = scriptedModel(() => ({ text: 'done' }), { recordCalls: false });
  const runtime = createRuntime({ agents: [agent], models: { 'scripted:echo': model }, env: { TWELVE_DATABASE_URL: `sqlite:${join(workDir, 'twelve.db')}` } });
  const server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: [{ name: 'bench', roles: ['reader', 'operator'], key: API_KEY }] });
  const worker = runtime.startWorker({ concurrency: 4, pollMs: 20 });
  // How long the server's event loop was blocked (SQLite commits, checkpoints, GC): the floor of the tail latency.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  process.on('message', async (message) => {
    if (message === 'start') {
      loopDelay.reset();
      loopDelay.enable();
      return;
    }
    if (message !== 'stop') return;
    loopDelay.disable();
    const eventLoop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    const stats = await runtime.store.stats();
    await worker.stop();
    await server.close();
    await runtime.close();
    process.send({ stopped: true, stats, eventLoop }, () => process.exit(0));
  });
  process.send({ url: server.url });
}

async function main() {
  const { values: opts } = parseArgs({ options: { launches: { type: 'string', default: '2000' }, clients: { type: 'string', default: '50' }, timeout: { type: 'string', default: '120' } } });
  const launches = Number(opts.launches);
  const clients = Number(opts.clients);
  const timeoutMs = Number(opts.timeout) * 1000;
  if (!existsSync(join(rootDir, 'dist', 'server', 'serve.js'))) throw new Error('dist/ is missing: run `npm run build` at the repository root first');
  const workDir = mkdtempSync(join(tmpdir(), 'twelve-bench-http-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TWELVE_')));
  const child = fork(new URL(import.meta.url).pathname, ['--serve', workDir], { env, execArgv: [] });
  const messages = [];
  const waiters = [];
  child.on('message', (m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (pick) => {
    for (;;) {
      const found = messages.find(pick);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode})`);
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  const deadline = setTimeout(() => {
    process.stderr.write(`http-load: not done after ${timeoutMs / 1000} s; stopping\n`);
    child.kill('SIGKILL');
    process.exit(1);
  }, timeoutMs);
  child.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });

  try {
    const { url } = await next((m) => m.url);
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load anything but loopback: ${url}`);
    const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    const samples = { launch: [], read: [] };
    const failures = [];
    let launched = 0;
    const ids = new Set();

    const timed = async (kind, path, init) => {
      const t0 = performance.now();
      try {
        const response = await fetch(`${url}${path}`, init);
        const body = await response.json();
        samples[kind].push(performance.now() - t0);
        const ok = kind === 'launch' ? response.status === 201 : response.status === 200;
        if (!ok) failures.push(`${kind} ${path}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
        return ok ? body : undefined;
      } catch (error) {
        samples[kind].push(performance.now() - t0);
        failures.push(`${kind} ${path}: ${error.cause?.message ?? error.message}`);
        return undefined;
      }
    };

    // Warm-up (not counted): JIT, prepared statements, connection pool.
    for (let i = 0; i < 20; i++) await fetch(`${url}/v1/me`, { headers }).then((r) => r.arrayBuffer());

    child.send('start');
    const loadBefore = loadavg()[0];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (;;) {
          const n = launched++;
          if (n >= launches) return;
          const result = await timed('launch', '/v1/threads', { method: 'POST', headers: { ...headers, 'idempotency-key': `load-${n}` }, body: JSON.stringify({ agent: 'echo', input: `request ${n} from client ${client}` }) });
          if (!result) continue;
          ids.add(result.thread.id);
          await timed('read', `/v1/threads/${result.thread.id}`, { headers });
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;

    // Every thread runs to completion on the server's worker.
    const drainStarted = performance.now();
    let completed = 0;
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`, { headers })).text();
      completed = Number(/^twelve_threads\{status="completed"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
      if (completed >= launches) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const drainS = (performance.now() - drainStarted) / 1000;
    child.send('stop');
    const { stats, eventLoop } = await next((m) => m.stopped);

    const all = [...samples.launch, ...samples.read];
    const row = (name, values) => [
      name,
      values.length.toLocaleString('en-US'),
      (values.length / elapsedS).toFixed(0),
      percentile(values, 50).toFixed(2),
      percentile(values, 99).toFixed(2),
      Math.max(...values).toFixed(2),
    ];
    console.log(`${launches.toLocaleString('en-US')} launches + reads from ${clients} concurrent clients on loopback (keep-alive), server + worker in one child process:\n`);
    printRows(['operation', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms'], [
      row('POST /v1/threads', samples.launch),
      row('GET /v1/threads/{id}', samples.read),
      row('all', all),
    ]);
    console.log(`\n${elapsedS.toFixed(2)} s (1-min load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after); ${failures.length} failed requests; ${ids.size.toLocaleString('en-US')} distinct threads; ` +
      `${completed.toLocaleString('en-US')} completed by the worker (${stats.threadsByStatus.completed ?? 0} in the store), the last ${drainS.toFixed(2)} s after the load ended; ` +
      `server event-loop delay p99 ${eventLoop.p99.toFixed(1)} ms, max ${eventLoop.max.toFixed(1)} ms`);
    const problems = [...failures.slice(0, 5)];
    if (ids.size !== launches) problems.push(`expected ${launches} distinct threads, got ${ids.size}`);
    if ((stats.threadsByStatus.completed ?? 0) !== launches) problems.push(`expected ${launches} completed threads in the store, got ${JSON.stringify(stats.threadsByStatus)}`);
    if (problems.length || failures.length) {
      console.log(`FAILED:\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else console.log('OK: no request failed, every thread completed');
  } finally {
    clearTimeout(deadline);
    if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(workDir, { recursive: true, force: true });
  }
}
