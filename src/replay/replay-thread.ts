/**
 * replayThread: a recorded thread run again on a candidate release, without side effects.
 * A fold over the log (DESIGN.md "Changing agents safely"; DBOS's replay by ordinal with a
 * nondeterminism check): at each recorded model step the request the candidate would send
 * (its renderContext over the events before the step) is compared with the request the
 * original release sent, re-derived from that release's stored manifest through the same
 * renderer. While they are equal the recorded response and the events after it are served
 * (tool results included: no tool runs, no model is called, nothing is appended), and what
 * the candidate would do with the response is checked against what was recorded. The first
 * difference ends the replay and is reported.
 */
import type { RenderContextOptions } from '../agent/define-agent.js';
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import { buildRequest } from '../model/call-model.js';
import type { Store } from '../store/types.js';
import type { ThreadEvent } from '../thread/events.js';
import { ContextBuilder, defaultRenderContext, type ContextMessage } from '../thread/render-context.js';
import { applyEvent, initialState } from '../thread/state.js';
import { checkResponse, responseEvents } from './check-response.js';
import { compareRequests, type Difference } from './compare-request.js';
import { OriginalReleases } from './original-releases.js';
import { prefetchDifference } from './prefetch.js';
import type { Divergence, ReplayResult } from './types.js';

export interface ReplayThreadOptions {
  /** Read only: getThread, loadEvents and getRelease are all a replay calls. */
  store: Pick<Store, 'getThread' | 'loadEvents' | 'getRelease'>;
  threadId: string;
  /** The release to replay on: the working tree's (runtime.release(agent)) or one from releaseFromManifest. */
  candidate: AgentRelease;
  /**
   * The agent's own renderContext, when the candidate comes from a manifest (code is not in
   * a manifest). Default: the candidate's. Both sides use it, so a changed renderContext
   * shows only as a different release id, never as a divergence.
   */
  renderContext?: (options: RenderContextOptions) => ContextMessage[];
  /** Shared across a batch: each original release is rebuilt from its manifest once. */
  originals?: OriginalReleases;
  /** The clock approval predicates and deadlines see (default Date.now()). */
  now?: number;
}

/** The candidate's step limit (as runtime/budget.ts applies it) would have stopped the thread for a person before this step. */
function stepLimit(candidate: AgentRelease, raised: number | undefined, stepsBefore: number): Difference | undefined {
  const maxSteps = raised ?? candidate.limits.maxSteps;
  if (stepsBefore < maxSteps) return undefined;
  return { kind: 'settings', detail: `limits.maxSteps is ${maxSteps}: the candidate would stop for a person before model step ${stepsBefore + 1}`, expected: 'model step', actual: 'budget_exceeded (steps)' };
}

/**
 * @example
 * const result = await replayThread({ store: runtime.store, threadId, candidate: runtime.release('refunds') });
 * if (result.outcome === 'diverged') console.log(result.divergence.step, result.divergence.kind, result.divergence.detail);
 */
