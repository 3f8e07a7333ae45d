/**
 * Prefetch: calls an agent makes before its first model step, from the input alone. They
 * are recorded as events, so both releases render them alike; what a changed prefetch
 * would do is told by comparing the candidate's prefetch with the recorded calls.
 */
import type { AgentRelease } from '../agent/release.js';
import { toJsonValue } from '../runtime/compact-error.js';
import type { ThreadEvent } from '../thread/events.js';
import { stableStringify } from '../util/stable-json.js';
import type { Difference } from './compare-request.js';

export function prefetchDifference(candidate: AgentRelease, events: readonly ThreadEvent[], input: unknown): Difference | undefined {
  const recorded = events.flatMap((e) => (e.type === 'tool_requested' && e.data.source === 'prefetch' ? [{ tool: e.data.tool, args: e.data.args }] : []));
  const steps = candidate.agent.options.prefetch;
  // A release rebuilt from a manifest knows its prefetch tools by name only (the arguments are code).
  const names = steps ? steps.map((step) => step.tool) : Array.isArray(candidate.manifest.prefetch) ? (candidate.manifest.prefetch as string[]) : [];
  if (names.join(',') !== recorded.map((call) => call.tool).join(',')) {
    return {
      kind: 'messages',
      detail: `the candidate prefetches ${names.join(', ') || 'nothing'} before the first model step; the recording prefetched ${recorded.map((call) => call.tool).join(', ') || 'nothing'}`,
      expected: recorded.map((call) => call.tool),
      actual: names,
    };
  }
  if (!steps) return undefined;
  for (const [index, step] of steps.entries()) {
    let args: unknown;
    try {
      args = toJsonValue(step.args(input));
    } catch (error) {
      args = `(the candidate's prefetch arguments throw: ${(error as Error).message})`;
    }
    if (stableStringify(args) !== stableStringify(recorded[index]!.args)) {
      return { kind: 'messages', detail: `the candidate prefetches ${step.tool} with other arguments`, expected: recorded[index]!.args, actual: args };
    }
  }
  return undefined;
}
