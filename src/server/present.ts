/** From store records and folded state to the API's JSON shapes. */
import type { Store, ThreadRecord } from '../store/types.js';
import type { ThreadState } from '../thread/state.js';
import type { FallbackJson, ForkOfJson, PendingJson, ThreadJson } from './schemas.js';

/** Which of these threads are forks (one query for a page of threads), by thread id. */
export async function forkLinks(store: Store, threadIds: string[]): Promise<Map<string, ForkOfJson>> {
  const links = new Map<string, ForkOfJson>();
  for (const e of await store.loadEventsOfType(threadIds, 'thread_forked')) {
    // In seq order: a fork of a fork also holds its origin's copied thread_forked; its own is the last.
    if (e.type !== 'thread_forked') continue;
    links.set(e.threadId, { threadId: e.data.from, seq: e.data.atSeq, by: e.data.by, replayOf: e.data.shadow?.replayOf ?? null });
  }
  return links;
}

/** Which of these threads the non-LLM fallback answered, and why (one query for a page of threads), by thread id. */
export async function fallbackLinks(store: Store, threadIds: string[]): Promise<Map<string, FallbackJson>> {
  const fallbacks = new Map<string, FallbackJson>();
  for (const e of await store.loadEventsOfType(threadIds, 'fallback_used')) {
    if (e.type === 'fallback_used') fallbacks.set(e.threadId, { reason: e.data.reason, detail: e.data.detail });
  }
  return fallbacks;
}

/**
 * `links`: from forkLinks, when the caller looked them up (then a thread not in it is not a fork).
 * `fallbacks`: from fallbackLinks, likewise (a thread not in it was not answered by the fallback).
 */
export function presentThread(thread: ThreadRecord, now = Date.now(), links?: Map<string, ForkOfJson>, fallbacks?: Map<string, FallbackJson>): ThreadJson {
  return {
    ...(links ? { forkOf: links.get(thread.id) ?? null } : {}),
    ...(fallbacks ? { fallback: fallbacks.get(thread.id) ?? null } : {}),
    id: thread.id,
    agent: thread.agent,
    status: thread.status,
    seq: thread.seq,
    releaseId: thread.releaseId,
    input: thread.input,
    output: thread.output,
    confidence: thread.confidence,
    error: thread.error,
    waitingReason: thread.waitingReason,
    modelSteps: thread.modelSteps,
    inputTokens: thread.inputTokens,
    outputTokens: thread.outputTokens,
    cachedInputTokens: thread.cachedInputTokens,
    cacheWriteTokens: thread.cacheWriteTokens,
    costUsd: thread.costUsd,
    pricedCostUsd: thread.pricedCostUsd,
    unpricedCalls: thread.unpricedCalls,
    tenant: thread.tenant,
    parentThreadId: thread.parentThreadId,
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
    wakeAt: thread.wakeAt === null ? null : new Date(thread.wakeAt).toISOString(),
    running: thread.leaseUntil !== null && thread.leaseUntil > now,
  };
}

const pendingKind = { errors: 'escalation', budget: 'budget', configuration: 'blocked', release: 'release' } as const;

/** What a person is asked for, right now, by this thread. */
export function pendingOf(state: ThreadState): PendingJson[] {
  const pending: PendingJson[] = [];
  if (state.escalation) pending.push({ kind: pendingKind[state.escalation.kind], reason: state.escalation.reason, seq: state.escalation.seq });
  const review = state.review;
  if (review) {
    pending.push({
      kind: 'review',
      output: review.output,
      confidence: review.confidence ?? null,
      source: review.source,
      reason: review.reason,
      reviewers: review.reviewers,
      people: review.people,
      deadline: review.deadline ?? null,
      onTimeout: review.onTimeout,
      seq: review.seq,
    });
  }
  for (const callId of state.openCalls) {
    const call = state.calls.get(callId)!;
    if (call.approval && !call.approval.decision) {
      pending.push({
        kind: 'approval',
        callId,
        tool: call.tool,
        args: call.args,
        reason: call.approval.reason,
        approvers: call.approval.approvers,
        people: call.approval.people ?? [],
        deadline: call.approval.deadline ?? null,
        onTimeout: call.approval.onTimeout,
      });
    } else if (call.question && !call.outcome) {
      pending.push({
        kind: 'question',
        callId,
        question: call.question.question,
        urgency: call.question.urgency,
        options: call.question.options ?? null,
        deadline: call.question.deadline ?? null,
      });
    }
  }
  return pending;
}

/** Opaque keyset cursor. */
export function encodeCursor(thread: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([thread.createdAt, thread.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    return typeof createdAt === 'string' && typeof id === 'string' ? { createdAt, id } : undefined;
  } catch {
    return undefined;
  }
}
