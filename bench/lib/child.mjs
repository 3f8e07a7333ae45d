// Runs ONE peer's workload in this (fresh) process and reports to the parent
// over IPC, so each framework's peak RSS is its own and no JIT state or module
// cache leaks between frameworks.
// argv: <peer file> <json {threads, warmupThreads, turns, workDir}>
import net from 'node:net';
import { pathToFileURL } from 'node:url';

// Network guard: the workload is fully in-process, so any connection attempt is
// a bug (tracing, telemetry, a real model client). Refuse it and count it, so a
// peer can neither leak data nor get a silently skewed number.
const netAttempts = [];
const refuse = (what) => {
  netAttempts.push(what);
  throw new Error(`bench: network access refused (${what})`);
};
globalThis.fetch = async (url) => refuse(`fetch ${url}`);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // Node calls this with (options), (port, host), (path) or, internally, ([options, cb]).
  const opts = Array.isArray(args[0]) ? args[0][0] : args[0];
  // Unix-domain sockets (e.g. IPC) are local; only TCP counts as network.
  const isPath = typeof opts === 'string' ? Number.isNaN(Number(opts)) : Boolean(opts?.path);
  if (isPath) return connect.apply(this, args);
  const port = typeof opts === 'object' ? opts.port : opts;
  const host = typeof opts === 'object' ? (opts.host ?? opts.hostname) : args[1];
  return refuse(`connect ${host ?? 'localhost'}:${port}`);
};

const [file, json] = process.argv.slice(2);
const { threads, warmupThreads, turns, workDir } = JSON.parse(json);
try {
  const { runWorkload } = await import(pathToFileURL(file).href);
  // Warm-up: load lazy modules, fill caches and let the JIT settle before timing.
  if (warmupThreads > 0) await runWorkload({ threads: warmupThreads, turns, workDir });
  const { modelSteps, elapsedMs } = await runWorkload({ threads, turns, workDir });
  // Let stray background work (flushes, timers) surface before we judge the network guard.
  await new Promise((r) => setTimeout(r, 50));
  if (netAttempts.length) throw new Error(`network attempts: ${netAttempts.slice(0, 3).join('; ')}`);
  // maxRSS is in KiB and covers the whole life of this process (load, warm-up, run).
  const peakRssKb = process.resourceUsage().maxRSS;
  process.send({ ok: true, modelSteps, elapsedMs, peakRssKb }, () => process.exit(0));
} catch (err) {
  process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1));
}
