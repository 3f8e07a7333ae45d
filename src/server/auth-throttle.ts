/**
 * Throttles failed authentication per client address: a token bucket per address (IPv6 by
 * its /64, since one host holds a whole /64) that each failed key or webhook signature
 * drains. An empty bucket answers 429 with Retry-After to every request from that address
 * that needs authenticating, valid key or not: otherwise the answer itself (429 or not) would
 * still tell a guesser at full speed which key is right. Behind a reverse proxy every client
 * shares the proxy's address; the default burst keeps a few mistyped keys harmless.
 */
import { isIP } from 'node:net';

export interface ThrottleOptions {
  /** Failures allowed at once (default 20). */
  burst?: number;
  /** Failures forgiven per second (default 1). */
  perSecond?: number;
  /** Most addresses tracked; the stalest are forgotten first (default 10,000). */
  maxClients?: number;
  now?: () => number;
}

export class FailureThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: ThrottleOptions = {}) {
    this.burst = options.burst ?? 20;
    this.perSecond = options.perSecond ?? 1;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private refill(client: string): { tokens: number; at: number } | undefined {
    const bucket = this.buckets.get(client);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens >= this.burst) {
      this.buckets.delete(client); // full again: nothing to remember
      return undefined;
    }
    return bucket;
  }

  /** Whole seconds this client must wait before authenticating again; 0 when it may now. */
  retryAfter(client: string): number {
    const bucket = this.refill(client);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  fail(client: string): void {
    const bucket = this.refill(client) ?? { tokens: this.burst, at: this.now() };
    bucket.tokens -= 1;
    // Re-inserted last, so the Map's order is least recently failed first.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    while (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** The throttling key of a peer address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.toLowerCase().split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
