/**
 * What people do to threads: approve or reject a call, answer a question or an
 * escalation, raise a thread's budget, pause, resume, cancel. Each action is one event
 * appended under the thread's lease with the expected-seq check, so two people racing
 * on one call produce exactly one decision; the loser gets a clear conflict error.
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import { event, type NewEvent } from '../thread/events.js';
import { isTerminal, type CallState, type ThreadState } from '../thread/state.js';
import { assertAllowed, type Human } from './approval.js';

export type HumanAction =
  | { kind: 'decide'; callId?: string; approved: boolean; comment?: string }
  | { kind: 'answer'; callId?: string; answer: string }
  | { kind: 'resume'; comment?: string }
  | { kind: 'raiseBudget'; maxCostUsd?: number; maxTokens?: number; maxSteps?: number; comment?: string }
  | { kind: 'pause'; reason?: string }
  | { kind: 'cancel'; reason?: string };

/** The events an action appends, or an error saying why it cannot apply now. Pure. */
export function eventsForAction(release: AgentRelease, state: ThreadState, human: Human, action: HumanAction): NewEvent[] {
  const id = state.threadId;
  if (isTerminal(state.status)) throw new TwelveError('conflict', `thread ${id} is ${state.status}; it takes no more decisions`, { details: { status: state.status } });
  switch (action.kind) {
    case 'decide': {
      const undecided = (c: CallState) => Boolean(c.approval && !c.approval.decision);
      const hasPending = action.callId ? true : state.openCalls.some((callId) => undecided(state.calls.get(callId)!));
      // Nothing pending: if a decision was just made, say so (the racing decider's case).
      const call = hasPending ? findCall(state, action.callId, (c) => Boolean(c.approval), 'an approval', undecided) : lastDecided(state) ?? findCall(state, undefined, undecided, 'an approval');
      const approval = call.approval!;
      if (approval.decision) {
        const verb = approval.decision.approved ? 'approved' : 'rejected';
        throw new TwelveError('conflict', `call ${call.callId} (${call.tool}) was already ${verb} by ${approval.decision.by}; the first decision stands`, {
          details: { decision: approval.decision },
        });
      }
      assertAllowed(approval.approvers, human, `decide on ${call.tool}`);
      return [event('approval_decided', { callId: call.callId, approved: action.approved, by: human.name, ...(action.comment ? { comment: action.comment } : {}) })];
    }
    case 'answer': {
      const open = state.openCalls.map((callId) => state.calls.get(callId)!).find((c) => c.question);
      if (!open && !action.callId && state.escalation) {
        // Answering an escalation is guidance: the model reads it and the thread goes on.
        return [event('resumed', { by: human.name, comment: action.answer })];
      }
      const call = findCall(state, action.callId, (c) => Boolean(c.question), 'a question');
      if (call.outcome) throw new TwelveError('conflict', `question ${call.callId} was already answered; the first answer stands`);
      const tool = release.agent.tools.get(call.tool);
      assertAllowed(tool?.human?.answerers ?? [], human, 'answer this question');
      return [event('human_answered', { callId: call.callId, answer: action.answer, by: human.name })];
    }
    case 'resume':
      if (!state.paused && !state.escalation) {
        throw new TwelveError('conflict', `thread ${id} is ${state.status}, not paused or escalated; there is nothing to resume`, { details: { status: state.status } });
      }
      return [event('resumed', { by: human.name, ...(action.comment ? { comment: action.comment } : {}) })];
    case 'raiseBudget': {
      const { maxCostUsd, maxTokens, maxSteps, comment } = action;
      if (maxCostUsd === undefined && maxTokens === undefined && maxSteps === undefined) {
        throw new TwelveError('usage', 'raise the budget with at least one of maxCostUsd, maxTokens, maxSteps');
      }
      return [
        event('budget_raised', {
          by: human.name,
          ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
          ...(maxTokens !== undefined ? { maxTokens } : {}),
          ...(maxSteps !== undefined ? { maxSteps } : {}),
          ...(comment ? { comment } : {}),
        }),
      ];
    }
    case 'pause':
      if (state.paused) throw new TwelveError('conflict', `thread ${id} is already paused by ${state.paused.by}`);
      return [event('paused', { by: human.name, ...(action.reason ? { reason: action.reason } : {}) })];
    case 'cancel':
      return [event('cancelled', { by: human.name, ...(action.reason ? { reason: action.reason } : {}) })];
  }
}

function lastDecided(state: ThreadState): CallState | undefined {
  let found: CallState | undefined;
  for (const call of state.calls.values()) if (call.approval?.decision) found = call;
  return found;
}

function findCall(state: ThreadState, callId: string | undefined, matches: (call: CallState) => boolean, what: string, pendingOnly = matches): CallState {
  if (callId) {
    const call = state.calls.get(callId);
    if (!call || !matches(call)) throw new TwelveError('conflict', `thread ${state.threadId} has no ${what} for call "${callId}"`, { details: { callId } });
    return call;
  }
  const pending = state.openCalls.map((id) => state.calls.get(id)!).filter(pendingOnly);
  if (pending.length === 0) {
    throw new TwelveError('conflict', `thread ${state.threadId} is not waiting for ${what} (status ${state.status})`, { details: { status: state.status } });
  }
  if (pending.length > 1) {
    throw new TwelveError('usage', `thread ${state.threadId} waits for ${pending.length} of them; name the call: ${pending.map((c) => `${c.callId} (${c.tool})`).join(', ')}`);
  }
  return pending[0]!;
}
