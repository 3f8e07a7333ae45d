/**
 * Stored requests extend the thread's previous one (model/request-record.ts): each step stores
 * what is new and a manifest naming its base, every 32nd lists its whole prompt again. Read back,
 * every step's request is exactly what was recorded, however long the thread, and a context that
 * was rewritten (not appended to) is stored whole.
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { toBlob } from '../src/blobs/blob.js';
import { loadRequest, recordRequest, type PreviousRequest } from '../src/model/request-record.js';

function blobStore() {
  const blobs = new Map<string, string>();
  return {
    blobs,
    put: (list: Array<{ hash: string; data: string }>) => list.forEach((b) => blobs.set(b.hash, b.data)),
    getBlob: async (hash: string) => (blobs.has(hash) ? { data: blobs.get(hash)! } : undefined),
    getBlobs: async (hashes: string[]) => hashes.filter((h) => blobs.has(h)).map((hash) => ({ hash, data: blobs.get(hash)! })),
  };
}

const request = (prompt: LanguageModelV3CallOptions['prompt']): LanguageModelV3CallOptions => ({ prompt, temperature: 0, maxOutputTokens: 100 });

describe('stored requests', () => {
  it('extend the previous request, read back exactly over 80 steps, and bound the bases followed', async () => {
    const store = blobStore();
    const prompt: LanguageModelV3CallOptions['prompt'] = [{ role: 'system', content: 'Add numbers.' }];
    let previous: PreviousRequest | undefined;
    const refs: Array<{ ref: string; sent: LanguageModelV3CallOptions }> = [];
    const manifestBytes: number[] = [];
    for (let step = 0; step < 80; step++) {
      prompt.push({ role: 'user', content: [{ type: 'text', text: `step ${step}` }] });
      const sent = request(structuredClone(prompt));
      const recorded = recordRequest(sent, undefined, previous);
      store.put(recorded.blobs);
      manifestBytes.push(store.blobs.get(recorded.request.ref)!.length);
      refs.push({ ref: recorded.request.ref, sent });
      expect(recorded.next.depth).toBe(step % 33);
      previous = recorded.next;
    }
    for (const { ref, sent } of refs) expect(await loadRequest(store, ref)).toEqual(sent);
    // What a step writes does not grow with the thread (a full list only every 33rd step).
    expect(manifestBytes[60]! - manifestBytes[40]!).toBeLessThan(20);
  });

  it('stores a rewritten context whole, and says when a base is missing', async () => {
    const store = blobStore();
    const first = recordRequest(request([{ role: 'system', content: 'A' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]));
    store.put(first.blobs);
    const rewritten = request([{ role: 'system', content: 'B' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    const second = recordRequest(rewritten, undefined, first.next);
    expect(second.next.depth).toBe(0);
    store.put(second.blobs);
    expect(await loadRequest(store, second.request.ref)).toEqual(rewritten);

    const third = recordRequest(request([...rewritten.prompt, { role: 'user', content: [{ type: 'text', text: 'more' }] }]), undefined, second.next);
    store.put(third.blobs);
    store.blobs.delete(second.request.ref);
    await expect(loadRequest(store, third.request.ref)).rejects.toThrow(/its base sha256:[0-9a-f]{64} is missing/);
  });

  it('reads requests stored in the earlier layout (each message a blob, listed by hash), and a chain on one', async () => {
    const store = blobStore();
    const system = toBlob({ role: 'system', content: 'A' });
    const user = toBlob({ role: 'user', content: [{ type: 'text', text: 'hi' }] });
    const tools = toBlob([{ type: 'function', name: 'f', inputSchema: { type: 'object' } }]);
    const head = toBlob({ format: 'twelve.request/1', prompt: [system.hash, user.hash], tools: tools.hash, options: { temperature: 0 } });
    store.put([system, user, tools, head]);
    const sent = { temperature: 0, prompt: [{ role: 'system', content: 'A' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: JSON.parse(tools.data) };
    expect(await loadRequest(store, head.hash)).toEqual(sent);
    const later = toBlob({ format: 'twelve.request/2', base: head.hash, keep: 2, messages: [{ role: 'user', content: [{ type: 'text', text: 'more' }] }], tools: tools.hash, options: { temperature: 0 } });
    store.put([later]);
    expect((await loadRequest(store, later.hash))!.prompt).toEqual([...sent.prompt, { role: 'user', content: [{ type: 'text', text: 'more' }] }]);
  });
});
