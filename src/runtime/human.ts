/**
 * What people do to threads: approve or reject a call, answer a question or an
 * escalation, review a final answer (src/runtime/review.ts), raise a thread's budget, pause,
 * resume, cancel. Each action is one event
 * appended under the thread's lease with the expected-seq check, so two people racing
 * on one call produce exactly one decision; the loser gets a clear conflict error. An
 * approval or answer that arrives after its deadline is refused, and the deadline's
 * default is recorded in its place, in the same transaction.
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import type { Deciders } from '../agent/deciders.js';
import { approvalTimeoutEvent, deadlinePassed, defaultAnswerOf, questionTimeoutEvent, timeoutDecider } from '../thread/deadlines.js';
import { event, type NewEvent } from '../thread/events.js';
import { interruptedAnswers, parseInterruptedAnswer } from '../thread/interrupted-tool.js';
import { isTerminal, type CallState, type ThreadState } from '../thread/state.js';
import { assertAllowed, type Human } from './approval.js';
import { reviewActionEffect } from './review.js';

export type HumanAction =
  | { kind: 'decide'; callId?: string; approved: boolean; comment?: string }
  | { kind: 'answer'; callId?: string; answer: string }
  | { kind: 'resume'; comment?: string }
  | { kind: 'raiseBudget'; maxCostUsd?: number; maxTokens?: number; maxSteps?: number; comment?: string }
  | { kind: 'pause'; reason?: string }
  | { kind: 'cancel'; reason?: string }
  /** A reviewer's decision on a final answer waiting for review (output: the edit; feedback: what to change). */
  | { kind: 'review'; decision: 'approved' | 'edited' | 'sent_back' | 'rejected'; output?: unknown; feedback?: string; comment?: string };

/**
 * What an action does: the events it appends (one transaction), and for an action that came
 * after its deadline, the refusal to throw once they are committed: the events then record
 * the deadline's default (by "timeout"), exactly what a worker would have recorded.
 */
export interface ActionEffect {
  events: NewEvent[];
  refusal?: TwelveError;
}

/** The events an action appends at time `now`, or an error saying why it cannot apply now. Pure. */
export function eventsForAction(release: AgentRelease, state: ThreadState, human: Human, action: HumanAction, now: number): ActionEffect {
  const id = state.threadId;
  // A review names the decision that finished the thread (the first one stands), not just its status.
  if (action.kind === 'review') return reviewActionEffect(release, state, human, action, now);
  if (isTerminal(state.status)) throw new TwelveError('conflict', `thread ${id} is ${state.status}; it takes no more decisions`, { details: { status: state.status } });
  switch (action.kind) {
    case 'decide': {
      const undecided = (c: CallState) => Boolean(c.approval && !c.approval.decision);
      const hasPending = action.callId ? true : state.openCalls.some((callId) => undecided(state.calls.get(callId)!));
      // Nothing pending: if a decision was just made, say so (the racing decider's case).
      const call = hasPending ? findCall(state, action.callId, (c) => Boolean(c.approval), 'approval', undecided) : lastDecided(state) ?? findCall(state, undefined, undecided, 'approval');
      const approval = call.approval!;
      if (approval.decision) {
        if (approval.decision.by === timeoutDecider) throw lateDecision(call, approval.decision.approved);
        const verb = approval.decision.approved ? 'approved' : 'rejected';
        throw new TwelveError('conflict', `call ${call.callId} (${call.tool}) was already ${verb} by ${approval.decision.by}; the first decision stands`, {
          details: { decision: approval.decision },
        });
      }
      assertAllowed(approvalDeciders(release, call), human, `decide on ${call.tool}`);
      if (deadlinePassed(approval.deadline, now)) {
        const approved = approval.onTimeout === 'approve';
        return { events: [approvalTimeoutEvent(call.callId, approved)], refusal: lateDecision(call, approved) };
      }
      return { events: [event('approval_decided', { callId: call.callId, approved: action.approved, by: human.name, ...(action.comment ? { comment: action.comment } : {}) })] };
    }
    case 'answer': {
      const open = state.openCalls.map((callId) => state.calls.get(callId)!).find((c) => c.question);
      if (!open && !action.callId && state.escalation) {
        // Answering an escalation is guidance: the model reads it and the thread goes on.
        return { events: [event('resumed', { by: human.name, comment: action.answer })] };
      }
      const asked = (c: CallState) => Boolean(c.question);
      // Nothing asked now: if a question was just answered (or timed out), say so.
      const call = open || action.callId ? findCall(state, action.callId, asked, 'question') : lastSettled(state, asked) ?? findCall(state, undefined, asked, 'question');
      const question = call.question!;
      if (call.outcome) {
        const answer = call.outcome.ok ? (call.outcome.result as { answer?: string; answeredBy?: string; confirmedBy?: string }) : undefined;
        if (answer?.answeredBy === timeoutDecider) throw lateAnswer(call, answer.answer ?? defaultAnswerOf(question));
        const by = answer?.answeredBy ?? answer?.confirmedBy;
        throw new TwelveError('conflict', `question ${call.callId} was already answered${by ? ` by ${by}` : ''}; the first answer stands`);
      }
      if (question.about === 'interrupted_tool') return { events: [interruptedAnswerEvent(release, call, human, action.answer)] };
      const tool = release.agent.tools.get(call.tool);
      assertAllowed({ roles: tool?.human?.answerers ?? [], people: tool?.human?.people ?? [] }, human, 'answer this question');
      if (deadlinePassed(question.deadline, now)) {
        const answer = defaultAnswerOf(question);
        return { events: [questionTimeoutEvent(call.callId, answer)], refusal: lateAnswer(call, answer) };
      }
      return { events: [event('human_answered', { callId: call.callId, answer: action.answer, by: human.name })] };
    }
    case 'resume':
      if (!state.paused && !state.escalation) {
        throw new TwelveError('conflict', `thread ${id} is ${state.status}, not paused or escalated; there is nothing to resume`, { details: { status: state.status } });
      }
      return { events: [event('resumed', { by: human.name, ...(action.comment ? { comment: action.comment } : {}) })] };
    case 'raiseBudget':
      return { events: [budgetEvent(release, state, human, action)] };
    case 'pause':
      if (state.paused) throw new TwelveError('conflict', `thread ${id} is already paused by ${state.paused.by}`);
      return { events: [event('paused', { by: human.name, ...(action.reason ? { reason: action.reason } : {}) })] };
    case 'cancel':
      return { events: [event('cancelled', { by: human.name, ...(action.reason ? { reason: action.reason } : {}) })] };
  }
}

