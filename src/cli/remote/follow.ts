/**
 * Follows a thread the server's workers run: prints its events from the stream (which
 * reconnects with Last-Event-ID) until it finishes, or until it waits for a person (exit 4),
 * or, with --wait, through the wait until someone acts.
 */
import type { ThreadEvent } from '../../thread/events.js';
import type { ThreadStatus } from '../../thread/state.js';
import type { Event, Thread, TwelveClient } from '../../client/index.js';
import { exitCodes, type Flags } from '../command.js';
import { exitCodeFor } from '../follow.js';
import { waitingHint } from '../waiting-hint.js';

const waitingStatuses: readonly ThreadStatus[] = ['awaiting_approval', 'awaiting_human', 'awaiting_review', 'awaiting_child', 'sleeping', 'paused'];
/** Events after which a thread may be waiting (for a person, or asleep). */
const waitingEvents = new Set(['approval_requested', 'human_asked', 'escalated', 'budget_exceeded', 'tool_sleeping', 'paused', 'blocked', 'review_requested']);

export async function followRemote(client: TwelveClient, threadId: string, flags: Flags, options: { printAfterSeq: number }): Promise<number> {
  const { EventFormatter } = await import('../format.js');
  const formatter = new EventFormatter();
  let seen = 0;
  const write = (event: Event) => {
    const line = formatter.format(event as unknown as ThreadEvent); // also teaches the formatter tool names
    if (event.seq <= seen) return;
    seen = event.seq;
    if (event.seq > options.printAfterSeq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
  };
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(exitCodes.interrupted);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let hinted = -1;
  // A thread nobody runs (no worker on the server) would look like a hang: say so once.
  let idleTimer: NodeJS.Timeout | undefined;
  let idleNoted = false;
  const watchIdle = () => {
    clearTimeout(idleTimer);
    if (idleNoted || flags.json) return;
    idleTimer = setTimeout(() => {
      void client.getThread(threadId).then(
        (thread) => {
          if (thread.status !== 'runnable' || thread.running || stop.signal.aborted) return;
          idleNoted = true;
          process.stderr.write(`twelve: ${threadId} is runnable but no worker has picked it up yet (the server needs workers: twelve worker, or twelve dev)\n`);
        },
        () => undefined,
      );
    }, 5_000);
    idleTimer.unref();
  };
  /** Whether to stop here: the thread waits and --wait is off. Prints what it waits for (once per wait). */
  const checkWaiting = async (): Promise<Thread | undefined> => {
    const thread = await client.getThread(threadId);
    if (!waitingStatuses.includes(thread.status)) return undefined;
    // Print what came before the wait (the stream may not have delivered it yet).
    if (thread.seq > seen) for (const event of (await client.events(threadId, seen, { limit: 1000 })).events) write(event);
    if (!flags.wait) return thread;
    if (hinted !== thread.seq && !flags.json) {
      hinted = thread.seq;
      process.stderr.write(`twelve: ${threadId} ${waitingHint(thread, { remote: true })}\n  waiting here until then (Ctrl-C stops waiting; the thread keeps waiting on the server)\n`);
    }
    return undefined;
  };
  try {
    const waiting = await checkWaiting();
    if (waiting) return stopWaiting(waiting, flags);
    watchIdle();
    for await (const item of client.stream(threadId, { signal: stop.signal, after: 0 })) {
      if (item.kind === 'end') {
        if (item.lastSeq > seen) for (const event of (await client.events(threadId, seen, { limit: 1000 })).events) write(event);
        return exitCodeFor(item.status);
      }
      write(item.event);
      watchIdle();
      if (waitingEvents.has(item.event.type)) {
        const stopped = await checkWaiting();
        if (stopped) return stopWaiting(stopped, flags);
      }
    }
    // Only a signal ends the stream without `end`.
    if (!flags.json) process.stderr.write(`twelve: stopped following ${threadId}; it goes on on the server (follow it again with: twelve resume ${threadId})\n`);
    return exitCodes.interrupted;
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function stopWaiting(thread: Thread, flags: Flags): number {
  if (!flags.json) process.stderr.write(`twelve: ${thread.id} ${waitingHint(thread, { remote: true })}\n`);
  return exitCodes.waiting;
}
