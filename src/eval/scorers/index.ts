/**
 * The checks of one case: built-in scorers from its expectations (status first, always), then
 * the suite's custom scorers and, for cases with criteria, the LLM judge. A scorer that throws
 * fails its check with the error as detail; it never stops the run.
 */
import type { z } from 'zod';
import { errorMessage } from '../../errors.js';
import type { CaseRun, ScoreResult, Scorer } from '../types.js';
import { scoreMaxCost, scoreMaxSteps, scoreMaxTokens, scoreNoHuman } from './limits.js';
import { scoreOutput, scoreOutputSubset, scoreSchema, scoreStatus } from './output.js';
import { scoreCalled, scoreNever, scoreNoApproval } from './tools.js';

export interface ScoreOptions {
  /** The agent's output schema (checked when the case expects a completed thread). */
  outputSchema: z.ZodType | undefined;
  custom: Scorer[];
  /** Grades `expect.judge` criteria (see judge.ts). */
  judge?: (criteria: string, run: CaseRun) => Promise<ScoreResult>;
}

/** Every check of the case's expectations, in a fixed order. */
export function expectationScores(run: CaseRun, outputSchema: z.ZodType | undefined): ScoreResult[] {
  const expect = run.case.expect ?? {};
  const scores = [scoreStatus(run)];
  if ((expect.status ?? 'completed') === 'completed' && outputSchema && run.status === 'completed') scores.push(scoreSchema(run, outputSchema));
  if (expect.output !== undefined) scores.push(scoreOutput(run, expect.output));
  if (expect.outputSubset !== undefined) scores.push(scoreOutputSubset(run, expect.outputSubset));
  if (expect.tools?.called?.length) scores.push(scoreCalled(run, expect.tools.called));
  if (expect.tools?.never?.length) scores.push(scoreNever(run, expect.tools.never));
  if (expect.tools?.noApproval) scores.push(scoreNoApproval(run));
  if (expect.noHuman) scores.push(scoreNoHuman(run));
  if (expect.maxCostUsd !== undefined) scores.push(scoreMaxCost(run, expect.maxCostUsd));
  if (expect.maxSteps !== undefined) scores.push(scoreMaxSteps(run, expect.maxSteps));
  if (expect.maxTokens !== undefined) scores.push(scoreMaxTokens(run, expect.maxTokens));
  return scores;
}

export async function scoreCase(run: CaseRun, options: ScoreOptions): Promise<ScoreResult[]> {
  const scores = expectationScores(run, options.outputSchema);
  for (const scorer of options.custom) {
    try {
      scores.push(await scorer.score(run));
    } catch (error) {
      scores.push({ name: scorer.name, pass: false, score: 0, detail: `the scorer threw: ${errorMessage(error)}` });
    }
  }
  const criteria = run.case.expect?.judge;
  if (criteria && options.judge) scores.push(await options.judge(criteria, run));
  return scores;
}
