/**
 * Follows one thread for an MCP tool call: hands each new event to `onEvent` (progress
 * notifications) until the thread finishes, waits for a person, is paused, or the wait bound
 * passes. Events are read from the store, not from memory, so a thread run by a worker in
 * another process is followed too; this process's own appends wake the loop at once.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { ThreadRecord } from '../store/types.js';
import type { ThreadEvent } from '../thread/events.js';

export interface WatchOptions {
  runtime: Runtime;
  threadId: string;
  /** Events up to this seq were already handed out. */
  afterSeq?: number;
  /** Epoch ms after which the watch returns the thread as it is. */
  deadline: number;
  /** The client cancelled its request: return at once. */
  signal?: AbortSignal;
  onEvent?: (event: ThreadEvent) => void;
  /** How often the store is read when nothing wakes the loop (another process runs the thread). */
  pollMs?: number;
}

/** Statuses in which the thread still moves without anyone acting: keep watching. */
const moving = new Set(['runnable', 'sleeping']);

export async function watchThread(options: WatchOptions): Promise<ThreadRecord> {
  const { runtime, threadId, signal } = options;
  let last = options.afterSeq ?? 0;
  let wake: (() => void) | undefined;
  const unsubscribe = runtime.subscribe((e) => {
    if (e.threadId === threadId) wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      for (const e of await runtime.loadEvents(threadId, last)) {
        options.onEvent?.(e);
        last = e.seq;
      }
      const thread = await runtime.getThreadOrThrow(threadId);
      // The row is read after the events: when it says the thread stopped, its last event is handed out.
      if (thread.seq <= last && !moving.has(thread.status)) return thread;
      const left = options.deadline - Date.now();
      if (left <= 0 || signal?.aborted) return thread;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, options.pollMs ?? 250));
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
