/**
 * Runs a suite's cases on one agent release, each as a real thread through the normal runtime,
 * on an isolated store (a temporary SQLite file, removed afterwards) so an eval never touches the
 * project's threads. Model mode: replay when the agent has recordings and TWELVE_MODEL_MODE is
 * unset (suites run offline), else what the environment says. A few cases run at once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../agent/define-agent.js';
import type { Tool } from '../agent/define-tool.js';
import type { ModelMode } from '../config/env.js';
import { createLogger } from '../log/logger.js';
import type { ModelRegistry } from '../model/providers.js';
import { createRuntime } from '../runtime/runtime.js';
import { openStore } from '../store/open.js';
import type { JudgeSpec } from './define-eval.js';
import { runCase } from './run-case.js';
import { scoreCase } from './scorers/index.js';
import { judgeAgent, scoreJudge } from './scorers/judge.js';
import { bindTools, CaseBindings } from './tool-bindings.js';
import type { CaseResult, EvalCase, EvalSummary, Scorer } from './types.js';

export interface RunSuiteOptions {
  /** The agent to run (the working tree's, or one rebuilt from a stored manifest). */
  agent: Agent;
  cases: EvalCase[];
  scorers?: Scorer[];
  judge?: JudgeSpec;
  /** Where the judge's recordings live (the suite's folder + /recordings). */
  judgeRecordingsDir?: string;
  /** "own": the agent's tools have their code; else only fixtures and the working tree's fakes serve them. */
  toolCode?: 'own' | { fakesFrom: ReadonlyMap<string, Tool>; releaseId: string };
  /** Default: see the module header. */
  modelMode?: ModelMode;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Cases at once (default 4). */
  concurrency?: number;
  /** Model instances by id (scripted models in tests and demos), as createRuntime takes them. */
  models?: ModelRegistry;
}

export interface SuiteResults {
  results: CaseResult[];
  summary: EvalSummary;
  modelMode: ModelMode;
}

/** The mode a suite runs in when the caller does not say. */
export function evalModelMode(agent: Agent, env: NodeJS.ProcessEnv = process.env): ModelMode {
  const set = env.TWELVE_MODEL_MODE;
  if (set === 'live' || set === 'record' || set === 'replay') return set;
  return agent.recordingsDir && existsSync(agent.recordingsDir) ? 'replay' : 'live';
}

export async function runSuite(options: RunSuiteOptions): Promise<SuiteResults> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const modelMode = options.modelMode ?? evalModelMode(options.agent, env);
  const work = mkdtempSync(join(tmpdir(), 'twelve-eval-'));
  const store = openStore(`sqlite:${join(work, 'eval.db')}`);
  const bindings = new CaseBindings();
  const agent = bindTools(options.agent, { bindings, code: options.toolCode ?? 'own' });
  const judge = options.judge && options.cases.some((c) => c.expect?.judge) ? judgeAgent(options.judge, options.judgeRecordingsDir ?? join(work, 'recordings')) : undefined;
  try {
    const runtime = createRuntime({ agents: judge ? [agent, judge] : [agent], store, env, modelMode, ...(options.models ? { models: options.models } : {}), logger: createLogger({ format: 'off' }) });
    runtime.logThreadEvents = false;
    const release = runtime.release(agent.name);
    const outputSchema = release.agent.outputSchema;
    try {
      const results = await inPool(options.cases, options.concurrency ?? 4, async (evalCase): Promise<CaseResult> => {
        const { run, error } = await runCase({ runtime, release, bindings, evalCase });
        const tokens = run.inputTokens + run.outputTokens;
        const measures = { output: run.output ?? null, costUsd: run.costUsd, tokens, steps: run.steps, latencyMs: run.latencyMs, threadId: run.threadId };
        if (error) return { id: evalCase.id, pass: false, score: 0, scores: [{ name: 'error', pass: false, score: 0, detail: error }], status: 'error', error, ...measures };
        const scores = await scoreCase(run, {
          outputSchema,
          custom: options.scorers ?? [],
          judge: (criteria, caseRun) => scoreJudge(runtime, options.judge, criteria, caseRun),
        });
        const score = scores.reduce((sum, s) => sum + s.score, 0) / scores.length;
        return { id: evalCase.id, pass: scores.every((s) => s.pass), score: round(score), scores, status: run.status, ...measures };
      });
      return { results, summary: summarize(results, performance.now() - started), modelMode };
    } finally {
      await runtime.close();
    }
  } finally {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export function summarize(results: CaseResult[], durationMs: number): EvalSummary {
  const passed = results.filter((r) => r.pass).length;
  const unknownCost = results.some((r) => r.costUsd === null);
  return {
    cases: results.length,
    passed,
    failed: results.length - passed,
    score: results.length ? round(results.reduce((sum, r) => sum + r.score, 0) / results.length) : 0,
    costUsd: unknownCost ? null : round(results.reduce((sum, r) => sum + (r.costUsd ?? 0), 0), 8),
    tokens: results.reduce((sum, r) => sum + r.tokens, 0),
    steps: results.reduce((sum, r) => sum + r.steps, 0),
    durationMs: Math.round(durationMs),
  };
}

function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Runs `fn` over `items`, at most `size` at a time, results in the items' order. */
async function inPool<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
