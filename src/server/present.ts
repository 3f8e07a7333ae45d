/** From store records and folded state to the API's JSON shapes. */
import type { ThreadRecord } from '../store/types.js';
import type { ThreadState } from '../thread/state.js';
import type { PendingJson, ThreadJson } from './schemas.js';

export function presentThread(thread: ThreadRecord, now = Date.now()): ThreadJson {
  return {
    id: thread.id,
    agent: thread.agent,
    status: thread.status,
    seq: thread.seq,
    releaseId: thread.releaseId,
    input: thread.input,
    output: thread.output,
    error: thread.error,
    waitingReason: thread.waitingReason,
    modelSteps: thread.modelSteps,
    inputTokens: thread.inputTokens,
    outputTokens: thread.outputTokens,
    costUsd: thread.costUsd,
    pricedCostUsd: thread.pricedCostUsd,
    unpricedCalls: thread.unpricedCalls,
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
  if (state.escalation) pending.push({ kind: pendingKind[state.escalation.kind], reason: state.escalation.reason });
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
