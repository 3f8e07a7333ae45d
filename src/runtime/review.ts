/**
 * Output review: quality control of a final answer before it completes the thread. The gate
 * (the agent's `review` policy) turns a valid answer into `review_requested` instead of
 * `thread_completed`; the thread then waits, durably, like an approval. A reviewer approves
 * it, edits it (the edit, validated against the output schema, ships; the original stays in
 * review_requested), sends it back with feedback the model reads as its next input, or
 * rejects it. Decisions follow the approval rules: only reviewers decide, the first decision
 * stands, and one that comes after the deadline is refused while the deadline's default is
 * recorded in its place, in the same transaction.
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError, errorMessage } from '../errors.js';
import { deadlinePassed, timeoutDecider } from '../thread/deadlines.js';
import { event, type NewEvent } from '../thread/events.js';
import { isTerminal, type ReviewState, type ThreadState } from '../thread/state.js';
import { assertAllowed, type Human } from './approval.js';
import { toJsonValue, zodIssues } from './compact-error.js';
import { confidenceOf } from './completion.js';
import type { ActionEffect, HumanAction } from './human.js';

export type ReviewDecision = 'approved' | 'edited' | 'sent_back' | 'rejected';
export type ReviewAction = Extract<HumanAction, { kind: 'review' }>;

export interface ReviewGateOptions {
  release: AgentRelease;
  state: ThreadState;
  output: unknown;
  confidence: number | undefined;
  source: 'model' | 'fallback';
  now: number;
}

/** review_requested when the agent's policy wants a person to look at this answer; undefined when it may ship. */
export function reviewRequest({ release, state, output, confidence, source, now }: ReviewGateOptions): NewEvent | undefined {
  const policy = release.agent.options.review;
  let reason: string;
  if (policy === undefined || policy === 'never') return undefined;
  if (policy === 'always') reason = 'this agent has every answer reviewed';
  else {
    try {
      const verdict = (policy as (output: unknown, ctx: unknown) => unknown)(output, { threadId: state.threadId, input: state.input, confidence, source });
      // Fail closed, like approvals: anything but false or { required: false } asks a person.
      const required = typeof verdict === 'boolean' ? verdict : (verdict as { required?: unknown } | null)?.required !== false;
      if (!required) return undefined;
      const given = typeof verdict === 'object' && verdict !== null ? (verdict as { reason?: unknown }).reason : undefined;
      reason = typeof given === 'string' && given.trim() ? given : 'the review policy requires it for this answer';
    } catch (error) {
      reason = `the review policy failed (${errorMessage(error)}), so review is required`;
    }
  }
  const review = release.review;
  return event('review_requested', {
    output,
    ...(confidence !== undefined ? { confidence } : {}),
    source,
    reason,
    reviewers: review.reviewers,
    people: review.people,
    ...(review.timeoutMs ? { deadline: new Date(now + review.timeoutMs).toISOString() } : {}),
    onTimeout: review.onTimeout,
  });
}

/** The default a review deadline applies (by "timeout"): the answer ships as it is, or the thread fails. */
export function reviewTimeoutEvents(review: ReviewState): NewEvent[] {
  if (review.onTimeout === 'approve') {
    return [
      event('review_decided', { decision: 'approved', by: timeoutDecider, comment: 'nobody reviewed the answer before the deadline; the policy default (approve) applies' }),
      completedEvent(review, timeoutDecider),
    ];
  }
  return [
    event('review_decided', { decision: 'rejected', by: timeoutDecider, comment: 'nobody reviewed the answer before the deadline; the policy default (fail) applies' }),
    event('thread_failed', { error: { code: 'review_timeout', message: `nobody reviewed the answer before its deadline (${review.deadline}); an unreviewed answer does not ship` } }),
  ];
}

/** What a reviewer's decision appends, or why it cannot apply now. Pure. */
export function reviewActionEffect(release: AgentRelease, state: ThreadState, human: Human, action: ReviewAction, now: number): ActionEffect {
  const review = state.review;
  if (!review) throw settledReviewError(state);
  assertAllowed({ roles: review.reviewers, people: review.people }, human, `review the answers of ${release.agent.name}`);
  const shape = checkShape(action);
  if (deadlinePassed(review.deadline, now)) return { events: reviewTimeoutEvents(review), refusal: lateReview(state.threadId, review) };
  const by = human.name;
  const comment = action.comment?.trim() ? { comment: action.comment.trim() } : {};
  switch (action.decision) {
    case 'approved':
      return { events: [event('review_decided', { decision: 'approved', by, ...comment }), completedEvent(review, by)] };
    case 'edited': {
      const output = validEdit(release, shape.output);
      return { events: [event('review_decided', { decision: 'edited', by, ...comment, output }), completedEvent(review, by, { output, confidence: confidenceOf(release, output) })] };
    }
    case 'sent_back':
      return { events: [event('review_decided', { decision: 'sent_back', by, ...comment, feedback: shape.feedback! })] };
    case 'rejected': {
      const why = comment.comment ? `: ${comment.comment}` : ' (no comment)';
      return {
        events: [
          event('review_decided', { decision: 'rejected', by, ...comment }),
          event('thread_failed', { error: { code: 'review_rejected', message: `the answer was rejected in review by ${by}${why}` } }),
        ],
      };
    }
  }
}

