/** Scorers of how a case's thread ended: its status, its output (exact, subset) and the output's schema. */
import type { z } from 'zod';
import { brief, jsonEqual, subsetDifference } from '../json-match.js';
import type { CaseRun, ScoreResult } from '../types.js';

const result = (name: string, pass: boolean, detail?: string): ScoreResult => ({ name, pass, score: pass ? 1 : 0, ...(pass || !detail ? {} : { detail }) });

/** The thread ended as expected (default completed). */
export function scoreStatus(run: CaseRun, expected = run.case.expect?.status ?? 'completed'): ScoreResult {
  const why = run.error ? ` (${run.error.code}: ${run.error.message})` : '';
  return result('status', run.status === expected, `expected ${expected}, got ${run.status}${why}`);
}

/** The output equals the expected one (deep, key order ignored). */
export function scoreOutput(run: CaseRun, expected: unknown): ScoreResult {
  return result('output', jsonEqual(run.output, expected), `expected ${brief(expected)}, got ${brief(run.output)}`);
}

/** The output contains the expected fields (JSON subset). */
export function scoreOutputSubset(run: CaseRun, expected: unknown): ScoreResult {
  const difference = subsetDifference(run.output, expected);
  return result('outputSubset', difference === undefined, difference);
}

/** The output satisfies the agent's output schema. */
export function scoreSchema(run: CaseRun, schema: z.ZodType): ScoreResult {
  const parsed = schema.safeParse(run.output);
  const issue = parsed.success ? undefined : parsed.error.issues[0];
  return result('schema', parsed.success, issue ? `${issue.path.join('.') || '(output)'}: ${issue.message}` : undefined);
}
