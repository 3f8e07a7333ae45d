/**
 * LISTEN twelve_work on a dedicated connection (a pooled one would lose the LISTEN when
 * returned). When the connection drops (a PostgreSQL restart, a terminated backend, a
 * network blip) it reconnects with backoff. Each time it starts listening it nudges the
 * listener once, since work may have arrived while it was deaf. Workers poll too, so a long outage only slows wake-ups.
 */
import type pg from 'pg';

export const workChannel = 'twelve_work';

export interface WorkListenerOptions {
  createClient: () => pg.Client;
  /** Runs on every NOTIFY (with its payload), and once each time listening (re)starts (with none). */
  listener: (payload?: string) => void;
  /** Default twelve_work; twelve_deltas carries streamed model tokens (stream/delta-relay.ts). */
  channel?: string;
  /** First reconnect delay; doubles up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class WorkListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: WorkListenerOptions) {}

  /** Resolves after the first attempt to connect, successful or not (it keeps retrying). */
  start(): Promise<void> {
    this.connecting = this.connect();
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = this.options.createClient();
    let dropped = false;
    const onDrop = () => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onDrop);
    client.on('end', onDrop);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.safeNotify(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch {
      onDrop();
      return;
    }
    if (this.stopped || dropped) {
      client.removeListener('end', onDrop);
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    // Work that became claimable before we were listening (since the subscriber started, or
    // while the connection was down) sent its NOTIFY to nobody: look once now.
    this.safeNotify();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const base = this.options.backoffMs ?? 100;
    const delay = Math.min(this.options.maxBackoffMs ?? 5_000, base * 2 ** Math.min(this.failures, 10));
    this.failures += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connecting = this.connect();
    }, delay);
    this.timer.unref();
  }

  private get channel(): string {
    return this.options.channel ?? workChannel;
  }

  private safeNotify(payload?: string): void {
    try {
      this.options.listener(payload);
    } catch {
      // A listener's failure must not kill the connection loop.
    }
  }

  /** UNLISTEN and disconnect; no reconnects after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    await client.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
