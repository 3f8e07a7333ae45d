/**
 * The background worker loop: claim a runnable thread, drive it, release it, repeat.
 * Idle loops sleep for `pollMs` unless nudged (a launch in this process nudges at once).
 * stop() drains: no new claims, the step in flight finishes and is recorded, leases are
 * released. Errors back off exponentially so a broken database is not hammered.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ThreadRecord } from '../store/types.js';
import type { RunOutcome } from '../runtime/runtime.js';
import { OutageLog } from './outage.js';

export interface WorkerOptions {
  /** Threads driven at once by this worker (default 1). */
  concurrency?: number;
  /** Idle poll interval (default 500 ms). */
  pollMs?: number;
}

export interface WorkerDeps {
  claim(): Promise<ThreadRecord | undefined>;
  /** `stop`: finish the step in flight, then return. `abort`: abandon the step in flight (after the grace period). */
  drive(thread: ThreadRecord, stop: AbortSignal, abort: AbortSignal): Promise<RunOutcome>;
  logger: Logger;
}

export interface Worker {
  /** Wake idle loops now (new work is there). */
  nudge(): void;
  /**
   * Drain and stop; resolves when every loop has released its thread. After `graceMs` the
   * steps still in flight are aborted (they are not recorded and run again elsewhere); a tool
   * run that ignores its signal keeps its thread's lease until it ends, so a process should
   * exit when this resolves false (`twelve worker` does), letting another worker take over.
   * Resolves true when everything drained within the grace period.
   */
  stop(options?: { graceMs?: number }): Promise<boolean>;
  readonly stopped: Promise<void>;
  /** Threads driven so far. */
  readonly processed: number;
}

export function startWorker(deps: WorkerDeps, options: WorkerOptions = {}): Worker {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const pollMs = options.pollMs ?? 500;
  const draining = new AbortController();
  const aborting = new AbortController();
  // Loops sleeping in idle(); a nudge wakes them all.
  const waiters = new Set<() => void>();
  // A nudge that comes while no loop is idle (one is inside claim()) must not be lost:
  // the next loop to go idle sees it and claims again at once.
  let nudged = false;
  let processed = 0;
  const outage = new OutageLog(deps.logger);

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (nudged) {
        nudged = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        draining.signal.removeEventListener('abort', done);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      draining.signal.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });

  async function loop(): Promise<void> {
    let failures = 0;
    while (!draining.signal.aborted) {
      let thread: ThreadRecord | undefined;
      try {
        thread = await deps.claim();
        outage.ok();
        if (!thread) {
          failures = 0; // the store answered: the next failure starts the backoff afresh
          await idle(pollMs);
          continue;
        }
        await deps.drive(thread, draining.signal, aborting.signal);
        processed++;
        failures = 0;
      } catch (error) {
        failures++;
        const backoff = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
        if (!outage.failed(error, backoff)) {
          deps.logger.error({ ...(thread ? { threadId: thread.id, agent: thread.agent } : {}), error: errorMessage(error), backoffMs: backoff }, 'worker step failed');
        }
        await idle(backoff);
      }
    }
  }

  const stopped = Promise.all(Array.from({ length: concurrency }, loop)).then(() => undefined);
  return {
    nudge: () => {
      if (waiters.size === 0) nudged = true;
      for (const waiter of [...waiters]) waiter();
    },
    stop: async (options = {}) => {
      draining.abort();
      const graceMs = options.graceMs ?? Infinity;
      if (graceMs === Infinity) {
        await stopped;
        return true;
      }
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([stopped.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
      clearTimeout(timer);
      if (!drained) {
        deps.logger.warn({ graceMs }, 'grace period over: aborting the steps in flight');
        aborting.abort(new Error('worker shutdown: grace period over'));
        await stopped;
      }
      return drained;
    },
    stopped,
    get processed() {
      return processed;
    },
  };
}
