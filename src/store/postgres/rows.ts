/**
 * Between JavaScript values and PostgreSQL rows: JSON text for json parameters, column
 * arrays for multi-row inserts, and rows back into ThreadRecord / ThreadEvent (bigint
 * columns arrive as strings, timestamptz as Date).
 */
import type { CompactError, NewEvent, ThreadEvent } from '../../thread/events.js';
import type { ThreadStatus } from '../../thread/state.js';
import type { ControlRequest, CopiedEvent, ThreadRecord, ThreadSummary } from '../types.js';

export type ThreadRow = {
  id: string;
  agent: string;
  status: string;
  seq: number;
  release_id: string;
  input: unknown;
  output: unknown;
  error: CompactError | null;
  waiting_reason: string | null;
  model_steps: number;
  input_tokens: string;
  output_tokens: string;
  cached_input_tokens: string;
  cache_write_tokens: string;
  cost_usd: number;
  unpriced_calls: number;
  lease_owner: string | null;
  lease_until: string | null;
  launch_key: string | null;
  wake_at: string | null;
  control: ControlRequest | null;
  confidence: number | null;
  tenant: string | null;
  parent_id: string | null;
  created_at: Date;
  updated_at: Date;
};

export type EventRow = {
  thread_id: string;
  seq: number;
  type: string;
  at: Date;
  release_id: string;
  data: unknown;
  hash: string | null;
};

/** When a thread with this summary has work for a worker (the same rule as SQLite's), or null. */
export function readyAtOf(summary: ThreadSummary, now: number): number | null {
  switch (summary.status) {
    case 'runnable':
      return now;
    case 'awaiting_approval':
    case 'awaiting_human':
    case 'awaiting_review':
    case 'awaiting_child':
    case 'sleeping':
      return summary.wakeAt ?? null;
    default:
      return null;
  }
}

/** JSON text for a json parameter (stored as written: key order and all). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

export function summaryColumns(summary: ThreadSummary) {
  return {
    status: summary.status,
    output: summary.output === undefined ? null : jsonText(summary.output),
    error: summary.error ? jsonText(summary.error) : null,
    waitingReason: summary.waitingReason ?? null,
    modelSteps: summary.modelSteps,
    inputTokens: summary.inputTokens,
    outputTokens: summary.outputTokens,
    costUsd: summary.costUsd,
    unpricedCalls: summary.unpricedCalls ?? 0,
    cachedInputTokens: summary.cachedInputTokens ?? 0,
    cacheWriteTokens: summary.cacheWriteTokens ?? 0,
  };
}

/** Column arrays for the unnest() in one multi-row INSERT. */
export function eventColumns(events: Array<NewEvent | CopiedEvent>, afterSeq: number) {
  return {
    seqs: events.map((_, index) => afterSeq + index + 1),
    types: events.map((event) => event.type),
    data: events.map((event) => jsonText(event.data)),
  };
}

export function stored(threadId: string, afterSeq: number, releaseId: string, at: string, events: Array<NewEvent | CopiedEvent>): ThreadEvent[] {
  return events.map((e, index) => {
    // A copied event (a fork's prefix) keeps the release and time it was first written at.
    const own = 'releaseId' in e ? { releaseId: e.releaseId, at: e.at } : { releaseId, at };
    return { type: e.type, data: e.data, threadId, seq: afterSeq + index + 1, ...own } as ThreadEvent;
  });
}

/** Each event's own release id and time, or null where the statement's defaults apply. */
export function copiedColumns(events: Array<NewEvent | CopiedEvent>) {
  return {
    releaseIds: events.map((e) => ('releaseId' in e ? e.releaseId : null)),
    ats: events.map((e) => ('releaseId' in e ? e.at : null)),
  };
}

export function toEvent(row: EventRow): ThreadEvent {
  return { threadId: row.thread_id, seq: row.seq, type: row.type, at: row.at.toISOString(), releaseId: row.release_id, data: row.data, hash: row.hash } as ThreadEvent;
}

/** bigint columns arrive as strings (they may exceed 2^53 in general; epoch ms and token counts do not). */
export function toNumber(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}

export function toThread(row: ThreadRow): ThreadRecord {
  return {
    id: row.id,
    agent: row.agent,
    status: row.status as ThreadStatus,
    seq: row.seq,
    releaseId: row.release_id,
    input: row.input,
    output: row.output ?? null,
    error: row.error ?? null,
    waitingReason: row.waiting_reason,
    modelSteps: row.model_steps,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens ?? 0),
    cacheWriteTokens: Number(row.cache_write_tokens ?? 0),
    costUsd: row.unpriced_calls > 0 ? null : row.cost_usd,
    pricedCostUsd: row.cost_usd,
    unpricedCalls: row.unpriced_calls,
    leaseOwner: row.lease_owner,
    leaseUntil: toNumber(row.lease_until),
    launchKey: row.launch_key,
    wakeAt: toNumber(row.wake_at),
    control: row.control ?? null,
    confidence: row.confidence ?? null,
    tenant: row.tenant ?? null,
    parentThreadId: row.parent_id ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
