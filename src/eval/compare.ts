/**
 * Baseline vs candidate: which cases regressed (passed on the baseline, fail on the candidate)
 * and how far the mean score over the cases both ran moved. Without a baseline, every failing
 * case counts (a suite's first run must pass on its own).
 */
import type { CaseResult } from './types.js';

export interface Regression {
  id: string;
  reason: string;
}

export interface Comparison {
  regressions: Regression[];
  /** Mean score over the shared cases: baseline minus candidate (positive: worse); null without a baseline. */
  scoreDrop: number | null;
  /** The gate's verdict. */
  failed: boolean;
}

export function compareResults(baseline: CaseResult[] | undefined, candidate: CaseResult[], threshold: number): Comparison {
  if (!baseline) {
    const failing = candidate.filter((r) => !r.pass).map((r) => ({ id: r.id, reason: failReason(r) }));
    return { regressions: failing, scoreDrop: null, failed: failing.length > 0 };
  }
  const before = new Map(baseline.map((r) => [r.id, r]));
  const regressions: Regression[] = [];
  let baseSum = 0;
  let candidateSum = 0;
  let shared = 0;
  for (const result of candidate) {
    const base = before.get(result.id);
    if (!base) continue;
    shared += 1;
    baseSum += base.score;
    candidateSum += result.score;
    if (base.pass && !result.pass) regressions.push({ id: result.id, reason: failReason(result) });
  }
  const scoreDrop = shared ? Math.round(((baseSum - candidateSum) / shared) * 10_000) / 10_000 : 0;
  return { regressions, scoreDrop, failed: regressions.length > 0 || scoreDrop > threshold };
}

/** What failed, in one line: the error, or the failed checks with their details. */
export function failReason(result: CaseResult): string {
  if (result.error) return result.error;
  return result.scores
    .filter((s) => !s.pass)
    .map((s) => (s.detail ? `${s.name}: ${s.detail}` : s.name))
    .join('; ');
}