/**
 * The answer to "did this interrupted call happen?": exactly one of its three answers (a
 * comment may follow after ":"), from someone who may approve the tool (anyone when its
 * policy names nobody): confirming an effect is as much a decision as allowing one.
 */
function interruptedAnswerEvent(release: AgentRelease, call: CallState, human: Human, text: string): NewEvent {
  const parsed = parseInterruptedAnswer(text);
  if (!parsed) {
    const options = interruptedAnswers.map((answer) => `"${answer}"`).join(', ');
    throw new TwelveError(
      'usage',
      `question ${call.callId} asks whether ${call.tool} happened; answer one of ${options} (a comment may follow after ":", e.g. "happened: refund R-9 in the provider's dashboard"), not ${JSON.stringify(text.slice(0, 80))}`,
      { details: { callId: call.callId, options: [...interruptedAnswers] } },
    );
  }
  const approval = release.approvals.get(call.tool);
  assertAllowed({ roles: approval?.approvers ?? [], people: approval?.people ?? [] }, human, `say whether ${call.tool} happened`);
  return event('human_answered', { callId: call.callId, answer: parsed.answer, by: human.name, ...(parsed.comment ? { comment: parsed.comment } : {}) });
}

/**
 * Who may decide a call. Events recorded before roles and people were told apart (no
 * `people`) listed "names or roles": each entry counts as a role, unless the running
 * release names it as a person for that tool. Failing closed: a name nobody reclassified
 * can only be satisfied by the role of that name, never by a key that happens to bear it.
 */
function approvalDeciders(release: AgentRelease, call: CallState): Deciders {
  const approval = call.approval!;
  if (approval.people !== undefined) return { roles: approval.approvers, people: approval.people };
  const named = new Set(release.approvals.get(call.tool)?.people ?? []);
  return { roles: approval.approvers.filter((entry) => !named.has(entry)), people: approval.approvers.filter((entry) => named.has(entry)) };
}

function lateDecision(call: CallState, approved: boolean): TwelveError {
  const deadline = call.approval!.deadline;
  return new TwelveError(
    'conflict',
    `too late: the approval deadline of call ${call.callId} (${call.tool}) passed at ${deadline}, and the policy default (${approved ? 'approve' : 'reject'}) was applied; your decision was not recorded`,
    { details: { callId: call.callId, deadline, applied: approved ? 'approve' : 'reject' } },
  );
}

function lateAnswer(call: CallState, answer: string): TwelveError {
  const deadline = call.question!.deadline;
  return new TwelveError(
    'conflict',
    `too late: the deadline of question ${call.callId} passed at ${deadline}, and the default answer was given ("${answer}"); your answer was not recorded`,
    { details: { callId: call.callId, deadline, applied: answer } },
  );
}

