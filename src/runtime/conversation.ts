/**
 * Conversations: a completed thread continues with the user's next message (message_added),
 * appended like any event under the expected-seq check, so the history lives in the log and
 * any worker picks the next turn up. Only a completed thread takes a message: a failed or
 * cancelled one never continues, and one still working or waiting refuses it (no queue: the
 * sender waits for the answer, then says the next thing).
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import { planMove } from '../release/move.js';
import { event, type NewEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import type { RuntimeServices } from './services.js';
import { ThreadSession } from './thread-session.js';

export interface NewMessage {
  text: string;
  /** Who sends it (an API key's name, --as). */
  by: string;
  /** Client-chosen: a retried send with the same id is recorded once (the same id with another text is a conflict). */
  messageId?: string;
}

/** The longest message text accepted (the API's limit too). */
export const maxMessageChars = 100_000;

/**
 * Appends the message to a completed thread. Returns `added: false` when a message with this
 * `messageId` is already in the log (a retry). Throws SeqConflictError when another append won
 * the race (the caller loads again and retries).
 */
export async function addMessage(services: RuntimeServices, release: AgentRelease, threadId: string, message: NewMessage): Promise<{ added: boolean; seq: number }> {
  const session = new ThreadSession(services, release, threadId);
  await session.load();
  const state = session.state;
  if (message.messageId !== undefined && state.messageIds.has(message.messageId)) {
    // The log holds the text as written (redacted at write when the agent asks for it): compare like with like.
    const recorded = state.messageIds.get(message.messageId);
    if (recorded !== message.text && recorded !== services.writeRedactor(release.agent.name).scrub(message.text)) {
      throw new TwelveError('conflict', `thread ${threadId} already has message ${message.messageId} with another text; a retry must send the same text (or use a new messageId)`, {
        details: { messageId: message.messageId },
      });
    }
    return { added: false, seq: state.seq };
  }
  refuseUnlessCompleted(state);
  const events: NewEvent[] = [];
  // The next turn runs on this release: record the move first, as a worker's first step would (src/release/move.ts).
  const from = state.lastReleaseId;
  if (from && from !== release.releaseId) {
    const old = await services.store.getRelease(from);
    events.push(event('release_changed', planMove({ thread: state, from, to: release.releaseId, before: old?.manifest, after: release.manifest })));
  }
  events.push(event('message_added', { text: message.text, by: message.by, ...(message.messageId !== undefined ? { messageId: message.messageId } : {}) }));
  const stored = await session.commit(events);
  return { added: true, seq: stored[stored.length - 1]!.seq };
}

function refuseUnlessCompleted(state: ThreadState): void {
  const id = state.threadId;
  const details = { status: state.status };
  if (state.status === 'completed') return;
  if (state.status === 'failed' || state.status === 'cancelled') {
    throw new TwelveError('thread_not_runnable', `thread ${id} is ${state.status}: a ${state.status} thread cannot be continued; launch a new thread (or fork this one: twelve fork ${id} --at <seq>)`, { details });
  }
  const doing = state.status === 'runnable' ? 'is still working on its answer' : `waits (${state.waitingReason ?? state.status})`;
  throw new TwelveError('conflict', `thread ${id} ${doing}: it takes a new message only once it has completed; wait for its answer (twelve watch ${id}), then send the message again`, { details });
}
