/**
 * Deadlines of a wait for a person (an approval, an ask_human question) and the default
 * applied when one passes. One definition serves both who can notice a passed deadline:
 * the worker (decide -> approvalTimeout/questionTimeout) and a person who acts too late
 * (runtime/human.ts), so the log records the same outcome whichever comes first.
 */
import { event, type NewEvent } from './events.js';
import type { QuestionState } from './state.js';

/** The name recorded as the decider when a deadline's default is applied. */
export const timeoutDecider = 'timeout';

/** True once `now` is at or after the deadline (decide and late actions use this one test). */
export function deadlinePassed(deadline: string | undefined, now: number): deadline is string {
  return deadline !== undefined && now >= Date.parse(deadline);
}

/** What an unanswered question gets at its deadline. */
export function defaultAnswerOf(question: QuestionState): string {
  return question.defaultAnswer ?? 'No answer came before the deadline; decide without it.';
}

/** approval_decided by "timeout": the policy default of a call nobody decided in time. */
export function approvalTimeoutEvent(callId: string, approved: boolean): NewEvent {
  return event('approval_decided', {
    callId,
    approved,
    by: timeoutDecider,
    comment: `nobody decided before the deadline; the policy default (${approved ? 'approve' : 'reject'}) applies`,
  });
}

/** human_answered by "timeout": the default answer of a question nobody answered in time. */
export function questionTimeoutEvent(callId: string, answer: string): NewEvent {
  return event('human_answered', { callId, answer, by: timeoutDecider });
}
