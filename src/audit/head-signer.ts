/**
 * Signs chain heads as the runtime appends: when a thread finishes, and whenever its log crosses a
 * multiple of `signEvery` events. Without a signing key the store is returned as it is, so the hot
 * path costs nothing; with one, an append that signs adds one Ed25519 signature (~50 µs) and one
 * insert after the append commits (a head is a statement about committed events).
 */
import type { Store } from '../store/types.js';
import { signHead, type SigningKey } from './signing.js';

const finished = new Set(['completed', 'failed', 'cancelled']);

export function withHeadSigning(store: Store, options: { key: SigningKey | undefined; signEvery: number; onError?: (error: unknown) => void }): Store {
  const { key, signEvery } = options;
  if (!key) return store;
  const sign = async (events: Awaited<ReturnType<Store['append']>>, due: boolean) => {
    const last = events.at(-1);
    if (!due || !last?.hash) return;
    try {
      await store.saveAuditHead(signHead(key, { threadId: last.threadId, seq: last.seq, hash: last.hash }));
    } catch (error) {
      // The events are committed; a head missed now is signed at the next boundary or finish.
      options.onError?.(error);
    }
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') {
        return async (...args: Parameters<Store['append']>) => {
          const events = await target.append(...args);
          const [, expectedSeq, , , summary] = args;
          const seq = expectedSeq + events.length;
          await sign(events, finished.has(summary.status) || Math.floor(seq / signEvery) > Math.floor(expectedSeq / signEvery));
          return events;
        };
      }
      if (property === 'createThread') {
        return async (...args: Parameters<Store['createThread']>) => {
          const events = await target.createThread(...args);
          await sign(events, finished.has(args[0].summary.status) || events.length >= signEvery);
          return events;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