/**
 * budget_raised, or why not. A limit at or below what the thread has already used could
 * never let it take another step, so it is refused with what is used (to stop a thread,
 * cancel or pause it). A limit below the one in force but above the use is a real
 * lowering: recorded with the previous limits so every reader can tell.
 */
function budgetEvent(release: AgentRelease, state: ThreadState, human: Human, action: Extract<HumanAction, { kind: 'raiseBudget' }>): NewEvent {
  const { maxCostUsd, maxTokens, maxSteps, comment } = action;
  if (maxCostUsd === undefined && maxTokens === undefined && maxSteps === undefined) {
    throw new TwelveError('usage', 'raise the budget with at least one of maxCostUsd, maxTokens, maxSteps');
  }
  const cap = release.budgetRaiseCap;
  if (cap && maxCostUsd !== undefined && maxCostUsd > cap.maxCostUsd) {
    throw new TwelveError('forbidden', `${human.name} may not give thread ${state.threadId} a cost limit of $${maxCostUsd}: the highest allowed is $${cap.maxCostUsd} (${cap.variable})`, {
      details: { maxCostUsd, cap: cap.maxCostUsd, variable: cap.variable },
    });
  }
  const used = { maxCostUsd: state.costUsd, maxTokens: state.inputTokens + state.outputTokens, maxSteps: state.modelSteps - state.turnStartSteps };
  const tooLow: string[] = [];
  if (maxCostUsd !== undefined && maxCostUsd <= used.maxCostUsd) tooLow.push(`a cost limit of $${maxCostUsd} when $${used.maxCostUsd.toFixed(4)} is already spent`);
  if (maxTokens !== undefined && maxTokens <= used.maxTokens) tooLow.push(`a limit of ${maxTokens} tokens when ${used.maxTokens} are already used`);
  if (maxSteps !== undefined && maxSteps <= used.maxSteps) tooLow.push(`a limit of ${maxSteps} model steps when ${used.maxSteps} are already taken`);
  if (tooLow.length > 0) {
    throw new TwelveError(
      'conflict',
      `thread ${state.threadId} cannot take ${tooLow.join(', nor ')}: it could never take another step. Set a limit above what is used to let it go on, or stop it with cancel (or pause)`,
      { details: { used } },
    );
  }
  const limits = release.limits;
  const previous = {
    ...(maxCostUsd !== undefined ? { maxCostUsd: state.limits.maxCostUsd ?? limits.maxCostUsd ?? null } : {}),
    ...(maxTokens !== undefined ? { maxTokens: state.limits.maxTokens ?? limits.maxTokens ?? null } : {}),
    ...(maxSteps !== undefined ? { maxSteps: state.limits.maxSteps ?? limits.maxSteps } : {}),
  };
  return event('budget_raised', {
    by: human.name,
    ...(maxCostUsd !== undefined ? { maxCostUsd } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(comment ? { comment } : {}),
    previous,
  });
}

function lastDecided(state: ThreadState): CallState | undefined {
  let found: CallState | undefined;
  for (const call of state.calls.values()) if (call.approval?.decision) found = call;
  return found;
}

function lastSettled(state: ThreadState, matches: (call: CallState) => boolean): CallState | undefined {
  let found: CallState | undefined;
  for (const call of state.calls.values()) if (call.outcome && matches(call)) found = call;
  return found;
}

function findCall(state: ThreadState, callId: string | undefined, matches: (call: CallState) => boolean, what: 'approval' | 'question', pendingOnly = matches): CallState {
  const pending = () => state.openCalls.map((id) => state.calls.get(id)!).filter(pendingOnly);
  const waiting = what === 'approval' ? 'waiting for approval' : 'waiting for an answer';
  const list = (calls: CallState[]) => calls.map((c) => `${c.callId} (${c.tool})`).join(', ');
  if (callId) {
    const call = state.calls.get(callId);
    if (!call || !matches(call)) {
      const open = pending();
      const known = call ? `call "${callId}" (${call.tool}) is not one ${waiting}` : `thread ${state.threadId} has no call "${callId}"`;
      throw new TwelveError('conflict', `${known}; ${open.length ? `calls ${waiting}: ${list(open)}` : `no call is ${waiting} (status ${state.status})`}`, {
        details: { callId, waiting: open.map((c) => c.callId) },
      });
    }
    return call;
  }
  const open = pending();
  if (open.length === 0) {
    throw new TwelveError('conflict', `thread ${state.threadId} has no call ${waiting} (status ${state.status})`, { details: { status: state.status } });
  }
  if (open.length > 1) {
    throw new TwelveError('usage', `thread ${state.threadId} has ${open.length} calls ${waiting}; name one: ${list(open)}`, { details: { waiting: open.map((c) => c.callId) } });
  }
  return open[0]!;
}
