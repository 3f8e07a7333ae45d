/**
 * Stored requests extend the thread's previous one (model/request-record.ts): each step keeps,
 * with its event, what is new and the seq of the request it extends; every 33rd lists its whole
 * prompt again. Read back, every step's request is exactly what was sent, however long the thread;
 * a context that was rewritten (not appended to) is stored whole; a request edited after it was
 * written is refused; requests stored as blobs in the earlier layouts still read.
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { toBlob } from '../src/blobs/blob.js';
import { loadRequest, recordRequest, type PreviousRequest, type RecordedRequest } from '../src/model/request-record.js';

/** The reads a request needs: the thread's requests by seq (events.request) and the blobs. */
function requestStore(threadId = 'th_1') {
  const blobs = new Map<string, string>();
  const requests = new Map<number, string>();
  let seq = 0;
  return {
    blobs,
    requests,
    /** Stores a recorded request as the append would, with the next event's seq; returns that seq. */
    keep(recorded: RecordedRequest) {
      seq += 2;
      requests.set(seq, recorded.text);
      for (const b of recorded.blobs) blobs.set(b.hash, b.data);
      return seq;
    },
    put: (list: Array<{ hash: string; data: string }>) => list.forEach((b) => blobs.set(b.hash, b.data)),
    getBlob: async (hash: string) => (blobs.has(hash) ? { data: blobs.get(hash)! } : undefined),
    getBlobs: async (hashes: string[]) => hashes.filter((h) => blobs.has(h)).map((hash) => ({ hash, data: blobs.get(hash)! })),
    loadRequests: async (thread: string, upToSeq: number, limit?: number) =>
      thread !== threadId
        ? []
        : [...requests]
            .filter(([s]) => s <= upToSeq)
            .sort((a, b) => b[0] - a[0])
            .slice(0, limit)
            .map(([s, text]) => ({ seq: s, text })),
  };
}

const request = (prompt: LanguageModelV3CallOptions['prompt']): LanguageModelV3CallOptions => ({ prompt, temperature: 0, maxOutputTokens: 100 });

describe('stored requests', () => {
  it('extend the previous request, read back exactly over 80 steps, and bound the bases followed', async () => {
    const store = requestStore();
    const prompt: LanguageModelV3CallOptions['prompt'] = [{ role: 'system', content: 'Add numbers.' }];
    let previous: PreviousRequest | undefined;
    const steps: Array<{ seq: number; ref: string; sent: LanguageModelV3CallOptions }> = [];
    const sizes: number[] = [];
    for (let step = 0; step < 80; step++) {
      prompt.push({ role: 'user', content: [{ type: 'text', text: `step ${step}` }] });
      const sent = request(structuredClone(prompt));
      const recorded = recordRequest(sent, undefined, previous);
      const seq = store.keep(recorded);
      sizes.push(recorded.text.length);
      steps.push({ seq, ref: recorded.request.ref, sent });
      previous = recorded.next(seq);
      expect(previous.depth).toBe(step % 33);
    }
    for (const { seq, ref, sent } of steps) expect(await loadRequest(store, { threadId: 'th_1', seq, ref })).toEqual(sent);
    // What a step writes does not grow with the thread (a full list only every 33rd step).
    expect(sizes[60]! - sizes[40]!).toBeLessThan(20);
  });

  it('stores a rewritten context whole, says when a base is missing, and refuses a request edited after it was written', async () => {
    const store = requestStore();
    const first = recordRequest(request([{ role: 'system', content: 'A' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]));
    const firstSeq = store.keep(first);
    const rewritten = request([{ role: 'system', content: 'B' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    const second = recordRequest(rewritten, undefined, first.next(firstSeq));
    const secondSeq = store.keep(second);
    expect(second.next(secondSeq).depth).toBe(0);
    expect(await loadRequest(store, { threadId: 'th_1', seq: secondSeq, ref: second.request.ref })).toEqual(rewritten);

    const third = recordRequest(request([...rewritten.prompt, { role: 'user', content: [{ type: 'text', text: 'more' }] }]), undefined, second.next(secondSeq));
    const thirdSeq = store.keep(third);
    expect(JSON.parse(third.text)).toMatchObject({ base: secondSeq, keep: 2 });
    store.requests.set(secondSeq, store.requests.get(secondSeq)!.replace('"B"', '"C"'));
    await expect(loadRequest(store, { threadId: 'th_1', seq: secondSeq, ref: second.request.ref })).rejects.toThrow(/does not hash to sha256:/);
    store.requests.delete(secondSeq);
    await expect(loadRequest(store, { threadId: 'th_1', seq: thirdSeq, ref: third.request.ref })).rejects.toThrow(`its base, the request of seq ${secondSeq}, is missing`);
  });

  it('reads requests stored as blobs in the earlier layouts (messages by hash, then inline), and a chain across them', async () => {
    const store = requestStore();
    const system = toBlob({ role: 'system', content: 'A' });
    const user = toBlob({ role: 'user', content: [{ type: 'text', text: 'hi' }] });
    const tools = toBlob([{ type: 'function', name: 'f', inputSchema: { type: 'object' } }]);
    const head = toBlob({ format: 'twelve.request/1', prompt: [system.hash, user.hash], tools: tools.hash, options: { temperature: 0 } });
    store.put([system, user, tools, head]);
    const sent = { temperature: 0, prompt: [{ role: 'system', content: 'A' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: JSON.parse(tools.data) };
    expect(await loadRequest(store, { threadId: 'th_1', seq: 2, ref: head.hash })).toEqual(sent);
    const later = toBlob({ format: 'twelve.request/2', base: head.hash, keep: 2, messages: [{ role: 'user', content: [{ type: 'text', text: 'more' }] }], tools: tools.hash, options: { temperature: 0 } });
    store.put([later]);
    expect((await loadRequest(store, { threadId: 'th_1', seq: 4, ref: later.hash }))!.prompt).toEqual([...sent.prompt, { role: 'user', content: [{ type: 'text', text: 'more' }] }]);
  });
});
