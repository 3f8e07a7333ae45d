/**
 * Streaming to UIs, part two: carries model deltas between processes through the store
 * (PostgreSQL: NOTIFY twelve_deltas), so a server process streams the tokens of a model call
 * that a worker process makes. Deltas are batched and sent at most every 50 ms (one NOTIFY per
 * token would cost a round trip each), and each NOTIFY payload stays under PostgreSQL's
 * 8000-byte limit (a long batch is split, a long text too). A process ignores its own
 * payloads: its listeners already had them from the in-process bus. SQLite has no channel
 * between processes: there deltas reach only the process that makes the model call.
 */
import { randomBytes } from 'node:crypto';
import type { DeltaBus, ModelDelta } from './delta-bus.js';

/** What the relay needs from a store (Store.publishDeltas / subscribeDeltas). */
export interface DeltaChannel {
  publishDeltas?(payloads: string[]): Promise<void>;
  subscribeDeltas?(listener: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Bytes of JSON per NOTIFY payload: under the 8000-byte limit with room to spare. */
export const maxPayloadBytes = 7000;
const flushEveryMs = 50;

type Entry = [threadId: string, seq: number, attempt: string, offset: number, text: string];

export class DeltaRelay {
  private readonly origin = randomBytes(6).toString('hex');
  private pending: ModelDelta[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private counter = 0;
  private listening: Promise<(() => Promise<void>) | undefined> | undefined;
  private warned = false;

  constructor(
    private readonly channel: DeltaChannel,
    private readonly bus: DeltaBus,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Whether the store carries deltas between processes at all. */
  get crossProcess(): boolean {
    return Boolean(this.channel.publishDeltas && this.channel.subscribeDeltas);
  }

  /** Queues a delta for the other processes; sent with the others of the next 50 ms. */
  send(delta: ModelDelta): void {
    if (!this.channel.publishDeltas) return;
    this.pending.push(delta);
    this.timer ??= setTimeout(() => void this.flush(), flushEveryMs);
  }

  /** Sends what is queued now (in order after earlier sends). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || !this.channel.publishDeltas) return this.sending;
    const payloads = packPayloads(mergeDeltas(batch)).map((entries) => JSON.stringify({ o: this.origin, n: ++this.counter, d: entries }));
    this.sending = this.sending.then(() =>
      this.channel.publishDeltas!(payloads).catch((error: unknown) => {
        // Deltas are ephemeral: a lost batch shows up as the stored text when the step lands.
        if (!this.warned) this.onError(error);
        this.warned = true;
      }),
    );
    return this.sending;
  }

  /** Starts listening for other processes' deltas (once); resolves when listening or when the store has no channel. */
  async listen(): Promise<void> {
    if (!this.channel.subscribeDeltas) return;
    this.listening ??= this.channel.subscribeDeltas((payload) => this.receive(payload)).catch((error: unknown) => {
      this.onError(error);
      this.listening = undefined;
      return undefined;
    });
    await this.listening;
  }

  private receive(payload: string): void {
    let message: { o?: unknown; d?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (message.o === this.origin || !Array.isArray(message.d)) return;
    for (const entry of message.d as unknown[]) {
      if (!Array.isArray(entry) || entry.length !== 5) continue;
      const [threadId, seq, attempt, offset, text] = entry as unknown[];
      if (typeof threadId !== 'string' || typeof seq !== 'number' || typeof attempt !== 'string' || typeof offset !== 'number' || typeof text !== 'string') continue;
      this.bus.publish({ threadId, seq, attempt, offset, text });
    }
  }

  async close(): Promise<void> {
    await this.flush();
    const stop = await this.listening;
    this.listening = undefined;
    await stop?.();
  }
}

/** Consecutive deltas of one attempt become one: what a 50 ms batch of tokens usually is. */
export function mergeDeltas(deltas: ModelDelta[]): Entry[] {
  const entries: Entry[] = [];
  for (const d of deltas) {
    const last = entries[entries.length - 1];
    if (last && last[0] === d.threadId && last[1] === d.seq && last[2] === d.attempt && last[3] + last[4].length === d.offset) last[4] += d.text;
    else entries.push([d.threadId, d.seq, d.attempt, d.offset, d.text]);
  }
  return entries;
}

/** Groups entries into payloads of at most maxPayloadBytes of JSON, splitting a text that is too long alone. */
export function packPayloads(entries: Entry[], limit = maxPayloadBytes): Entry[][] {
  const envelope = 80; // {"o":"…","n":…,"d":[…]}
  const payloads: Entry[][] = [];
  let current: Entry[] = [];
  let size = envelope;
  const push = (entry: Entry) => {
    const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (bytes + envelope > limit) {
      const [left, right] = splitText(entry[4]);
      push([entry[0], entry[1], entry[2], entry[3], left]);
      push([entry[0], entry[1], entry[2], entry[3] + left.length, right]);
      return;
    }
    if (size + bytes > limit && current.length > 0) {
      payloads.push(current);
      current = [];
      size = envelope;
    }
    current.push(entry);
    size += bytes;
  };
  entries.forEach(push);
  if (current.length > 0) payloads.push(current);
  return payloads;
}

/** Two halves, never cutting a surrogate pair. */
function splitText(text: string): [string, string] {
  let middle = Math.floor(text.length / 2);
  const code = text.charCodeAt(middle - 1);
  if (code >= 0xd800 && code <= 0xdbff) middle += 1;
  return [text.slice(0, middle), text.slice(middle)];
}
