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
  /** Text to append to what this attempt streamed so far. */
  text: string;
}

export type DeltaListener = (delta: ModelDelta) => void;

export class DeltaBus {
  private readonly byThread = new Map<string, Set<DeltaListener>>();

  /** Listens to one thread's deltas; returns the unsubscribe function. */
  subscribe(threadId: string, listener: DeltaListener): () => void {
    let listeners = this.byThread.get(threadId);
    if (!listeners) this.byThread.set(threadId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.byThread.get(threadId) === listeners) this.byThread.delete(threadId);
    };
  }

  /** Whether anyone in this process listens to the thread. */
  has(threadId: string): boolean {
    return this.byThread.has(threadId);
  }

  /** Delivers at once to this process's listeners; a listener that throws is skipped, never the publisher. */
  publish(delta: ModelDelta): void {
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
}
