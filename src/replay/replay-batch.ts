/**
 * replayThreads: every recorded thread of an agent (newest first, filtered by age and
 * status) replayed on one candidate, in one process. The gate a team runs in CI before a
 * prompt or model change ships: one result per thread and a summary.
 */
import type { RenderContextOptions } from '../agent/define-agent.js';
import type { AgentRelease } from '../agent/release.js';
import { errorMessage } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ContextMessage } from '../thread/render-context.js';
import type { ThreadStatus } from '../thread/state.js';
import { OriginalReleases } from './original-releases.js';
import { replayThread } from './replay-thread.js';
import type { ReplayResult } from './types.js';

export interface ReplayThreadsOptions {
  store: Pick<Store, 'getThread' | 'loadEvents' | 'getRelease' | 'listThreads'>;
  candidate: AgentRelease;
  /** Threads created at or after this ISO time. */
  createdAfter?: string;
  /** Default 200. */
  limit?: number;
  status?: ThreadStatus[];
  renderContext?: (options: RenderContextOptions) => ContextMessage[];
  /** Called after each thread (progress output). */
  onResult?: (result: ReplayResult) => void;
}

export interface ReplaySummary {
  threads: number;
  /** Same to the end, with at least one model step compared. */
  same: number;
  /** Threads with no model step to compare (blocked or cancelled before the model answered): neither same nor diverged. */
  notCompared: number;
  diverged: number;
  stopped: number;
  durationMs: number;
}

export async function replayThreads(options: ReplayThreadsOptions): Promise<{ results: ReplayResult[]; summary: ReplaySummary }> {
  const started = performance.now();
  const { store, candidate } = options;
  const threads = await store.listThreads({
    agent: candidate.agent.name,
    limit: options.limit ?? 200,
    ...(options.createdAfter ? { createdAfter: options.createdAfter } : {}),
    ...(options.status?.length ? { status: options.status } : {}),
  });
  const renderContext = options.renderContext ?? candidate.agent.options.renderContext;
  const originals = new OriginalReleases(store, candidate, renderContext);
  const results: ReplayResult[] = [];
  for (const thread of threads) {
    let result: ReplayResult;
    try {
      result = await replayThread({ store, threadId: thread.id, candidate, originals, ...(renderContext ? { renderContext } : {}) });
    } catch (error) {
      // One unreadable thread must not hide the verdict on the others.
      result = { threadId: thread.id, agent: thread.agent, fromReleases: [], toRelease: candidate.releaseId, outcome: 'stopped', stepsCompared: 0, stepsRecorded: thread.modelSteps, stoppedReason: errorMessage(error), servedThroughSeq: 0, threadSeq: thread.seq, durationMs: 0 };
    }
    results.push(result);
    options.onResult?.(result);
  }
  const count = (outcome: ReplayResult['outcome']) => results.filter((r) => r.outcome === outcome && !(outcome === 'same' && r.stepsCompared === 0)).length;
  const notCompared = results.filter((r) => r.outcome === 'same' && r.stepsCompared === 0).length;
  return {
    results,
    summary: { threads: results.length, same: count('same'), notCompared, diverged: count('diverged'), stopped: count('stopped'), durationMs: Math.round(performance.now() - started) },
  };
}
