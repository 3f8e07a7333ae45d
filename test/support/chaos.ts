/**
 * The fault suite: N `twelve worker` processes run M threads of the fault agent while a
 * chaos driver SIGKILLs a random worker every ~killIntervalMs and restarts it, the
 * scripted model server answers some requests with 5xx or not at all, and (optionally)
 * the database restarts once mid-run. Returns what happened; the caller asserts.
 *
 * It depends on progress, not on speed, so that a slow or loaded machine is not a failure:
 * a kill comes only once every worker (the last replacement included) is ready, and after
 * the kills the driver waits as long as threads keep moving (any event appended, any thread
 * finished); it gives up only after `stallMs` without any progress.
 *
 * No vitest here: bench/fault.mjs runs the same driver for longer (under tsx).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../src/index.js';
import faultAgent from '../fixtures/fault-agent.js';
import { repoRoot } from './cli.js';
import { effectLedger } from './fault-ledger.js';
import { startScriptedOpenAIServer, type ScriptStep } from './scripted-openai-server.js';

export interface FaultSuiteOptions {
  databaseUrl: string;
  threads: number;
  workers: number;
  /** Effects per thread. */
  steps: number;
  killIntervalMs: number;
  /** Keep killing at least this many times (the run lasts until both threads and kills are done). */
  minKills: number;
  errorRate: number;
  hangRate: number;
  /** Restart the database once, after this many kills (only when the caller controls the server). */
  restartDatabase?: {
    afterKills: number;
    /** Restart this many times (default 1), every `everyKills` kills after the first. */
    times?: number;
    everyKills?: number;
    restart: () => Promise<void>;
  };
  /** Threads driven at once by each worker process (default 4). */
  concurrency?: number;
  /** Give up when nothing moves for this long: no event appended, no thread finished, no worker ready (default 120 s). */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface FaultSuiteResult {
  workers: number;
  threads: number;
  completed: number;
  statuses: Record<string, number>;
  kills: number;
  restarts: number;
  databaseRestarts: number;
  /** How long the database restarts kept the server away (stop + pause + start), ms in all. */
  databaseDowntimeMs: number;
  /** Kills that waited for a replacement to get ready (it was not yet when the interval was up). */
  killsDelayed: number;
  /** How long new workers took to be ready (their own "ready in" line), median and max ms. */
  workerReadyMs: { median: number; max: number };
  /** Set when the run gave up: nothing moved for stallMs. */
  stalled?: string;
  /** Worker LISTEN connections back after a restart (the fewest over restarts; must equal `workers`), and the longest that took once the server was up. */
  listenersBack: number;
  listenersBackMs: number;
  modelRequests: number;
  injected5xx: number;
  injectedHangs: number;
  toolCalls: number;
  effects: number;
  /**
   * Calls the runtime gave up on after maxToolAttempts (3) interrupted runs, recording
   * tool_failed (tool_interrupted) and telling the model: rare, and legitimate under this
   * much killing. Their effect happened at most once; every other call's exactly once.
   */
  abandonedCalls: number;
  abandonedWithEffect: number;
  /** Executions of the tool (rows in fault_attempts): effects plus re-runs. */
  toolAttempts: number;
  /** Executions beyond the first for a key: runs cut short by a kill (or a restart) and run again. */
  toolReruns: number;
  /** Re-runs that found their effect already applied by a run cut short after it (the key kept it single). */
  rerunsAfterEffect: number;
  /** Keys with more executions than durable `tool_started` events (must be 0: every run is bracketed). */
  unbracketedRuns: number;
  /** Effect rows whose key is not a tool call of any thread (must be 0). */
  strayEffects: number;
  /** Tool calls without exactly one effect row, or abandoned ones with more than one (must be 0). */
  missingEffects: number;
  /** Threads whose seq numbers are not exactly 1..n (must be 0). */
  seqAnomalies: number;
  /** tool_failed events by error code (e.g. tool_interrupted: a call given up after too many interrupted runs). */
  toolFailures: Record<string, number>;
  /** Worker loop failures the workers logged (store outages show up here), and a few distinct messages. */
  workerErrors: number;
  /** Workers that exited without being killed (must be 0); each was replaced at once. */
  workerCrashes: number;
  workerErrorSamples: string[];
  elapsedMs: number;
}

