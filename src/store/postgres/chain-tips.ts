/**
 * The last chain link (audit/chain.ts) PostgresStore read or wrote per thread, so the next append
 * hashes its events in JS and sends them in its single statement with no extra read. A worker loads
 * a thread's log before stepping it, so its appends find their tip here. Bounded (oldest forgotten
 * first); a stale or missing tip costs one indexed read, and the statement itself refuses a wrong one.
 */
import type { ThreadEvent } from '../../thread/events.js';

const capacity = 10_000;

export class ChainTips {
  private readonly tips = new Map<string, { seq: number; hash: string | null }>();

  /** The link of event `seq` of the thread, when it is the tip remembered; undefined: unknown. */
  at(threadId: string, seq: number): string | null | undefined {
    const tip = this.tips.get(threadId);
    return tip && tip.seq === seq ? tip.hash : undefined;
  }

  /** Remembers the last of these events (one thread's, in seq order) as its thread's tip. */
  remember(events: ThreadEvent[]): void {
    const last = events[events.length - 1];
    if (!last) return;
    this.tips.delete(last.threadId);
    this.tips.set(last.threadId, { seq: last.seq, hash: last.hash ?? null });
    if (this.tips.size > capacity) this.tips.delete(this.tips.keys().next().value!);
  }

  forget(threadId: string): void {
    this.tips.delete(threadId);
  }
}
