/**
 * How a thread completes: the one place a valid final answer (from the model, the non-LLM
 * fallback, or a reviewer's edit) becomes events. The output's confidence is read here, so
 * every completion records it the same way.
 */
import type { AgentRelease } from '../agent/release.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import { reviewRequest } from './review.js';

/**
 * The output's confidence where the agent declares it (a top-level numeric field, or a function
 * of the output); undefined when it declares none or the value is not a finite number in 0..1
 * (a function that throws counts as none: confidence is information, never a reason to fail).
 */
export function confidenceOf(release: AgentRelease, output: unknown): number | undefined {
  const where = release.agent.options.confidence;
  if (where === undefined) return undefined;
  let value: unknown;
  try {
    value = typeof where === 'function' ? (where as (output: unknown) => unknown)(output) : (output as Record<string, unknown> | null)?.[where];
  } catch {
    return undefined;
  }
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
}

export interface CompletionOptions {
  release: AgentRelease;
  state: ThreadState;
  /** Valid against the output schema already. */
  output: unknown;
  source: 'model' | 'fallback';
  now: number;
}

/**
 * The events that complete the thread with this output, or, when the agent's review policy
 * wants a person to look at it first, review_requested instead (src/runtime/review.ts).
 */
export function completionEvents(options: CompletionOptions): NewEvent[] {
  const { release, state, output, source, now } = options;
  const confidence = confidenceOf(release, output);
  const review = reviewRequest({ release, state, output, confidence, source, now });
  if (review) return [review];
  return [event('thread_completed', { output, ...(confidence !== undefined ? { confidence } : {}), ...(source !== 'model' ? { source } : {}) })];
}
