/**
 * The fault suite: N `twelve worker` processes run M threads of the fault agent while a
 * chaos driver SIGKILLs a random worker every ~killIntervalMs and restarts it, the
 * scripted model server answers some requests with 5xx or not at all, and (optionally)
 * the database restarts once mid-run. Returns what happened; the caller asserts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
  restartDatabase?: { afterKills: number; restart: () => Promise<void> };
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface FaultSuiteResult {
  threads: number;
  completed: number;
  statuses: Record<string, number>;
  kills: number;
  restarts: number;
  databaseRestarts: number;
  modelRequests: number;
  injected5xx: number;
  injectedHangs: number;
  toolCalls: number;
  effects: number;
  toolAttempts: number;
  /** Effect rows whose key is not a tool call of any thread (must be 0). */
  strayEffects: number;
  /** Tool calls without exactly one effect row (must be 0). */
  missingEffects: number;
  /** Threads whose seq numbers are not exactly 1..n (must be 0). */
  seqAnomalies: number;
  elapsedMs: number;
}

const bin = join(repoRoot, 'bin/twelve.js');

export async function runFaultSuite(options: FaultSuiteOptions): Promise<FaultSuiteResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
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
    TWELVE_WORKER_CONCURRENCY: '4',
    TWELVE_LEASE_MS: '5000',
    TWELVE_SHUTDOWN_GRACE_MS: '2000',
  };
  const runtime: Runtime = createRuntime({ agents: [faultAgent], env });
  const ledger = await effectLedger(options.databaseUrl);
  const workers: Array<ChildProcess | undefined> = [];
  let restarts = 0;
  const startWorker = (index: number) => {
    const child = spawn(process.execPath, [bin, 'worker', '--config', 'test/fixtures/fault-agent.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', () => undefined);
    workers[index] = child;
    restarts++;
  };
  let kills = 0;
  let databaseRestarts = 0;
  try {
    for (let i = 0; i < options.workers; i++) startWorker(i);
    const ids: string[] = [];
    for (let i = 0; i < options.threads; i++) ids.push((await runtime.launch({ agent: 'fault', input: `thread ${i}` })).id);
    log(`launched ${ids.length} threads; ${options.workers} workers; chaos every ~${options.killIntervalMs} ms`);

    const deadline = started + options.timeoutMs;
    let finished = false;
    while (Date.now() < deadline) {
      const open = (await runtime.listThreads({ status: ['runnable', 'awaiting_human', 'awaiting_approval', 'sleeping', 'paused'], limit: 1 })).length;
      finished = open === 0;
      if (finished && kills >= options.minKills) break;
      await new Promise((resolve) => setTimeout(resolve, options.killIntervalMs * (0.5 + Math.random())));
      if (finished) {
        // All threads are done before enough kills: launch more so every kill still lands on live work.
        for (let i = 0; i < options.workers * 4; i++) ids.push((await runtime.launch({ agent: 'fault', input: `extra ${ids.length}` })).id);
      }
      const victim = Math.floor(Math.random() * options.workers);
      workers[victim]?.kill('SIGKILL');
      kills++;
      startWorker(victim);
      if (options.restartDatabase && kills === options.restartDatabase.afterKills) {
        log('restarting the database');
        await options.restartDatabase.restart();
        databaseRestarts++;
      }
    }
    if (!finished) log('timed out before every thread finished');

    // Verification, from the log itself.
    const statuses: Record<string, number> = {};
    let toolCalls = 0;
    let seqAnomalies = 0;
    const keys = new Set<string>();
    for (const id of ids) {
      const thread = (await runtime.getThread(id))!;
      statuses[thread.status] = (statuses[thread.status] ?? 0) + 1;
      const events = await runtime.loadEvents(id);
      if (events.some((e, index) => e.seq !== index + 1) || events.length !== thread.seq) seqAnomalies++;
      for (const e of events) {
        if (e.type === 'tool_requested') {
          toolCalls++;
          keys.add(`${id}:${e.data.callId}`);
        }
      }
    }
    const effects = await ledger.effects();
    const effectKeys = new Map<string, number>();
    for (const effect of effects) effectKeys.set(effect.key, (effectKeys.get(effect.key) ?? 0) + 1);
    let missingEffects = 0;
    for (const key of keys) if (effectKeys.get(key) !== 1) missingEffects++;
    const strayEffects = [...effectKeys.keys()].filter((key) => !keys.has(key)).length;
    return {
      threads: ids.length,
      completed: statuses.completed ?? 0,
      statuses,
      kills,
      restarts: restarts - options.workers,
      databaseRestarts,
      modelRequests: server.requests.length,
      injected5xx,
      injectedHangs,
      toolCalls,
      effects: effects.length,
      toolAttempts: await ledger.attempts(),
      strayEffects,
      missingEffects,
      seqAnomalies,
      elapsedMs: Date.now() - started,
    };
  } finally {
    for (const child of workers) child?.kill('SIGKILL');
    await runtime.close();
    await ledger.close();
    await server.close();
  }
}
