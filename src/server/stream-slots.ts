/**
 * Caps the event streams (SSE) one API key holds open at once. A stream is a connection and
 * a polling loop for as long as the thread runs, so without a cap one key (a leaked one, a
 * client stuck reconnecting) could hold every connection the server has.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly perKey: number) {}

  /** A release function, or undefined when `key` already holds its share. Release exactly once. */
  acquire(key: string): (() => void) | undefined {
    const count = this.open.get(key) ?? 0;
    if (count >= this.perKey) return undefined;
    this.open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left <= 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }
}
