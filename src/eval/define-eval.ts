/**
 * defineEval: an eval suite in TypeScript, listed in the project config's `evals` (the
 * JSONL file `evals/<agent>.jsonl` is the other way to write one). Cases are given inline or
 * as the path (or file URL) of a .jsonl file; custom scorers and an LLM judge with a pinned
 * model add checks to every case.
 */
import { fileURLToPath } from 'node:url';
import { TwelveError } from '../errors.js';
import { parseEvalCase } from './case-schema.js';
import type { CaseRun, EvalCase, ScoreResult, Scorer } from './types.js';

/** A custom scorer: a function (named by its function name) or { name, score }. */
export type ScorerSpec = { name: string; score: ScoreFunction } | ScoreFunction;

/** What a custom scorer returns: a result, a pass/fail, or a 0..1 score (passing at 0.5). */
export type ScoreFunction = (run: CaseRun) => ScoreResult | boolean | number | Promise<ScoreResult | boolean | number>;

/** The LLM judge: a pinned model (dated, like any agent's) and, optionally, a passing score. */
export interface JudgeSpec {
  model: string;
  /** Scores at or above pass when the judge does not say (default 0.5; the judge's own pass wins). */
  passScore?: number;
}

export interface EvalOptions {
  /** The agent's name. */
  agent: string;
  /** The cases, or a .jsonl suite file (a path relative to the working directory, or a file URL). */
  cases: EvalCase[] | string | URL;
  /** Default: the agent's name. Names the suite in reports, stored runs and `twelve eval <suite>`. */
  name?: string;
  scorers?: ScorerSpec[];
  /** The judge for cases with `expect.judge` criteria: a model id, or { model, passScore }. */
  judge?: string | JudgeSpec;
  /** Largest drop in the mean score allowed before a run counts as a regression (default 0). */
  threshold?: number;
  /** Cases run at once (default 4). */
  concurrency?: number;
}

export interface EvalSuite {
  readonly kind: 'twelve.eval';
  name: string;
  agent: string;
  /** Inline cases (checked), or the suite file they are read from at run time. */
  cases: EvalCase[] | { file: string };
  scorers: Scorer[];
  judge: JudgeSpec | undefined;
  threshold: number | undefined;
  concurrency: number | undefined;
}

/**
 * @example
 * export const refundsSuite = defineEval({
 *   agent: 'refunds',
 *   cases: new URL('./evals/refunds.jsonl', import.meta.url),
 *   judge: { model: 'openai:gpt-4o-mini-2024-07-18' },
 *   scorers: [function politeReason(run) { return !/stupid/i.test(JSON.stringify(run.output)); }],
 * });
 */
export function defineEval(options: EvalOptions): EvalSuite {
  const where = `defineEval ${options?.name ?? options?.agent ?? '(unnamed)'}`;
  if (typeof options?.agent !== 'string' || !/^[a-z][a-z0-9-]*$/.test(options.agent)) throw new TwelveError('usage', `${where}: agent must name an agent (lower-case letters, digits, dashes)`);
  const name = options.name ?? options.agent;
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new TwelveError('usage', `${where}: name must be letters, digits, dots, dashes or underscores`);
  let cases: EvalSuite['cases'];
  if (Array.isArray(options.cases)) {
    const seen = new Set<string>();
    cases = options.cases.map((c, index) => {
      const parsed = parseEvalCase(c, `${where}: cases[${index}]`);
      if (seen.has(parsed.id)) throw new TwelveError('usage', `${where}: cases[${index}]: case id "${parsed.id}" is used twice`);
      seen.add(parsed.id);
      return parsed;
    });
  } else if (options.cases instanceof URL || typeof options.cases === 'string') {
    const file = options.cases instanceof URL ? fileURLToPath(options.cases) : options.cases.startsWith('file:') ? fileURLToPath(options.cases) : options.cases;
    if (!file.endsWith('.jsonl')) throw new TwelveError('usage', `${where}: cases must be a list or a .jsonl file, got ${file}`);
    cases = { file };
  } else {
    throw new TwelveError('usage', `${where}: cases must be a list of cases or the path of a .jsonl file`);
  }
  const scorers = (options.scorers ?? []).map((spec, index) => toScorer(spec, `${where}: scorers[${index}]`));
  const judge = typeof options.judge === 'string' ? { model: options.judge } : options.judge;
  if (judge !== undefined && (typeof judge.model !== 'string' || !judge.model.includes(':'))) throw new TwelveError('usage', `${where}: judge must name a model as provider:model-id`);
  if (options.threshold !== undefined && !(options.threshold >= 0 && options.threshold <= 1)) throw new TwelveError('usage', `${where}: threshold must be between 0 and 1`);
  if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency > 0)) throw new TwelveError('usage', `${where}: concurrency must be a positive whole number`);
  return { kind: 'twelve.eval', name, agent: options.agent, cases, scorers, judge, threshold: options.threshold, concurrency: options.concurrency };
}

export function isEvalSuite(value: unknown): value is EvalSuite {
  return typeof value === 'object' && value !== null && (value as EvalSuite).kind === 'twelve.eval';
}

/** A custom scorer as a Scorer: a function's boolean or number becomes a score (a number passes at 0.5 or more). */
function toScorer(spec: ScorerSpec, where: string): Scorer {
  if (typeof spec === 'function') {
    const name = spec.name || 'custom';
    return { name, score: async (run) => normalise(name, await spec(run)) };
  }
  if (spec && typeof spec === 'object' && typeof spec.score === 'function' && typeof spec.name === 'string' && spec.name) {
    return { name: spec.name, score: async (run) => normalise(spec.name, await spec.score(run)) };
  }
  throw new TwelveError('usage', `${where}: a scorer is a function (run) => boolean | number | { pass, score } or { name, score(run) }`);
}

function normalise(name: string, value: ScoreResult | boolean | number): ScoreResult {
  if (typeof value === 'boolean') return { name, pass: value, score: value ? 1 : 0 };
  if (typeof value === 'number') {
    const score = Math.min(1, Math.max(0, value));
    return { name, pass: score >= 0.5, score };
  }
  if (!value || typeof value.pass !== 'boolean') return { name, pass: false, score: 0, detail: 'the scorer returned neither a boolean, a number nor { pass, score }' };
  return { ...value, name: value.name || name, score: typeof value.score === 'number' ? value.score : value.pass ? 1 : 0 };
}
