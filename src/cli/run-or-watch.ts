/**
 * The foreground run of `twelve run` / `resume` when another live process (`twelve dev`, a
 * worker) holds the thread: rather than refuse, watch it through the store, printing its
 * events as they land (via `catchUp`), until it finishes or waits, which is the outcome a
 * run here would have had. If the holder lets go while the thread is still runnable (it
 * drained, it lost a race), the thread is claimed and run here.
 */
import { TwelveError } from '../errors.js';
import type { Runtime, RunOutcome } from '../runtime/runtime.js';
import type { ThreadRecord } from '../store/types.js';

export interface RunOrWatchOptions {
  stop: AbortSignal;
  /** Prints the events appended since the last call (by any process). */
  catchUp: () => Promise<void>;
  /** No note on stderr (--json). */
  quiet?: boolean;
  pollMs?: number;
}

export async function runOrWatch(runtime: Runtime, threadId: string, options: RunOrWatchOptions): Promise<{ thread: ThreadRecord; outcome: RunOutcome }> {
  const pollMs = options.pollMs ?? 100;
  let noted = false;
  for (;;) {
    try {
      const run = await runtime.runThread(threadId, { stop: options.stop });
      // An agentTool call launched a child thread: run it here too (in the foreground, like its
      // parent), then the parent again once a child ended; a child that waits leaves both waiting.
      if (run.outcome === 'awaiting_child' && !options.stop.aborted && (await runChildren(runtime, threadId, options))) continue;
      return run;
    } catch (error) {
      if (!TwelveError.is(error, 'thread_not_runnable') || typeof error.details.leaseOwner !== 'string') throw error;
      if (!options.quiet && !noted) process.stderr.write(`twelve: ${threadId} is being run by another process (${error.details.leaseOwner}); following it\n`);
      noted = true;
    }
    for (;;) {
      const thread = await runtime.getThreadOrThrow(threadId);
      // After the row: every event up to the status just read is in the log by now.
      await options.catchUp();
      if (thread.status !== 'runnable') return { thread, outcome: thread.status };
      if (options.stop.aborted) return { thread, outcome: 'interrupted' };
      if (thread.leaseUntil === null || thread.leaseUntil <= Date.now()) break;
      await sleep(pollMs, options.stop);
    }
  }
}

/** Runs the thread's unfinished children (and theirs); true when one of them ended (the parent can go on). */
async function runChildren(runtime: Runtime, threadId: string, options: RunOrWatchOptions): Promise<boolean> {
  let ended = false;
  for (const child of await runtime.store.listChildren(threadId)) {
    if (['completed', 'failed', 'cancelled'].includes(child.status)) continue;
    const { outcome } = await runOrWatch(runtime, child.id, { ...options, catchUp: async () => undefined, quiet: true });
    if (outcome === 'completed' || outcome === 'failed' || outcome === 'cancelled') ended = true;
  }
  return ended;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
