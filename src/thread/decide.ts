/**
 * decide(release, state, now): what happens next. Pure and total: the same state and
 * clock always yield the same decision, which is what lets any worker take any step.
 * Budgets that need a token estimate of the next request are checked by the runtime
 * right before the model call (see runtime/budget.ts); everything else is here.
 */
import type { AgentRelease } from '../agent/release.js';
import { clipText } from './clip-text.js';
import { deadlinePassed, defaultAnswerOf } from './deadlines.js';
import type { CompactError } from './events.js';
import { isTerminal, type ThreadState } from './state.js';

export type Decision =
  | { type: 'prefetch'; calls: { callId: string; tool: string; args: unknown }[] }
  | { type: 'runTool'; callId: string; attempt: number }
  /** A call whose runs keep dying with the worker: record it as failed instead of looping. */
  | { type: 'abandonTool'; callId: string; error: CompactError }
  /** The same for an external call, which may have acted: ask a person whether it happened. */
  | { type: 'confirmTool'; callId: string; interrupted: number }
  /** A deadline passed with nobody deciding: apply the policy's default, by "timeout". */
  | { type: 'approvalTimeout'; callId: string; approved: boolean }
  | { type: 'questionTimeout'; callId: string; answer: string }
  /** A final answer nobody reviewed before its deadline: the policy default (approve or fail), by "timeout". */
  | { type: 'reviewTimeout' }
  /** An agentTool call waits for its child thread: look whether the child ended (the parent records its outcome). */
  | { type: 'checkChild'; callId: string; childThreadId: string }
  | { type: 'callModel' }
  | { type: 'escalate'; reason: string }
  | { type: 'fail'; error: CompactError }
  | { type: 'wait'; reason: string }
  | { type: 'done' };

export function decide(release: AgentRelease, state: ThreadState, now: number): Decision {
  if (isTerminal(state.status)) return { type: 'done' };
  if (state.paused || state.escalation) return { type: 'wait', reason: state.waitingReason ?? state.status };
  if (state.review) {
    if (deadlinePassed(state.review.deadline, now)) return { type: 'reviewTimeout' };
    return { type: 'wait', reason: state.waitingReason ?? 'awaiting review' };
  }

  const prefetch = release.agent.options.prefetch ?? [];
  if (prefetch.length > 0 && !state.prefetchRequested) {
    try {
      return {
        type: 'prefetch',
        calls: prefetch.map((step, index) => ({ callId: `prefetch_${index + 1}`, tool: step.tool, args: step.args(state.input) })),
      };
    } catch (error) {
      return { type: 'fail', error: { code: 'prefetch_failed', message: `prefetch arguments could not be built: ${(error as Error).message}` } };
    }
  }

  const { maxConsecutiveErrors } = release.limits;
  if (state.consecutiveErrors >= maxConsecutiveErrors) {
    return {
      type: 'escalate',
      reason: `${state.consecutiveErrors} consecutive errors (limit ${maxConsecutiveErrors}); a human must look before the agent goes on. ${lastErrors(state)}`,
    };
  }

  const next = state.openCalls[0];
  if (next !== undefined) {
    const call = state.calls.get(next)!;
    if (call.approval && !call.approval.decision) {
      if (deadlinePassed(call.approval.deadline, now)) {
        return { type: 'approvalTimeout', callId: next, approved: call.approval.onTimeout === 'approve' };
      }
      return { type: 'wait', reason: state.waitingReason ?? 'awaiting approval' };
    }
    if (call.approval && !call.approval.decision?.approved) {
      // Unreachable by construction (a rejection settles the call); kept as a hard stop.
      return { type: 'wait', reason: 'awaiting approval' };
    }
    if (call.question) {
      if (deadlinePassed(call.question.deadline, now)) {
        return { type: 'questionTimeout', callId: next, answer: defaultAnswerOf(call.question) };
      }
      return { type: 'wait', reason: state.waitingReason ?? 'awaiting a human answer' };
    }
    if (call.child) return { type: 'checkChild', callId: next, childThreadId: call.child.threadId };
    if (call.sleepUntil && now < Date.parse(call.sleepUntil)) return { type: 'wait', reason: state.waitingReason ?? 'sleeping' };
    // Only external tools write tool_started (runtime/thread-session.ts), so only their runs count here;
    // a pure or idempotent call reaches this only through tool_started events recorded before it was declared so.
    const tool = release.agent.tools.get(call.tool);
    const interrupted = call.started - call.slept - call.forgiven;
    if (interrupted >= (tool?.maxAttempts ?? release.limits.maxToolAttempts)) {
      // A tool gone from the release counts as external: its interrupted runs may have acted.
      if ((tool?.effect ?? 'external') === 'external') return { type: 'confirmTool', callId: next, interrupted };
      return {
        type: 'abandonTool',
        callId: next,
        error: { code: 'tool_interrupted', message: `the worker stopped ${interrupted} times while running ${call.tool}; not retried again` },
      };
    }
    // Pure and idempotent runs leave no tool_started; a run that asked to sleep still counts as one.
    return { type: 'runTool', callId: next, attempt: Math.max(call.started, call.slept) + 1 };
  }
  return { type: 'callModel' };
}

/** "Last errors: invalid_json: pay: arguments are not ...; tool_error: pay: card declined", each clipped. */
function lastErrors(state: ThreadState): string {
  const errors = state.recentErrors.map((error) => `${error.code}: ${clipText(error.message, 120)}`);
  const more = state.consecutiveErrors - errors.length;
  return `Last error${errors.length === 1 ? '' : 's'}${more > 0 ? ` (of ${state.consecutiveErrors})` : ''}: ${errors.join('; ')}`;
}
