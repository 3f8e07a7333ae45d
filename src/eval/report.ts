/**
 * The text report of `twelve eval`: one row per case, baseline next to candidate (pass/fail,
 * score, cost, tokens, model calls, latency), the failed checks of failing cases, then a
 * summary line per side and the verdict.
 */
import type { Comparison } from './compare.js';
import { failReason } from './compare.js';
import type { CaseResult, EvalSummary } from './types.js';

export interface ReportSide {
  label: string;
  releaseId: string;
  summary: EvalSummary;
  results: CaseResult[];
}

const verdict = (r: CaseResult | undefined) => (!r ? '-' : r.status === 'error' ? 'ERROR' : r.pass ? 'pass' : 'FAIL');
const score = (r: CaseResult | undefined) => (r ? r.score.toFixed(2) : '-');
const cost = (value: number | null | undefined) => (value === undefined ? '-' : value === null ? 'unknown' : `$${value.toFixed(4)}`);
const pair = (base: string | undefined, candidate: string) => (base === undefined ? candidate : `${base} → ${candidate}`);

export function renderReport(rows: (cells: string[][]) => string, baseline: ReportSide | undefined, candidate: ReportSide, comparison: Comparison, threshold: number): string {
  const before = new Map((baseline?.results ?? []).map((r) => [r.id, r]));
  const regressed = new Set(comparison.regressions.map((r) => r.id));
  const header = baseline ? ['CASE', 'BASELINE', 'CANDIDATE', 'SCORE', 'COST', 'TOKENS', 'STEPS', 'LATENCY ms'] : ['CASE', 'RESULT', 'SCORE', 'COST', 'TOKENS', 'STEPS', 'LATENCY ms'];
  const table = [header];
  for (const r of candidate.results) {
    const b = baseline ? before.get(r.id) : undefined;
    const side = (f: (x: CaseResult) => string) => (baseline ? pair(b ? f(b) : '-', f(r)) : f(r));
    const mark = regressed.has(r.id) && baseline ? ' ← regressed' : '';
    const cells = [r.id, ...(baseline ? [verdict(b)] : []), verdict(r) + mark, side(score), side((x) => cost(x.costUsd)), side((x) => String(x.tokens)), side((x) => String(x.steps)), side((x) => String(x.latencyMs))];
    table.push(cells);
  }
  const lines = [rows(table)];
  const failing = candidate.results.filter((r) => !r.pass);
  if (failing.length) {
    lines.push('');
    for (const r of failing) lines.push(`${r.id}: ${failReason(r)}`);
  }
  lines.push('');
  if (baseline) lines.push(summaryLine(baseline));
  lines.push(summaryLine(candidate));
  if (!baseline) {
    lines.push(comparison.failed ? `FAILED: ${comparison.regressions.length} case(s) failing: ${comparison.regressions.map((r) => r.id).join(', ')}` : 'passed: every case passes');
  } else {
    const drop = comparison.scoreDrop ?? 0;
    const moved = drop > 0 ? `mean score down ${drop.toFixed(4)}` : drop < 0 ? `mean score up ${(-drop).toFixed(4)}` : 'mean score unchanged';
    if (comparison.regressions.length) lines.push(`REGRESSION: ${comparison.regressions.map((r) => r.id).join(', ')} passed on ${baseline.releaseId} and fail${comparison.regressions.length === 1 ? 's' : ''} on ${candidate.releaseId}; ${moved}`);
    else if (comparison.failed) lines.push(`REGRESSION: ${moved}, more than the threshold ${threshold}`);
    else lines.push(`no regression: ${moved} (threshold ${threshold})`);
  }
  return lines.join('\n');
}

function summaryLine(side: ReportSide): string {
  const s = side.summary;
  return `${side.label} ${side.releaseId}: ${s.passed}/${s.cases} passed, mean score ${s.score.toFixed(4)}, cost ${cost(s.costUsd)}, ${s.tokens} tokens, ${s.steps} model calls, ${s.durationMs} ms`;
}
