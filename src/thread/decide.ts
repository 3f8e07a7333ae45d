/**
 * decide(release, state): what happens next. Pure and total: the same state always
 * yields the same decision, which is what lets any worker take any step.
 */
import type { AgentRelease } from '../agent/release.js';
import type { CompactError } from './events.js';
import { isTerminal, type ThreadState } from './state.js';

export type Decision =
  | { type: 'prefetch'; calls: { callId: string; tool: string; args: unknown }[] }
  | { type: 'runTool'; callId: string; attempt: number }
  /** A call whose runs keep dying with the worker: record it as failed instead of looping. */
  | { type: 'abandonTool'; callId: string; error: CompactError }
  | { type: 'callModel' }
  | { type: 'escalate'; reason: string }
  | { type: 'fail'; error: CompactError }
  | { type: 'wait'; reason: string }
  | { type: 'done' };

export function decide(release: AgentRelease, state: ThreadState): Decision {
  if (isTerminal(state.status)) return { type: 'done' };
  if (state.status === 'escalated') return { type: 'wait', reason: state.waitingReason ?? 'escalated' };

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

  const { maxConsecutiveErrors, maxToolAttempts, maxSteps, maxTokens, maxCostUsd } = release.limits;
  if (state.consecutiveErrors >= maxConsecutiveErrors) {
    return { type: 'escalate', reason: `${state.consecutiveErrors} consecutive errors (limit ${maxConsecutiveErrors}); a human must look before the agent goes on` };
  }

  const next = state.openCalls[0];
  if (next !== undefined) {
    const call = state.calls.get(next)!;
    if (call.started >= maxToolAttempts) {
      return {
        type: 'abandonTool',
        callId: next,
        error: { code: 'tool_interrupted', message: `the worker stopped ${call.started} times while running ${call.tool}; not retried again` },
      };
    }
    return { type: 'runTool', callId: next, attempt: call.started + 1 };
  }

  if (state.modelSteps >= maxSteps) {
    return { type: 'fail', error: { code: 'max_steps', message: `reached the limit of ${maxSteps} model steps without a final answer` } };
  }
  const tokens = state.inputTokens + state.outputTokens;
  if (maxTokens !== undefined && tokens >= maxTokens) {
    return { type: 'fail', error: { code: 'max_tokens', message: `used ${tokens} tokens, limit ${maxTokens}` } };
  }
  if (maxCostUsd !== undefined && state.costUsd >= maxCostUsd) {
    return { type: 'fail', error: { code: 'max_cost', message: `spent $${state.costUsd.toFixed(4)}, limit $${maxCostUsd}` } };
  }
  return { type: 'callModel' };
}
