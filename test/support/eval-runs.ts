/** A stored eval run for tests of history, the API and the console: `passed` cases pass, the rest fail. */
import type { EvalRunRecord } from '../../src/eval/types.js';

export function evalRunRecord(
  id: string,
  releaseId: string,
  createdAt: string,
  passed: number,
  failed: number,
  extra: Partial<EvalRunRecord> & { casePrefix?: string } = {},
): EvalRunRecord {
  const { casePrefix = 'case', ...rest } = extra;
  const cases = passed + failed;
  return {
    id,
    suite: 'evals/refunds.jsonl',
    agent: 'refunds',
    releaseId,
    model: null,
    baselineReleaseId: null,
    createdAt,
    summary: { cases, passed, failed, score: passed / cases, costUsd: 0.0123, tokens: 4000, steps: 9, durationMs: 850 },
    results: Array.from({ length: cases }, (_, index) => ({
      id: `${casePrefix}-${index + 1}`,
      pass: index < passed,
      score: index < passed ? 1 : 0,
      scores: [{ name: 'output', pass: index < passed, score: index < passed ? 1 : 0, ...(index < passed ? {} : { detail: 'decision: expected "declined", got "refunded"' }) }],
      status: 'completed' as const,
      output: { decision: index < passed ? 'declined' : 'refunded' },
      costUsd: 0.004,
      tokens: 1300,
      steps: 3,
      latencyMs: 280,
    })),
    ...rest,
  };
}
