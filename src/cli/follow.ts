/**
 * Runs a thread in the foreground, printing events as they are appended. With --wait, a
 * thread that waits for a person is watched in the store until someone acts (say, from
 * another terminal), then continued here.
 */
import type { Runtime, RunOutcome } from '../runtime/runtime.js';
import type { ThreadEvent } from '../thread/events.js';
import { exitCodes, type Flags } from './command.js';
import { waitingHint } from './waiting-hint.js';

export async function follow(runtime: Runtime, threadId: string, flags: Flags, options: { printAfterSeq: number }): Promise<number> {
  const { EventFormatter } = await import('./format.js');
  const { runOrWatch } = await import('./run-or-watch.js');
  runtime.logThreadEvents = false; // printed on stdout, with the hint that moves the thread on
  const formatter = new EventFormatter();
  let seen = 0;
  const write = (stored: ThreadEvent) => {
    // What people see: the user's redaction patterns apply, as in `twelve threads show`.
    const event = runtime.viewRedactor.scrub(stored);
    const line = formatter.format(event); // also teaches the formatter tool names
    if (event.seq <= seen) return;
    seen = event.seq;
    if (event.seq > options.printAfterSeq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
  };
  const catchUp = async () => {
    // Events appended by other processes (a decision from another terminal) are read from the store.
    for (const event of await runtime.loadEvents(threadId, seen)) write(event);
  };
  await catchUp();
  const unsubscribe = runtime.subscribe((event) => {
    if (event.threadId === threadId) write(event);
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(exitCodes.interrupted); // second signal: leave now; the lease expires
    process.stderr.write(`\ntwelve: ${signal}: finishing the current step, then stopping (again to force)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: RunOutcome;
  try {
    for (;;) {
      const run = await runOrWatch(runtime, threadId, { stop: stop.signal, catchUp, quiet: Boolean(flags.json) });
      outcome = run.outcome;
      if (!flags.wait || !isWaiting(outcome) || stop.signal.aborted) break;
      // The seq as this run left it: someone may act while the notification goes out.
      const waitingSince = run.thread.seq;
      if (!flags.json) process.stderr.write(`twelve: ${threadId} ${waitingHint(run.thread, { remote: false })}\n  waiting here until then (Ctrl-C stops waiting; the thread keeps waiting in the store)\n`);
      await runtime.flushNotifications();
      await waitForChange(runtime, threadId, waitingSince, stop.signal);
      await catchUp();
      if (stop.signal.aborted) {
        outcome = 'interrupted';
        break;
      }
    }
  } finally {
    unsubscribe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await runtime.flushNotifications();
  const thread = await runtime.getThreadOrThrow(threadId);
  if (!flags.json) {
    if (isWaiting(outcome)) process.stderr.write(`twelve: ${threadId} ${waitingHint(thread, { remote: false })}\n`);
    if (outcome === 'interrupted') process.stderr.write(`twelve: stopped; continue with: twelve resume ${threadId}\n`);
  }
  return exitCodeFor(outcome);
}

function isWaiting(outcome: RunOutcome): boolean {
  return outcome === 'awaiting_approval' || outcome === 'awaiting_human' || outcome === 'awaiting_review' || outcome === 'awaiting_child' || outcome === 'sleeping' || outcome === 'paused';
}

/** The exit status for how a thread run ended (local and remote). */
export function exitCodeFor(outcome: string): number {
  if (outcome === 'completed') return exitCodes.completed;
  if (outcome === 'failed' || outcome === 'cancelled') return exitCodes.failed;
  if (outcome === 'interrupted' || outcome === 'runnable') return exitCodes.interrupted;
  return exitCodes.waiting;
}

/** Polls the store until the thread's log grows (someone acted) or a wake-up time passes. */
async function waitForChange(runtime: Runtime, threadId: string, seq: number, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const thread = await runtime.getThreadOrThrow(threadId);
    if (thread.seq !== seq || (thread.wakeAt !== null && thread.wakeAt <= Date.now())) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