const bin = join(repoRoot, 'bin/twelve.js');
const openStatuses = ['runnable', 'awaiting_human', 'awaiting_approval', 'sleeping', 'paused'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => (values.length ? [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]! : 0);

/** Waits until `count` sessions on the database are LISTENing for work; returns how many there are. */
async function waitForListeners(url: string, count: number, timeoutMs: number): Promise<number> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN twelve_work' AND pid <> pg_backend_pid()`,
      );
      seen = rows[0]!.n;
    } catch {
      seen = 0; // not accepting connections yet
    } finally {
      await client.end().catch(() => undefined);
    }
    if (seen >= count) return seen;
    await sleep(50);
  }
  return seen;
}

export async function runFaultSuite(options: FaultSuiteOptions): Promise<FaultSuiteResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const stallMs = options.stallMs ?? 120_000;
  let injected5xx = 0;
  let injectedHangs = 0;
  const server = await startScriptedOpenAIServer();
  server.setFallback((request) => {
    const roll = Math.random();
    if (roll < options.errorRate) {
      injected5xx++;
      return { status: 500 + Math.floor(Math.random() * 4) } as ScriptStep;
    }
    if (roll < options.errorRate + options.hangRate) {
      injectedHangs++;
      return { hang: true };
    }
    const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
    const done = messages.filter((m) => m.role === 'tool').length;
    return done < options.steps ? { toolCalls: [{ name: 'effect', arguments: { step: done + 1 } }] } : { text: 'done' };
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    TWELVE_DATABASE_URL: options.databaseUrl,
    OPENAI_API_KEY: 'sk-fault-suite-0000',
    OPENAI_BASE_URL: server.baseURL,
    TWELVE_POLL_MS: '100',
    TWELVE_WORKER_CONCURRENCY: String(options.concurrency ?? 4),
    TWELVE_LEASE_MS: '5000',
    TWELVE_SHUTDOWN_GRACE_MS: '2000',
  };
  // Workers log warnings and errors only, as JSON on stderr: counted, and sampled for the report.
  const workerEnv: NodeJS.ProcessEnv = { ...env, TWELVE_LOG: 'json', TWELVE_LOG_LEVEL: 'warn' };
  const runtime: Runtime = createRuntime({ agents: [faultAgent], env });
  const ledger = await effectLedger(options.databaseUrl);
  const workers: Array<ChildProcess | undefined> = [];
  let restarts = 0;
  let workerErrors = 0;
  let workerCrashes = 0;
  let stopping = false;
  const workerErrorSamples = new Set<string>();
  const readyMs: number[] = [];
  // Workers started and not yet ready (their "ready in" line): no kill until this is empty.
  const starting = new Set<ChildProcess>();
  let lastReadyAt = Date.now();
  // FAULT_WORKER_LOG=<file> keeps every line the workers wrote, for a post-mortem.
  const keepLog = process.env.FAULT_WORKER_LOG;
  const onWorkerLine = (child: ChildProcess, line: string) => {
    if (keepLog) appendFileSync(keepLog, `${line}\n`);
    const ready = /: ready in (\d+) ms/.exec(line);
    if (ready) {
      readyMs.push(Number(ready[1]));
      starting.delete(child);
      lastReadyAt = Date.now();
    }
    if (!line.includes('"level":"error"')) return;
    workerErrors++;
    if (workerErrorSamples.size >= 6) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; error?: string };
      workerErrorSamples.add(`${entry.msg}: ${String(entry.error).replace(/th_[0-9a-z]+/g, 'th_…').slice(0, 200)}`);
    } catch {
      workerErrorSamples.add(line.slice(0, 200));
    }
  };
  const startWorker = (index: number) => {
    const child = spawn(process.execPath, [bin, 'worker', '--config', 'test/fixtures/fault-agent.ts'], { cwd: repoRoot, env: workerEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let pending = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onWorkerLine(child, line);
    });
    // A worker that exits on its own (an uncaught error, say) is a failure of the suite: count
    // it, keep its last words, and start a replacement so the run still finishes.
    child.on('exit', (code, signal) => {
      starting.delete(child);
      if (workers[index] !== child || stopping) return;
      workerCrashes++;
      if (workerErrorSamples.size < 8) workerErrorSamples.add(`worker exited by itself (code ${code}, signal ${signal}): ${lastLines.join(' | ').slice(-400)}`);
      startWorker(index);
    });
    const lastLines: string[] = [];
    child.stderr!.on('data', (chunk: string) => {
      lastLines.push(...chunk.split('\n').filter(Boolean));
      lastLines.splice(0, Math.max(0, lastLines.length - 6));
    });
    workers[index] = child;
    starting.add(child);
    restarts++;
  };
  /** Until every worker is ready (a replacement started after a kill included); true when one had to be waited for. */
  const untilWorkersReady = async (): Promise<boolean> => {
    if (starting.size === 0) return false;
    while (starting.size > 0) {
      if (Date.now() - lastReadyAt > stallMs) throw new Error(`no worker got ready for ${stallMs} ms (${starting.size} starting)`);
      await sleep(20);
    }
    return true;
  };
  // The driver's own queries fail while the database restarts: wait it out (giving up only after stallMs of failures).
  const untilAvailable = async <T>(work: () => Promise<T>): Promise<T> => {
    const since = Date.now();
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (Date.now() - since > stallMs) throw error;
        await sleep(200);
      }
    }
  };
  const launch = async (input: string) => (await untilAvailable(() => runtime.launch({ agent: 'fault', input }))).id;
  let kills = 0;
  let databaseRestarts = 0;
  let databaseDowntimeMs = 0;
  let listenersBack = 0;
  let listenersBackMs = 0;
  try {
    for (let i = 0; i < options.workers; i++) startWorker(i);
    const ids: string[] = [];
    for (let i = 0; i < options.threads; i++) ids.push(await launch(`thread ${i}`));
    log(`launched ${ids.length} threads in ${Date.now() - started} ms; ${options.workers} workers; chaos every ~${options.killIntervalMs} ms`);

    // Kill phase: at least minKills kills, each only once every worker is ready.
    let finished = false;
    let killsDelayed = 0;
    let lastReport = Date.now();
    const report = (open: number | string) => {
      if (Date.now() - lastReport < 5_000) return;
      lastReport = Date.now();
      log(`${Math.round((Date.now() - started) / 1000)} s: ${open} open, ${kills} kills, worker ready in ~${Math.round(readyMs.reduce((a, b) => a + b, 0) / Math.max(1, readyMs.length))} ms`);
    };
    while (kills < options.minKills) {
      await sleep(options.killIntervalMs * (0.5 + Math.random()));
      // Never kill faster than replacements get ready: a worker still starting is not killed
      // (nor is another one, which would leave the fleet short for longer than the chaos means).
      if (await untilWorkersReady()) killsDelayed++;
      try {
        const open = await runtime.listThreads({ status: [...openStatuses], limit: 1_000_000 });
        finished = open.length === 0;
        report(open.length);
      } catch {
        finished = false; // the database is away: keep the chaos going, look again next round
      }
      if (finished) {
        // All threads are done before enough kills: launch more so every kill still lands on live work.
        for (let i = 0; i < options.workers * 4; i++) ids.push(await launch(`extra ${ids.length}`));
      }
      const victim = Math.floor(Math.random() * options.workers);
      workers[victim]?.kill('SIGKILL');
      kills++;
      startWorker(victim);
      const restart = options.restartDatabase;
      if (restart && kills >= restart.afterKills && databaseRestarts < (restart.times ?? 1) && (kills - restart.afterKills) % (restart.everyKills ?? 1) === 0) {
        const down = Date.now();
        log(`kill ${kills}: restarting the database`);
        await restart.restart();
        const downtime = Date.now() - down;
        databaseDowntimeMs += downtime;
        databaseRestarts++;
        // No kills until every worker that lived through the restart is listening again
        // (LISTEN twelve_work on its reconnected connection), so the count proves they reconnected.
        const back = Date.now();
        const listening = await waitForListeners(options.databaseUrl, options.workers, 15_000);
        listenersBack = databaseRestarts === 1 ? listening : Math.min(listenersBack, listening);
        listenersBackMs = Math.max(listenersBackMs, Date.now() - back);
        log(`database back after ${downtime} ms; ${listening}/${options.workers} workers listening again ${Date.now() - back} ms later`);
      }
    }

    // Then wait as long as the threads keep moving; give up only when nothing moved for stallMs.
    let stalled: string | undefined;
    let progress = '';
    let progressAt = Date.now();
    for (;;) {
      try {
        const open = await runtime.listThreads({ status: [...openStatuses], limit: 1_000_000 });
        if (open.length === 0) break;
        const now = `${open.length}:${open.reduce((sum, thread) => sum + thread.seq, 0)}`;
        if (now !== progress) {
          progress = now;
          progressAt = Date.now();
        }
        report(open.length);
      } catch {
        // the database is away: that is not progress
      }
      if (Date.now() - Math.max(progressAt, lastReadyAt) > stallMs) {
        stalled = `nothing moved for ${Math.round(stallMs / 1000)} s (open threads, total events: ${progress})`;
        log(`gave up: ${stalled}`);
        break;
      }
      await sleep(250);
    }

    // Verification, from the log itself: every tool call, its durable starts and its outcome.
    const statuses: Record<string, number> = {};
    let seqAnomalies = 0;
    const calls = new Map<string, { starts: number; outcome?: string }>();
    const toolFailures: Record<string, number> = {};
    let rerunsAfterEffect = 0;
    for (const id of ids) {
      const thread = (await untilAvailable(() => runtime.getThread(id)))!;
      statuses[thread.status] = (statuses[thread.status] ?? 0) + 1;
      const events = await untilAvailable(() => runtime.loadEvents(id));
      if (events.some((e, index) => e.seq !== index + 1) || events.length !== thread.seq) seqAnomalies++;
      for (const e of events) {
        if (e.type === 'tool_requested') calls.set(`${id}:${e.data.callId}`, { starts: 0 });
        if (e.type === 'tool_started') calls.get(`${id}:${e.data.callId}`)!.starts++;
        if (e.type === 'tool_succeeded') {
          calls.get(`${id}:${e.data.callId}`)!.outcome = 'succeeded';
          if ((e.data.result as { applied?: boolean } | null)?.applied === false) rerunsAfterEffect++;
        }
        if (e.type === 'tool_failed') {
          calls.get(`${id}:${e.data.callId}`)!.outcome = e.data.error.code;
          toolFailures[e.data.error.code] = (toolFailures[e.data.error.code] ?? 0) + 1;
        }
      }
    }
    const effects = await ledger.effects();
    const effectKeys = new Map<string, number>();
    for (const effect of effects) effectKeys.set(effect.key, (effectKeys.get(effect.key) ?? 0) + 1);
    let missingEffects = 0;
    let abandonedCalls = 0;
    let abandonedWithEffect = 0;
    for (const [key, call] of calls) {
      const count = effectKeys.get(key) ?? 0;
      if (call.outcome === 'tool_interrupted') {
        // Given up by the runtime after maxToolAttempts interrupted runs, and the model told so:
        // the effect may have happened once (a kill after it, before the result was recorded), never twice.
        abandonedCalls++;
        if (count === 1) abandonedWithEffect++;
        if (count > 1) missingEffects++;
      } else if (count !== 1) {
        missingEffects++;
      }
    }
    const strayEffects = [...effectKeys.keys()].filter((key) => !calls.has(key)).length;
    const attempts = await ledger.attempts();
    let toolAttempts = 0;
    let toolReruns = 0;
    let unbracketedRuns = 0;
    for (const [key, runs] of attempts) {
      toolAttempts += runs;
      toolReruns += Math.max(0, runs - 1);
      if (runs > (calls.get(key)?.starts ?? 0)) unbracketedRuns++;
    }
    const toolCalls = calls.size;
    return {
      workers: options.workers,
      threads: ids.length,
      completed: statuses.completed ?? 0,
      statuses,
      kills,
      restarts: restarts - options.workers,
      databaseRestarts,
      databaseDowntimeMs,
      listenersBack,
      listenersBackMs,
      modelRequests: server.requests.length,
      injected5xx,
      injectedHangs,
      toolCalls,
      effects: effects.length,
      abandonedCalls,
      abandonedWithEffect,
      toolAttempts,
      toolReruns,
      rerunsAfterEffect,
      unbracketedRuns,
      strayEffects,
      missingEffects,
      seqAnomalies,
      toolFailures,
      workerErrors,
      workerCrashes,
      workerErrorSamples: [...workerErrorSamples],
      killsDelayed,
      workerReadyMs: { median: median(readyMs), max: Math.max(0, ...readyMs) },
      ...(stalled ? { stalled } : {}),
      elapsedMs: Date.now() - started,
    };
  } finally {
    stopping = true;
    for (const child of workers) child?.kill('SIGKILL');
    await runtime.close();
    await ledger.close();
    await server.close();
  }
}
