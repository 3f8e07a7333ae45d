/**
 * Child threads (agentTool): how a parent's call launches one, how the parent learns that it
 * ended, and what the call's outcome is. No transaction spans two threads: the child's last
 * commit wakes the parent afterwards (a nudge), and a parent that waits for a child looks at
 * the child itself whenever it is claimed, and at least every `checkMs` (child_started.checkAt),
 * so a worker dying between the child's end and the nudge delays the parent, never strands it.
 */
import type { ChildAgentSettings } from '../agent/agent-tool.js';
import type { AgentRelease } from '../agent/release.js';
import { TwelveError, errorMessage } from '../errors.js';
import type { ThreadRecord } from '../store/types.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import { compact, toJsonValue, zodIssues } from './compact-error.js';

/** What a session needs from its runtime to run agentTool calls (runtime.ts implements it). */
export interface ChildThreads {
  /** How long a parent waits before it looks at a running child again without being woken. */
  checkMs: number;
  /** Create-if-absent: the child of this call, launched with the parent link and these limits; returns its id. */
  launch(options: {
    parentThreadId: string;
    callId: string;
    agent: string;
    input: unknown;
    limits: { maxCostUsd?: number; maxTokens?: number };
  }): Promise<string>;
  /** The child ended: make the parent due now (and wake this process's workers). */
  wake(parentThreadId: string): Promise<void>;
  /** The parent was cancelled: cancel these children (errors are logged, not thrown). */
  cancel(childThreadIds: string[], by: string, reason: string): Promise<void>;
}

/** A child thread's id, derived from its launch key: the same parent call always names the same child. */
export function childThreadId(hash: (text: string) => string, parentThreadId: string, callId: string): string {
  return `th_c${hash(`${parentThreadId}:${callId}`).slice(0, 24)}`;
}

/**
 * What the parent has left of its cost and token limits (undefined: no limit): the most the
 * child may spend, since the child's spend counts against the parent's budget once it ends.
 */
export function remainingLimits(release: AgentRelease, state: ThreadState): { maxCostUsd?: number; maxTokens?: number } {
  const maxCostUsd = state.limits.maxCostUsd ?? release.limits.maxCostUsd;
  const maxTokens = state.limits.maxTokens ?? release.limits.maxTokens;
  return {
    ...(maxCostUsd !== undefined ? { maxCostUsd: Math.max(0, maxCostUsd - state.costUsd) } : {}),
    ...(maxTokens !== undefined ? { maxTokens: Math.max(0, maxTokens - state.inputTokens - state.outputTokens) } : {}),
  };
}

/** The launch refused before the child existed (its input is invalid, its agent unknown): the call's failure. */
export function launchFailure(callId: string, tool: string, error: unknown): NewEvent {
  const code = TwelveError.is(error, 'input_invalid') ? 'invalid_arguments' : 'child_launch_failed';
  return event('tool_failed', { callId, error: compact(code, `${tool}: ${errorMessage(error)}`) });
}

/** child_finished, then the call's outcome: the child's output (validated again here) or a compact failure. */
export function childOutcomeEvents(callId: string, tool: string, settings: ChildAgentSettings | undefined, child: ThreadRecord): NewEvent[] {
  const status = child.status as 'completed' | 'failed' | 'cancelled';
  const finished = event('child_finished', {
    callId,
    childThreadId: child.id,
    status,
    costUsd: child.costUsd,
    inputTokens: child.inputTokens,
    outputTokens: child.outputTokens,
    ...(child.cachedInputTokens > 0 ? { cachedInputTokens: child.cachedInputTokens } : {}),
    ...(child.cacheWriteTokens > 0 ? { cacheWriteTokens: child.cacheWriteTokens } : {}),
  });
  const durationMs = Math.max(0, Date.parse(child.updatedAt) - Date.parse(child.createdAt));
  const who = `child thread ${child.id} (${child.agent})`;
  if (status === 'cancelled') return [finished, event('tool_failed', { callId, error: compact('child_cancelled', `${tool}: ${who} was cancelled${child.error ? `: ${child.error.message}` : ''}`), durationMs })];
  if (status === 'failed') return [finished, event('tool_failed', { callId, error: compact('child_failed', `${tool}: ${who} failed: ${child.error?.code ?? 'error'}: ${child.error?.message ?? 'no error recorded'}`), durationMs })];
  const schema = settings?.agent.outputSchema;
  if (!schema) return [finished, event('tool_succeeded', { callId, result: child.output, durationMs })];
  const parsed = schema.safeParse(child.output);
  if (!parsed.success) return [finished, event('tool_failed', { callId, error: compact('invalid_output', `${tool}: ${who} answered outside its output schema: ${zodIssues(parsed.error)}`), durationMs })];
  return [finished, event('tool_succeeded', { callId, result: toJsonValue(parsed.data), durationMs })];
}

/** The children of the thread's open calls (what a cancel of the parent cancels). */
export function openChildren(state: ThreadState): string[] {
  return state.openCalls.flatMap((callId) => {
    const child = state.calls.get(callId)?.child;
    return child ? [child.threadId] : [];
  });
}