export async function replayThread(options: ReplayThreadOptions): Promise<ReplayResult> {
  const started = performance.now();
  const { store, threadId, candidate } = options;
  const thread = await store.getThread(threadId);
  if (!thread) throw new TwelveError('thread_not_found', `no thread "${threadId}"`, { details: { threadId } });
  const events = await store.loadEvents(threadId);
  const renderContext = options.renderContext ?? candidate.agent.options.renderContext;
  const originals = options.originals ?? new OriginalReleases(store, candidate, renderContext);
  const modelSteps = events.filter((e) => e.type === 'model_called');
  const result: ReplayResult = {
    threadId,
    agent: thread.agent,
    fromReleases: [...new Set(modelSteps.map((e) => e.releaseId))],
    toRelease: candidate.releaseId,
    outcome: 'same',
    stepsCompared: 0,
    stepsRecorded: modelSteps.length,
    servedThroughSeq: 0,
    threadSeq: events.length === 0 ? 0 : events[events.length - 1]!.seq,
    durationMs: 0,
  };
  const finish = (changes: Partial<ReplayResult>): ReplayResult => {
    Object.assign(result, changes);
    result.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    return result;
  };
  if (events[0]?.type !== 'thread_started') return finish({ outcome: 'stopped', stoppedReason: 'the recorded log does not begin with thread_started' });
  if (thread.agent !== candidate.agent.name) {
    return finish({ outcome: 'stopped', stoppedReason: `the thread was recorded by agent ${thread.agent}; the candidate ${candidate.releaseId} is a release of ${candidate.agent.name}` });
  }

  const now = options.now ?? Date.now();
  const state = initialState(threadId);
  // Incremental renderers (O(1) per event), one per release; an agent with its own renderContext gets the events instead.
  const candidateBuilder = renderContext ? undefined : new ContextBuilder(candidate);
  const originalBuilders = new Map<string, ContextBuilder>();
  const render = (release: AgentRelease, builder: ContextBuilder | undefined, prefix: readonly ThreadEvent[]): ContextMessage[] =>
    builder ? builder.messages() : renderContext!({ agent: release.agent, events: prefix, defaultMessages: defaultRenderContext(release, prefix) });
  let step = 0;
  for (const [index, e] of events.entries()) {
    if (e.type === 'model_called') {
      step++;
      const lookup = await originals.get(e.releaseId);
      if ('missing' in lookup) return finish({ outcome: 'stopped', stoppedReason: `step ${step} (seq ${e.seq}): ${lookup.missing}`, servedThroughSeq: e.seq - 1 });
      const original = lookup.release;
      let originalBuilder: ContextBuilder | undefined;
      if (!renderContext) {
        originalBuilder = original === candidate ? candidateBuilder : originalBuilders.get(original.releaseId);
        if (!originalBuilder) {
          // First call by this release: catch its renderer up on the log so far.
          originalBuilder = new ContextBuilder(original);
          for (const earlier of events.slice(0, index)) originalBuilder.apply(earlier);
          originalBuilders.set(original.releaseId, originalBuilder);
        }
      }
      const prefix = renderContext ? events.slice(0, index) : [];
      const originalMessages = render(original, originalBuilder, prefix);
      if (!renderContext && originalMessages.length !== e.data.contextMessages) {
        return finish({
          outcome: 'stopped',
          stoppedReason: `step ${step} (seq ${e.seq}): the request of release ${e.releaseId} cannot be re-derived (it showed the model ${e.data.contextMessages} messages; re-rendered: ${originalMessages.length})`,
          servedThroughSeq: e.seq - 1,
        });
      }
      const candidateMessages = original === candidate ? originalMessages : render(candidate, candidateBuilder, prefix);
      result.stepsCompared = step;
      const differences = compareRequests(
        { release: original, request: buildRequest(original, originalMessages) },
        { release: candidate, request: buildRequest(candidate, candidateMessages) },
      );
      if (step === 1 && !differences.some((d) => d.kind === 'messages')) {
        // The context of the first step holds the prefetched results: a changed prefetch shows here.
        const prefetch = prefetchDifference(candidate, events, state.input);
        if (prefetch) differences.splice(differences[0]?.kind === 'system_prompt' ? 1 : 0, 0, prefetch);
      }
      const responseDifference = differences.length === 0 ? (stepLimit(candidate, state.limits.maxSteps, state.modelSteps - state.turnStartSteps) ?? checkResponse(candidate, state, e, responseEvents(events, index), now)) : undefined;
      const found = differences[0] ?? responseDifference;
      if (found) {
        const divergence: Divergence = { step, seq: e.seq, ...found };
        if (differences.length > 1) divergence.also = differences.slice(1).map((d) => d.kind);
        return finish({ outcome: 'diverged', divergence, servedThroughSeq: e.seq - 1 });
      }
    }
    applyEvent(state, e);
    candidateBuilder?.apply(e);
    for (const builder of originalBuilders.values()) if (builder !== candidateBuilder) builder.apply(e);
  }
  return finish({ servedThroughSeq: result.threadSeq });
}
