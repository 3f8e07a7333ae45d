/** Helpers both stores share for the quality loop's tables (eval runs, proposals, confidence). */
import { TwelveError } from '../errors.js';
import type { ProposalRecord } from '../eval/types.js';
import type { ConfidenceHistogram } from './types.js';

/** The conflict a second decision on one proposal gets: the first one stands. */
export function proposalDecided(proposal: ProposalRecord): TwelveError {
  return new TwelveError('conflict', `proposal ${proposal.id} was already ${proposal.status} by ${proposal.decidedBy ?? 'someone'}; the first decision stands`, {
    details: { status: proposal.status, decidedBy: proposal.decidedBy },
  });
}

/** Cumulative bucket counts per agent, from rows sorted by agent. */
export function histogram(rows: Array<{ agent: string; confidence: number }>, bounds: number[]): ConfidenceHistogram[] {
  const byAgent = new Map<string, ConfidenceHistogram>();
  for (const { agent, confidence } of rows) {
    let entry = byAgent.get(agent);
    if (!entry) byAgent.set(agent, (entry = { agent, counts: bounds.map(() => 0), count: 0, sum: 0 }));
    entry.count += 1;
    entry.sum += confidence;
    bounds.forEach((bound, index) => {
      if (confidence <= bound) entry.counts[index]! += 1;
    });
  }
  return [...byAgent.values()];
}
