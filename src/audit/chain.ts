/**
 * The tamper-evident log: every event carries a hash chained to the previous event of its
 * thread, hash = sha256(previous hash + "\n" + canonical JSON of the event), where the canonical
 * JSON has sorted keys (util/stable-json.ts) and covers the thread id, seq, type, time, release
 * and data — so people's decisions, releases and costs are part of what is chained. The first
 * event of a chain links to the empty string. Computed in the same transaction as the append;
 * `twelve audit verify` recomputes it.
 */
import { createHash } from 'node:crypto';
import type { ThreadEvent } from '../thread/events.js';
import { stableStringify } from '../util/stable-json.js';

/** What of an event is hashed: everything it records, in one canonical encoding. */
export function canonicalEvent(event: Pick<ThreadEvent, 'threadId' | 'seq' | 'type' | 'at' | 'releaseId' | 'data'>): string {
  return stableStringify({ threadId: event.threadId, seq: event.seq, type: event.type, at: event.at, releaseId: event.releaseId, data: event.data });
}

/** The event's link: sha256 (hex) of the previous link (null: the chain starts here) and the event. */
export function eventHash(previous: string | null, event: Pick<ThreadEvent, 'threadId' | 'seq' | 'type' | 'at' | 'releaseId' | 'data'>): string {
  return createHash('sha256').update(`${previous ?? ''}\n${canonicalEvent(event)}`).digest('hex');
}

/**
 * Sets each event's `hash`, chaining from `previous` (the link of the event before the first;
 * null: a chain starts here). The stores call it inside the append, on the events as stored.
 */
export function linkEvents<E extends Pick<ThreadEvent, 'threadId' | 'seq' | 'type' | 'at' | 'releaseId' | 'data'> & { hash?: string | null }>(previous: string | null, events: E[]): E[] {
  let link = previous;
  for (const event of events) {
    link = eventHash(link, event);
    event.hash = link;
  }
  return events;
}
