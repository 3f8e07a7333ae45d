/** Scorers of what a case cost: spend, model calls, tokens, and whether a person was needed. */
import type { CaseRun, ScoreResult } from '../types.js';

/**
 * Spend at most this, at the uncached rates (CaseRun.listCostUsd): whether the provider's prompt
 * cache was warm must not pass or fail a case. An unknown spend (a call with no price) fails: a
 * limit cannot pass on what it cannot see.
 */
export function scoreMaxCost(run: CaseRun, maxUsd: number): ScoreResult {
  const cost = run.listCostUsd === undefined ? run.costUsd : run.listCostUsd;
  if (cost === null) return { name: 'maxCostUsd', pass: false, score: 0, detail: `cost unknown (a model call had no known price); limit $${maxUsd}` };
  const pass = cost <= maxUsd;
  const billed = run.costUsd !== null && Math.abs(run.costUsd - cost) > 1e-12 ? ` (billed $${run.costUsd.toFixed(6)} with the prompt cache)` : '';
  return { name: 'maxCostUsd', pass, score: pass ? 1 : 0, ...(pass ? {} : { detail: `cost $${cost.toFixed(6)} at uncached rates > $${maxUsd}${billed}` }) };
}

export function scoreMaxSteps(run: CaseRun, max: number): ScoreResult {
  const pass = run.steps <= max;
  return { name: 'maxSteps', pass, score: pass ? 1 : 0, ...(pass ? {} : { detail: `${run.steps} model calls > ${max}` }) };
}

export function scoreMaxTokens(run: CaseRun, max: number): ScoreResult {
  const tokens = run.inputTokens + run.outputTokens;
  const pass = tokens <= max;
  return { name: 'maxTokens', pass, score: pass ? 1 : 0, ...(pass ? {} : { detail: `${tokens} tokens > ${max}` }) };
}

const humanEvents: Record<string, string> = {
  approval_requested: 'an approval',
  human_asked: 'a question to a person',
  escalated: 'an escalation',
  budget_exceeded: 'a budget wait',
  review_requested: 'an output review',
};

/** The thread needed no person: no approval, question, escalation, budget wait or review. */
export function scoreNoHuman(run: CaseRun): ScoreResult {
  const needed = [...new Set(run.events.filter((e) => e.type in humanEvents).map((e) => humanEvents[e.type]!))];
  return needed.length === 0 ? { name: 'noHuman', pass: true, score: 1 } : { name: 'noHuman', pass: false, score: 0, detail: `needed ${needed.join(', ')}` };
}
