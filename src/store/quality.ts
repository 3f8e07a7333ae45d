/** Helpers both stores share for the quality loop's tables (eval runs, proposals, confidence). */
import { TwelveError } from '../errors.js';
import type { EvalRunRecord, ProposalRecord } from '../eval/types.js';
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

/** An eval_runs row as either store reads it: JSON columns as text (SQLite) or parsed (PostgreSQL), times as text or Date. */
export interface EvalRunRow {
  id: string;
  suite: string;
  agent: string;
  release_id: string;
  model: string | null;
  baseline_release_id: string | null;
  created_at: string | Date;
  summary: unknown;
  results: unknown;
}

/** An eval_proposals row, read the same way. */
export interface ProposalRow {
  id: string;
  thread_id: string;
  agent: string;
  seq: number;
  kind: ProposalRecord['kind'];
  status: ProposalRecord['status'];
  draft: unknown;
  created_at: string | Date;
  decided_by: string | null;
  decided_at: string | Date | null;
  suite: string | null;
}

const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
const time = (value: string | Date) => (value instanceof Date ? value.toISOString() : value);

export function toEvalRun(row: EvalRunRow): EvalRunRecord {
  return {
    id: row.id,
    suite: row.suite,
    agent: row.agent,
    releaseId: row.release_id,
    model: row.model,
    baselineReleaseId: row.baseline_release_id,
    createdAt: time(row.created_at),
    summary: json(row.summary),
    results: json(row.results),
  };
}

export function toProposal(row: ProposalRow): ProposalRecord {
  return {
    id: row.id,
    threadId: row.thread_id,
    agent: row.agent,
    seq: row.seq,
    kind: row.kind,
    status: row.status,
    draft: json(row.draft),
    createdAt: time(row.created_at),
    decidedBy: row.decided_by,
    decidedAt: row.decided_at === null ? null : time(row.decided_at),
    suite: row.suite,
  };
}
