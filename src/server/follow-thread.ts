/**
 * Follows one thread for a stream (SSE /stream, the UI message stream): its stored events
 * after a seq, then each new one as it is appended (woken at once by this process's appends,
 * polling every 500 ms for other processes'), and, when asked, the streamed text of its model
 * calls as ephemeral deltas (src/stream/). Reads the store, not memory: events may come from
 * any process. Ends once the thread is finished and every event was yielded.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { ModelDelta } from '../stream/delta-bus.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadRecord } from '../store/types.js';
import { isTerminal } from '../thread/state.js';

export type FollowItem =
  | { type: 'event'; event: ThreadEvent }
  /** Streamed text of the model step whose event will take `delta.seq` (always after the last event yielded). */
  | { type: 'delta'; delta: ModelDelta }
  /** Nothing for 15 s: time for a keep-alive. */
  | { type: 'idle' }
  | { type: 'end'; thread: ThreadRecord | undefined; lastSeq: number };

export interface FollowOptions {
  runtime: Runtime;
  threadId: string;
  /** Yield events after this seq. */
  after: number;
  /** Also yield the streamed text of model calls. */
  deltas: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

const pollMs = 500;
const keepAliveMs = 15_000;

export async function* followThread(options: FollowOptions): AsyncGenerator<FollowItem> {
  const { runtime, threadId, signal } = options;
  let last = options.after;
  let wake: (() => void) | undefined;
  /** Set when the log may have grown (an append here, a poll tick): read the store. */
  let eventsDue = true;
  const pending: ModelDelta[] = [];
  const unsubscribe = runtime.subscribe((e) => {
    if (e.threadId !== threadId) return;
    eventsDue = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  let stopDeltas: (() => void) | undefined;
  try {
    if (options.deltas) {
      stopDeltas = await runtime.subscribeDeltas(threadId, (delta) => {
        pending.push(delta);
        wake?.();
      });
    }
    let idleSince = Date.now();
    while (!signal.aborted) {
      // A delta for a later step than the next one means events were appended that this loop has not read yet.
      if (pending.some((d) => d.seq !== last + 1)) eventsDue = true;
      if (eventsDue) {
        eventsDue = false;
        const events = await runtime.loadEvents(threadId, last);
        for (const event of events) {
          yield { type: 'event', event };
          last = event.seq;
        }
        if (events.length) idleSince = Date.now();
        const thread = await runtime.getThread(threadId);
        if (!thread || (isTerminal(thread.status) && thread.seq <= last)) {
          yield { type: 'end', thread, lastSeq: last };
          return;
        }
      }
      const deltas = pending.splice(0);
      for (const delta of deltas) if (delta.seq > last) yield { type: 'delta', delta };
      if (deltas.length) idleSince = Date.now();
      if (Date.now() - idleSince > keepAliveMs) {
        yield { type: 'idle' };
        idleSince = Date.now();
      }
      if (pending.length > 0 || eventsDue || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          eventsDue = true;
          done();
        }, pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    stopDeltas?.();
  }
}