/**
 * Why nothing can be reviewed now: the decision that settled the last review (the first one
 * stands; a deadline's default refuses late decisions), or that no answer waits for review.
 */
export function settledReviewError(state: ThreadState): TwelveError {
  const last = state.reviews.at(-1);
  const id = state.threadId;
  if (last?.by === timeoutDecider) {
    return new TwelveError('conflict', `too late: the review deadline of thread ${id} passed, and the policy default (${last.decision === 'approved' ? 'approve' : 'fail'}) was applied; your decision was not recorded`, {
      details: { applied: last.decision },
    });
  }
  if (last) {
    const what = last.decision === 'sent_back' ? 'sent back' : last.decision;
    const then = last.decision === 'sent_back' && !isTerminal(state.status) ? ` (the model is answering again; status ${state.status})` : '';
    return new TwelveError('conflict', `the answer of thread ${id} was already ${what} by ${last.by}; the first decision stands${then}`, { details: { decision: last } });
  }
  return new TwelveError('conflict', `thread ${id} has no answer waiting for review (status ${state.status})`, { details: { status: state.status } });
}

function lateReview(threadId: string, review: ReviewState): TwelveError {
  const applied = review.onTimeout;
  return new TwelveError(
    'conflict',
    `too late: the review deadline of thread ${threadId} passed at ${review.deadline}, and the policy default (${applied}) was applied; your decision was not recorded`,
    { details: { deadline: review.deadline, applied } },
  );
}

/** Each decision takes exactly what it needs: an edit its output, a send-back its feedback. */
function checkShape(action: ReviewAction): { output?: unknown; feedback?: string } {
  const decisions: ReviewDecision[] = ['approved', 'edited', 'sent_back', 'rejected'];
  if (!decisions.includes(action.decision)) throw new TwelveError('usage', `decision must be one of ${decisions.join(', ')} (got ${JSON.stringify(action.decision)})`);
  if (action.decision === 'edited') {
    if (action.output === undefined) throw new TwelveError('usage', 'an edit needs the corrected output (output)');
  } else if (action.output !== undefined) throw new TwelveError('usage', `output is only for an edit (decision "edited"), not "${action.decision}"`);
  if (action.decision === 'sent_back') {
    if (typeof action.feedback !== 'string' || !action.feedback.trim()) throw new TwelveError('usage', 'sending an answer back needs feedback: what the model should change');
    return { feedback: action.feedback.trim() };
  }
  if (action.feedback !== undefined) throw new TwelveError('usage', `feedback is only for sending an answer back (decision "sent_back"), not "${action.decision}"`);
  return { output: action.output };
}

/** The edited output, validated like a model's answer: against the output schema, or a non-empty string. */
function validEdit(release: AgentRelease, output: unknown): unknown {
  const schema = release.agent.outputSchema;
  if (!schema) {
    if (typeof output !== 'string' || !output.trim()) {
      throw new TwelveError('usage', `agent ${release.agent.name} answers in text: the edited output must be a non-empty string`, { details: { issues: [{ path: '', message: 'expected a non-empty string' }] } });
    }
    return output;
  }
  const parsed = schema.safeParse(output);
  if (!parsed.success) {
    throw new TwelveError('usage', `the edited output does not match the output schema of agent ${release.agent.name}: ${zodIssues(parsed.error)}`, {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    });
  }
  return toJsonValue(parsed.data);
}

/** thread_completed after a review: the answer as it was (its source and confidence), or a reviewer's edit (source "review"). */
function completedEvent(review: ReviewState, reviewedBy: string, edit?: { output: unknown; confidence: number | undefined }): NewEvent {
  const output = edit ? edit.output : review.output;
  const confidence = edit ? edit.confidence : review.confidence;
  const source = edit ? 'review' : review.source;
  return event('thread_completed', {
    output,
    ...(confidence !== undefined ? { confidence } : {}),
    ...(source !== 'model' ? { source } : {}),
    reviewedBy,
  });
}
