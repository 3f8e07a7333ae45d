/**
 * Eval history as people read it: per suite, the score each release reached (its latest run),
 * oldest release first, so a drop after a prompt or model change stands out. Pure.
 */
import type { EvalRunRecord } from './types.js';

export type HistoryRun = Omit<EvalRunRecord, 'results'>;

export interface ScoreTrend {
  suite: string;
  agent: string;
  /** One point per release (with its model override), in the order the releases were first run. */
  points: Array<{ releaseId: string; model: string | null; score: number; passed: number; cases: number; createdAt: string }>;
}

/** Runs come newest first (the store's order); the trend reads them oldest first. */
export function scoreTrends(runs: HistoryRun[]): ScoreTrend[] {
  const trends = new Map<string, ScoreTrend>();
  for (const run of [...runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    let trend = trends.get(run.suite);
    if (!trend) trends.set(run.suite, (trend = { suite: run.suite, agent: run.agent, points: [] }));
    const point = { releaseId: run.releaseId, model: run.model, score: run.summary.score, passed: run.summary.passed, cases: run.summary.cases, createdAt: run.createdAt };
    const index = trend.points.findIndex((p) => p.releaseId === run.releaseId && p.model === run.model);
    // A release run again keeps its place in the line and shows its latest score.
    if (index >= 0) trend.points[index] = point;
    else trend.points.push(point);
  }
  return [...trends.values()];
}
