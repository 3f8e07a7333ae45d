/**
 * Forks: a new thread whose first events are copies of another thread's events 1..atSeq (each
 * keeping the release id and time it was written at), then `thread_forked`, then whatever the
 * forking runtime's release does next. A shadow fork is a replay: its tools that are not pure
 * never run for real (see shadow-tools.ts) and nobody is notified about it.
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import type { CopiedEvent, Store, ThreadSummary } from '../store/types.js';
import { event, type ThreadEvent } from '../thread/events.js';
import { replayStopped } from './shadow-tools.js';
import { applyEvent, initialState, isTerminal, waitingStatuses, type ThreadState } from '../thread/state.js';

export interface ForkOptions {
  /** The last event of the origin to copy (1..the origin's seq). */
  atSeq: number;
  /** Who forks (recorded in thread_forked). Default "runtime". */
  by?: string;
  /** A replay: tools that are not pure are served from `replayOf`'s recorded results (default: the origin). */
  shadow?: { replayOf?: string };
  /**
   * The release the fork continues on: only "current" (or this runtime's release id) is possible,
   * since a fork's next steps run on the code this process loaded.
   */
  release?: string;
}

export interface ForkDependencies {
  store: Store;
  release: (agent: string) => AgentRelease;
  newThreadId: () => string;
}

/** Creates the fork (copies + thread_forked) in one transaction and returns its stored events. */
export async function forkThread(deps: ForkDependencies, threadId: string, options: ForkOptions): Promise<ThreadEvent[]> {
  const origin = await deps.store.getThread(threadId);
  if (!origin) throw new TwelveError('thread_not_found', `no thread "${threadId}"`, { details: { threadId } });
  const release = deps.release(origin.agent);
  if (options.release !== undefined && options.release !== 'current' && options.release !== release.releaseId) {
    throw new TwelveError(
      'usage',
      `a fork continues on the current release (${release.releaseId}, the code loaded here), not ${options.release}: its next steps run this process's agent code. To try another release, fork from a checkout of that code`,
      { details: { release: options.release, current: release.releaseId } },
    );
  }
  const { atSeq } = options;
  if (!Number.isInteger(atSeq) || atSeq < 1 || atSeq > origin.seq) {
    throw new TwelveError('usage', `the seq to fork at must be a whole number from 1 to ${origin.seq} (thread ${threadId} has ${origin.seq} events); got ${String(atSeq)}`, {
      details: { atSeq, lastSeq: origin.seq },
    });
  }
  const events = await deps.store.loadEvents(threadId);
  const copied = events.slice(0, atSeq);
  const shadow = options.shadow !== undefined;
  const refusal = cutRefusal(release, events, atSeq, shadow);
  if (refusal) {
    const valid = validCuts(release, events, shadow);
    throw new TwelveError('conflict', `cannot fork thread ${threadId} at seq ${atSeq}: ${refusal}. Seqs that work: ${valid.length ? ranges(valid) : 'none'}`, {
      details: { atSeq, validSeqs: valid },
    });
  }
  const replayOf = options.shadow ? (options.shadow.replayOf ?? threadId) : undefined;
  if (replayOf && replayOf !== threadId && !(await deps.store.getThread(replayOf))) {
    throw new TwelveError('thread_not_found', `no thread "${replayOf}" to replay the recorded tool results of`, { details: { threadId: replayOf } });
  }
  const by = options.by?.trim() || 'runtime';
  const forked = event('thread_forked', {
    from: threadId,
    atSeq,
    by,
    ...(replayOf ? { shadow: { replayOf } } : {}),
  });
  const id = deps.newThreadId();
  // The model steps' requests go with their copies, so the fork shows what the model saw (same seqs: the bases still hold).
  const requests = new Map((await deps.store.loadRequests(threadId, atSeq)).map((r) => [r.seq, r.text]));
  const copies: CopiedEvent[] = copied.map((e) => ({ type: e.type, data: e.data, releaseId: e.releaseId, at: e.at, ...(requests.has(e.seq) ? { request: requests.get(e.seq) } : {}) }) as CopiedEvent);
  const state = initialState(id);
  copies.forEach((e, index) => applyEvent(state, { ...e, threadId: id, seq: index + 1 } as ThreadEvent));
  const now = new Date().toISOString();
  const own = [forked];
  applyEvent(state, { ...forked, threadId: id, seq: atSeq + 1, at: now, releaseId: release.releaseId } as ThreadEvent);
  if (replayOf && waitingStatuses.includes(state.status)) {
    // Cut where the origin waited for a person: a replay never waits for one (see ThreadSession.step).
    const stopped = replayStopped(`needs a person (${state.waitingReason ?? state.status}); a replay stops there`);
    own.push(stopped);
    applyEvent(state, { ...stopped, threadId: id, seq: atSeq + 2, at: now, releaseId: release.releaseId } as ThreadEvent);
  }
  return deps.store.createThread({ id, agent: origin.agent, releaseId: release.releaseId, input: origin.input, ...(origin.tenant ? { tenant: origin.tenant } : {}), events: [...copies, ...own], summary: summaryOf(state) });
}

