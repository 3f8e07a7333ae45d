/**
 * The tamper-evident log: every event carries a hash chained to the previous event of its
 * thread, hash = sha256(previous hash + "\n" + the event's encoding), where the encoding is one
 * JSON object with the keys sorted, {"at","data","releaseId","seq","threadId","type"}, and `data`
 * as stored (its JSON text, the very bytes in the events table) — so people's decisions, releases
 * and costs are part of what is chained. The first event of a chain links to the empty string.
 * Computed in the same transaction as the append; `twelve audit verify` recomputes it.
 *
 * Chains written before 2026-12-02 encoded `data` with its keys sorted too (util/stable-json.ts);
 * verify accepts either encoding. Hashing the stored text instead saves re-encoding every event
 * (~5 µs an event, a third of what the chain cost a step; bench/tracing.mjs): the text is
 * deterministic for what is stored, and JSON.stringify(JSON.parse(text)) gives the text back.
 */
import { sha256Hex } from '../util/sha256.js';
import type { ThreadEvent } from '../thread/events.js';
import { stableStringify } from '../util/stable-json.js';

type Hashed = Pick<ThreadEvent, 'threadId' | 'seq' | 'type' | 'at' | 'releaseId' | 'data'>;

/** What of an event is hashed: everything it records; `dataText` is its data's stored JSON text. */
export function encodeEvent(event: Hashed, dataText: string = JSON.stringify(event.data) ?? 'null'): string {
  return `{"at":${JSON.stringify(event.at)},"data":${dataText},"releaseId":${JSON.stringify(event.releaseId)},"seq":${event.seq},"threadId":${JSON.stringify(event.threadId)},"type":${JSON.stringify(event.type)}}`;
}

/** The event's link: sha256 (hex) of the previous link (null: the chain starts here) and the event. */
export function eventHash(previous: string | null, event: Hashed, dataText?: string): string {
  return sha256Hex(`${previous ?? ''}\n${encodeEvent(event, dataText)}`);
}

/** The link in the first encoding (data with sorted keys), which chains written before 2026-12-02 use. */
function sortedEventHash(previous: string | null, event: Hashed): string {
  const text = stableStringify({ threadId: event.threadId, seq: event.seq, type: event.type, at: event.at, releaseId: event.releaseId, data: event.data });
  return sha256Hex(`${previous ?? ''}\n${text}`);
}

/** Whether `hash` is the event's link from `previous`, in either encoding. */
export function linksTo(hash: string, previous: string | null, event: Hashed): boolean {
  return eventHash(previous, event) === hash || sortedEventHash(previous, event) === hash;
}

/**
 * Sets each event's `hash`, chaining from `previous` (the link of the event before the first;
 * null: a chain starts here). The stores call it inside the append, on the events as stored,
 * with `dataTexts[i]` the JSON text stored for event i's data.
 */
export function linkEvents<E extends Hashed & { hash?: string | null }>(previous: string | null, events: E[], dataTexts?: string[]): E[] {
  let link = previous;
  events.forEach((event, index) => {
    link = eventHash(link, event, dataTexts?.[index]);
    event.hash = link;
  });
  return events;
}
