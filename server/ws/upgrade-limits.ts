/**
 * Limits on WebSocket upgrades: a token bucket per remote address, and a
 * count per key (a user's open sockets). Both are checked before `res.upgrade`, which opens the
 * socket synchronously: no upgrade can slip in between a check and its count.
 */

export interface BucketRate {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  /** Tokens a bucket holds: the burst allowed at once. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per key, refilled continuously. Memory stays bounded: past `maxKeys`, buckets
 * that have refilled are forgotten (a full bucket is the same as none), then the oldest ones.
 */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: BucketRate,
    private readonly options: { now?: () => number; maxKeys?: number } = {},
  ) {}

  /** Takes a token for `key`: 0 when allowed, else the milliseconds until a token is there. */
  take(key: string): number {
    const { perSecond, burst } = this.rate;
    if (perSecond <= 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, now) : burst;
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      if (!bucket) this.prune(now);
      return 0;
    }
    this.buckets.set(key, { tokens, at: now });
    return Math.ceil(((1 - tokens) / perSecond) * 1000);
  }

  /** How many addresses are tracked (for tests of the bound). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    return Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond);
  }

  private prune(now: number): void {
    const maxKeys = this.options.maxKeys ?? 100_000;
    if (this.buckets.size <= maxKeys) return;
    for (const [key, bucket] of this.buckets)
      if (this.refilled(bucket, now) >= this.rate.burst) this.buckets.delete(key);
    // Still over: the oldest entries go (Map keeps insertion order); they get a fresh burst.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= maxKeys) break;
      this.buckets.delete(key);
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** How many of something each key holds (a user's sockets), up to `max` (0: no cap). */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** True when `key` is below its cap (one more is then counted). */
  tryAcquire(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (this.max > 0 && count >= this.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }

  release(key: string): void {
    const count = this.counts.get(key) ?? 0;
    if (count <= 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys holding at least one (for tests: nothing leaks once every socket is closed). */
  get size(): number {
    return this.counts.size;
  }
}