/** Why cutting after `atSeq` is unsafe or pointless, or undefined when it is fine. */
function cutRefusal(release: AgentRelease, events: readonly ThreadEvent[], atSeq: number, shadow: boolean): string | undefined {
  const state = initialState(events[0]?.threadId ?? '');
  for (const e of events.slice(0, atSeq)) applyEvent(state, e);
  return refusalAt(release, state, events[atSeq - 1]!, shadow ? undefined : firstRuns(events));
}

/**
 * The seq at which the origin first ran each call (its tool_started, or for tools without the
 * bracket the outcome of a run). A call open at the cut that the origin ran, before or after
 * the cut, would run again in the fork under the fork's own idempotency key (forkId:callId),
 * which the tool cannot tell from a new call: its side effect could happen twice.
 */
function firstRuns(events: readonly ThreadEvent[]): Map<string, number> {
  const runs = new Map<string, number>();
  for (const e of events) {
    const ran = e.type === 'tool_started' || e.type === 'tool_succeeded' || e.type === 'tool_sleeping' || (e.type === 'tool_failed' && e.data.durationMs !== undefined);
    if (ran && !runs.has(e.data.callId)) runs.set(e.data.callId, e.seq);
  }
  return runs;
}

/** `runs` undefined: a shadow fork, whose tools that are not pure never run for real. */
function refusalAt(release: AgentRelease, state: ThreadState, last: ThreadEvent, runs: Map<string, number> | undefined): string | undefined {
  if (isTerminal(state.status)) return `seq ${last.seq} is ${last.type}: the thread ended there, so a fork from it has nothing left to do`;
  if (!runs) return undefined;
  for (const callId of state.openCalls) {
    const call = state.calls.get(callId)!;
    const effect = release.agent.tools.get(call.tool)?.effect ?? 'external';
    const ran = runs.get(callId);
    if (ran !== undefined && effect !== 'pure') {
      return `${call.tool} (${callId}, effect ${effect}) ran in the origin (seq ${ran}) and has no outcome at seq ${last.seq}; running it again in the fork could repeat its side effect`;
    }
  }
  return undefined;
}

/** Every seq a fork may be cut at. */
function validCuts(release: AgentRelease, events: readonly ThreadEvent[], shadow: boolean): number[] {
  const state = initialState(events[0]?.threadId ?? '');
  const runs = shadow ? undefined : firstRuns(events);
  const valid: number[] = [];
  for (const e of events) {
    applyEvent(state, e);
    if (!refusalAt(release, state, e, runs)) valid.push(e.seq);
  }
  return valid;
}

/** [1,2,3,5,7,8] -> "1-3, 5, 7-8". */
function ranges(seqs: number[]): string {
  const parts: string[] = [];
  let start = seqs[0]!;
  let end = start;
  for (const seq of [...seqs.slice(1), Number.NaN]) {
    if (seq === end + 1) {
      end = seq;
      continue;
    }
    parts.push(start === end ? String(start) : `${start}-${end}`);
    start = end = seq;
  }
  return parts.join(', ');
}

function summaryOf(state: ThreadState): ThreadSummary {
  return {
    status: state.status,
    output: state.output,
    error: state.error ?? null,
    waitingReason: state.waitingReason ?? null,
    modelSteps: state.modelSteps,
    inputTokens: state.inputTokens,
    outputTokens: state.outputTokens,
    cachedInputTokens: state.cachedInputTokens,
    cacheWriteTokens: state.cacheWriteTokens,
    costUsd: state.costUsd,
    unpricedCalls: state.unpricedCalls,
    wakeAt: state.wakeAt ? Date.parse(state.wakeAt) : null,
  };
}
