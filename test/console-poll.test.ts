/**
 * The console's poll (console/live.js), run in Node with the one browser global it reads: a
 * refresh asked for while a read is in flight runs right after it, because that read may have
 * started before what the person just did; it never overlaps itself, and stop() ends it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Poll = { now(): void; stop(): void };
let poll: (fn: () => Promise<void>, intervalMs: number) => Poll;

beforeAll(async () => {
  (globalThis as any).document = { hidden: false };
  // A browser module without type declarations: loaded by URL so the type check leaves it alone.
  ({ poll } = await import(new URL('../console/live.js', import.meta.url).href));
});
afterAll(() => {
  delete (globalThis as any).document;
});

/** A read the test finishes by hand, counting runs and overlaps. */
function reads() {
  const finishers: Array<() => void> = [];
  let active = 0;
  let overlaps = 0;
  const fn = () =>
    new Promise<void>((resolve) => {
      active += 1;
      if (active > 1) overlaps += 1;
      finishers.push(() => {
        active -= 1;
        resolve();
      });
    });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { fn, finishers, settle, overlaps: () => overlaps };
}

describe('console poll', () => {
  it('runs once more right after the read in flight when asked during it, without overlapping', async () => {
    const r = reads();
    const p = poll(r.fn, 3_600_000);
    expect(r.finishers).toHaveLength(1);
    p.now();
    p.now(); // asked twice during one read: one more run is enough
    expect(r.finishers).toHaveLength(1);
    r.finishers[0]!();
    await r.settle();
    expect(r.finishers).toHaveLength(2);
    r.finishers[1]!();
    await r.settle();
    expect(r.finishers).toHaveLength(2); // and then back to the schedule (an hour away)
    p.now();
    expect(r.finishers).toHaveLength(3);
    p.stop();
    r.finishers[2]!();
    await r.settle();
    expect(r.finishers).toHaveLength(3);
    expect(r.overlaps()).toBe(0);
  });

  it('does not run again after stop(), even when a refresh was asked for during the last read', async () => {
    const r = reads();
    const p = poll(r.fn, 3_600_000);
    p.now();
    p.stop();
    r.finishers[0]!();
    await r.settle();
    expect(r.finishers).toHaveLength(1);
  });
});
