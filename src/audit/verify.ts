/**
 * Checks one thread's hash chain (pure: events and heads in, problems out), the events as the
 * store or an archive gives them. Each problem names the seq and what happened there:
 *   edited      the event does not match its link (data, type, time, release or the link itself changed)
 *   deleted     seqs are missing (a gap, or the first events)
 *   inserted    an event that matches no link, followed by the thread's events shifted one seq on;
 *               or events beyond the seq the thread row records
 *   reordered   an event carries the link of another position (moved, swapped), or seqs go backwards
 *   unhashed    an event without a link after hashed ones (a stripped hash)
 *   tail_cut    a signed head (or the thread row's seq) lies beyond the last event
 *   signature   a signed head whose signature does not check, or whose link differs from the log's
 *   blob        (archives) a blob line whose data does not hash to its name: seq is the line number
 * Events written before the chain existed (a prefix with no hash) are "not covered", not tampered;
 * in a thread created after the chain began (`mustBeHashed`) every event without a hash is unhashed.
 * With public keys, signed heads none of which a given key signed are a signature problem (a head
 * by an unknown key proves nothing; a forged key id must not pass as "not checked").
 *
 * Limit, by design of any unkeyed chain: someone who rewrites an event AND recomputes every later
 * link leaves a consistent chain; a signed head past the edit (signing.ts) is what catches that.
 */
import type { KeyObject } from 'node:crypto';
import type { ThreadEvent } from '../thread/events.js';
import { linksTo } from './chain.js';
import { checkHead } from './signing.js';
import type { AuditHead } from './types.js';

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'unhashed' | 'tail_cut' | 'signature' | 'blob';

export interface AuditProblem {
  threadId: string;
  seq: number;
  kind: ProblemKind;
  message: string;
}

export interface ThreadVerdict {
  threadId: string;
  events: number;
  /** Events whose link was checked. */
  covered: number;
  /** Events before the chain began (no hash), not covered by it. */
  notCovered: number;
  /** Signed heads whose signature was checked (0 without a public key). */
  headsChecked: number;
  /** Signed heads by a key none of the public keys is (with public keys given). */
  headsUnknownKey?: number;
  problems: AuditProblem[];
}

export interface VerifyThreadInput {
  threadId: string;
  /** The thread's events in the order stored (the store: by seq; an archive: as written). */
  events: ThreadEvent[];
  /** The seq the thread row records (a cheap cross-check for a cut or extended tail). */
  threadSeq?: number;
  heads?: AuditHead[];
  /** Public keys to check heads with; without any, heads are not used. */
  publicKeys?: KeyObject[];
  /** The thread was created after the chain began: an event without a hash is stripped, never "before the chain". */
  mustBeHashed?: boolean;
}

export function verifyThread(input: VerifyThreadInput): ThreadVerdict {
  const { threadId, events } = input;
  const problems: AuditProblem[] = [];
  const problem = (seq: number, kind: ProblemKind, message: string) => problems.push({ threadId, seq, kind, message });
  let covered = 0;
  let notCovered = 0;
  let hashedSeen = false;
  /** Seqs already explained as moved, so the next event's check does not report them again. */
  const moved = new Map<number, number>();

  for (let i = 0; i < events.length; i += 1) {
    const e = events[i]!;
    const before = events[i - 1];
    if (e.threadId !== threadId) problem(e.seq, 'inserted', `belongs to thread ${e.threadId}`);
    if (before && e.seq <= before.seq) {
      problem(e.seq, 'reordered', `seq ${e.seq} comes after seq ${before.seq}`);
      continue;
    }
    const expectedSeq = before ? before.seq + 1 : 1;
    const gap = e.seq > expectedSeq;
    if (gap) problem(expectedSeq, 'deleted', e.seq - expectedSeq === 1 ? `seq ${expectedSeq} is missing` : `seqs ${expectedSeq}-${e.seq - 1} are missing`);
    if (!e.hash) {
      if (input.mustBeHashed && !hashedSeen) problem(e.seq, 'unhashed', 'has no hash, in a thread created after the chain began (its link was stripped)');
      else if (hashedSeen) problem(e.seq, 'unhashed', 'has no hash after hashed events (its link was stripped)');
      else notCovered += 1;
      continue;
    }
    // The link it chains from was stripped: it cannot be checked (the stripping is the problem).
    const afterStripped = hashedSeen && before !== undefined && !before.hash;
    hashedSeen = true;
    covered += 1;
    // The link it was chained from: the event before it, unless that one predates the chain.
    const previous = before?.hash ?? null;
    if (gap || afterStripped) continue; // the link after a deletion cannot match; the gap is the problem.
    if (linksTo(e.hash, previous, e)) continue;
    const origin = explain(events, i);
    if (origin !== undefined && origin !== e.seq) {
      moved.set(e.seq, origin);
      problem(e.seq, 'reordered', `holds the event first written at seq ${origin}`);
    } else if (origin === e.seq) {
      // Intact itself but chained to another event than the one now before it: a consequence of a
      // move already reported, or a reorder of its own.
      if (!moved.has(e.seq - 1) && !moved.has(e.seq - 2)) problem(e.seq, 'reordered', 'does not follow the event before it');
    } else {
      const next = events[i + 1];
      const shifted = next?.hash ? explain(events, i + 1) : undefined;
      if (next && shifted === next.seq - 1 && shifted === e.seq) problem(e.seq, 'inserted', 'matches no link and pushes the events after it one seq on');
      else problem(e.seq, 'edited', 'its content or hash was changed (it does not match its link)');
    }
  }

  const last = events.at(-1);
  const lastSeq = last?.seq ?? 0;
  if (input.threadSeq !== undefined) {
    if (input.threadSeq > lastSeq) problem(lastSeq + 1, 'tail_cut', `the thread records seq ${input.threadSeq} but its log ends at seq ${lastSeq}`);
    else if (input.threadSeq < lastSeq) problem(input.threadSeq + 1, 'inserted', `events after seq ${input.threadSeq}, the last the thread records`);
  }
  let headsChecked = 0;
  let headsUnknownKey = 0;
  if (input.publicKeys?.length) {
    const bySeq = new Map(events.map((e) => [e.seq, e] as const));
    const heads = input.heads ?? [];
    for (const head of heads) {
      const check = checkHead(head, input.publicKeys);
      if (check === 'unknown_key') {
        headsUnknownKey += 1;
        continue;
      }
      headsChecked += 1;
      if (check === 'invalid') {
        problem(head.seq, 'signature', `signed head ${head.id} has an invalid signature`);
        continue;
      }
      const event = bySeq.get(head.seq);
      if (head.seq > lastSeq) problem(lastSeq + 1, 'tail_cut', `a signed head covers seq ${head.seq} but the log ends at seq ${lastSeq}`);
      else if (event && event.hash !== head.hash) problem(head.seq, 'signature', `its link differs from the one signed at ${head.signedAt} (the chain was rewritten up to here)`);
    }
    if (heads.length > 0 && headsChecked === 0) {
      const keyIds = [...new Set(heads.map((h) => h.keyId))].join(', ');
      problem(heads.at(-1)!.seq, 'signature', `${heads.length} signed head${heads.length === 1 ? '' : 's'}, none by the given public key (signed by key ${keyIds}): nothing here could be checked`);
    }
  }
  return { threadId, events: events.length, covered, notCovered, headsChecked, headsUnknownKey, problems: dedupe(collapseShifts(threadId, problems, moved)) };
}

