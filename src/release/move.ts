/**
 * A thread's move to another release, decided: what changed, whether it is compatible, and
 * whether it goes on or waits for a person (the agent's `onNewRelease`: 'continue', 'hold', or
 * by default continue when compatible, hold when not). The data of the `release_changed`
 * event, and what `twelve deploy plan` predicts. Pure: no I/O.
 */
import type { EventData } from '../thread/events.js';
import { checkCompatibility, type ThreadInFlight } from './compatibility.js';
import { diffManifests } from './diff.js';

type Manifest = Record<string, unknown>;

export interface MoveInput {
  thread: ThreadInFlight;
  from: string;
  to: string;
  /** The manifest of `from`, when the store has it. */
  before: Manifest | undefined;
  after: Manifest;
}

/**
 * @example
 * planMove({ thread: state, from: 'rel_a', to: 'rel_b', before: old.manifest, after: release.manifest })
 * // { from: 'rel_a', to: 'rel_b', compatible: true, changes: [{ kind: 'prompt', detail: 'prompt text changed (+1 −1 lines)' }], decision: 'continue', reason: '...' }
 */
export function planMove({ thread, from, to, before, after }: MoveInput): EventData<'release_changed'> {
  const { compatible, reasons } = checkCompatibility(thread, before, after);
  const changes = before ? diffManifests(before, after).map(({ kind, detail }) => ({ kind, detail })) : [];
  const policy = after.onNewRelease === 'continue' || after.onNewRelease === 'hold' ? after.onNewRelease : 'auto';
  const why = reasons.join('; ');
  let decision: 'continue' | 'hold';
  let reason: string;
  if (policy === 'auto') {
    decision = compatible ? 'continue' : 'hold';
    reason = compatible ? 'compatible: no open call, pending approval or output schema is affected' : `incompatible: ${why}`;
  } else {
    decision = policy;
    reason = `the agent says onNewRelease: '${policy}'${compatible ? ' (compatible)' : ` (incompatible: ${why})`}`;
  }
  return { from, to, compatible, changes, decision, reason };
}
