/**
 * Streaming to UIs, part one: the in-process delta bus. While a model call streams, its text
 * arrives here as ephemeral deltas, keyed by thread: never stored per token (the model_called
 * event stores the final text as always), lost by whoever is not listening, and superseded by
 * the stored event once it lands. Across processes, stream/delta-relay.ts carries them.
 */

/** A piece of a model step's text, as the provider streams it. */
export interface ModelDelta {
  threadId: string;
  /** The seq the step's event will take (its model_called, or model_failed when every attempt fails). */
  seq: number;
  /** Which attempt of the step (`<fallback index>.<attempt>`): a new attempt starts the text over. */
  attempt: string;
  /** Where `text` starts in the attempt's text (UTF-16 units). */
  offset: number;
  /** The text from `offset` on. */
  text: string;
}

/** Threads whose in-flight text the bus remembers for late subscribers. */
const rememberedThreads = 500;

export type DeltaListener = (delta: ModelDelta) => void;

export class DeltaBus {
  private readonly byThread = new Map<string, Set<DeltaListener>>();
  /** Each thread's latest model call's text so far (insertion order = least recently streamed first). */
  private readonly sofar = new Map<string, ModelDelta>();

  /** Listens to one thread's deltas, starting with the text its current model call streamed so far; returns the unsubscribe function. */
  subscribe(threadId: string, listener: DeltaListener): () => void {
    let listeners = this.byThread.get(threadId);
    if (!listeners) this.byThread.set(threadId, (listeners = new Set()));
    listeners.add(listener);
    const sofar = this.sofar.get(threadId);
    if (sofar) listener({ ...sofar });
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byThread.get(threadId) === listeners) this.byThread.delete(threadId);
    };
  }

  /** Whether anyone in this process listens to the thread. */
  has(threadId: string): boolean {
    return this.byThread.has(threadId);
  }

  /** The thread's step at `seq` is stored: its text is no longer in flight. */
  settled(threadId: string, seq: number): void {
    const sofar = this.sofar.get(threadId);
    if (sofar && sofar.seq <= seq) this.sofar.delete(threadId);
  }

  /** Delivers at once to this process's listeners; a listener that throws is skipped, never the publisher. */
  publish(delta: ModelDelta): void {
    this.remember(delta);
    const listeners = this.byThread.get(delta.threadId);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(delta);
      } catch {
        // A subscriber's failure (a closed stream) must not break the model call.
      }
    }
  }

  private remember(delta: ModelDelta): void {
    const sofar = this.sofar.get(delta.threadId);
    this.sofar.delete(delta.threadId);
    if (sofar && sofar.seq === delta.seq && sofar.attempt === delta.attempt && delta.offset === sofar.offset + sofar.text.length) {
      this.sofar.set(delta.threadId, { ...sofar, text: sofar.text + delta.text });
    } else if (delta.offset === 0) {
      this.sofar.set(delta.threadId, { ...delta });
    } else return; // a gap: what came before is unknown here
    if (this.sofar.size > rememberedThreads) this.sofar.delete(this.sofar.keys().next().value!);
  }
}