/**
 * Where an event whose link does not match was first written: it carries the link computed for
 * seq s-1, s or s+1 from the link of an event near it (a move, a swap, an insertion before it).
 * Undefined: it matches none (its content or hash changed). A few hashes, only for broken links.
 */
function explain(events: ThreadEvent[], i: number): number | undefined {
  const e = events[i]!;
  const links: Array<string | null> = [null];
  for (let j = Math.max(0, i - 3); j <= Math.min(events.length - 1, i + 2); j += 1) if (j !== i && events[j]!.hash) links.push(events[j]!.hash!);
  for (const seq of [e.seq, e.seq - 1, e.seq + 1]) {
    if (seq < 1) continue;
    for (const link of links) if (linksTo(e.hash!, link, { ...e, seq })) return seq;
  }
  return undefined;
}

/**
 * Events shifted one seq on (an insertion before them) or back (a deletion renumbered away) are one
 * problem, not one per event: a run of moves by the same offset becomes one line, and an event
 * inserted before a +1 run with a valid link of its own is named.
 */
function collapseShifts(threadId: string, problems: AuditProblem[], moved: Map<number, number>): AuditProblem[] {
  const out: AuditProblem[] = [];
  let run: { from: number; to: number; offset: number } | undefined;
  const flush = () => {
    if (!run) return;
    const { from, to, offset } = run;
    if (to > from && offset !== 0) {
      const what = offset > 0 ? 'an event was inserted before them' : 'an event was deleted and the rest renumbered';
      if (offset > 0 && !out.some((p) => p.seq === from - 1)) out.push({ threadId, seq: from - 1, kind: 'inserted', message: 'inserted here: the events after it were first written one seq earlier' });
      out.push({ threadId, seq: from, kind: 'reordered', message: `seqs ${from}-${to} hold the events first written at seqs ${from - offset}-${to - offset} (${what})` });
    } else {
      out.push({ threadId, seq: from, kind: 'reordered', message: `holds the event first written at seq ${moved.get(from)}` });
    }
    run = undefined;
  };
  for (const p of problems) {
    const origin = p.kind === 'reordered' ? moved.get(p.seq) : undefined;
    if (origin === undefined) {
      flush();
      out.push(p);
      continue;
    }
    const offset = p.seq - origin;
    if (run && run.offset === offset && run.to === p.seq - 1 && Math.abs(offset) === 1) run.to = p.seq;
    else {
      flush();
      run = { from: p.seq, to: p.seq, offset };
    }
  }
  flush();
  return out.sort((a, b) => a.seq - b.seq);
}

function dedupe(problems: AuditProblem[]): AuditProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.seq}:${p.kind}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One line per problem, for people and CI logs. */
export function problemLine(p: AuditProblem): string {
  return `${p.threadId} seq ${p.seq}: ${p.kind}: ${p.message}`;
}
