/**
 * At most `max` changes per key in a sliding window of `windowMs`, remembered in this process
 * (a user's changes reach one server at a time in practice; several servers each allow `max`),
 * with the value each key was last changed to. Keys whose changes have all left the window are
 * forgotten, so memory follows recent writers only.
 */
export class RecentChanges<V> {
  private readonly changes = new Map<string, { times: number[]; last: V }>();

  constructor(private readonly options: { max: number; windowMs: number; now?: () => number }) {}

  /** The value of `key`'s last change in the window, if it made one. */
  last(key: string): { value: V } | undefined {
    this.forgetOlderThan(this.now() - this.options.windowMs);
    const entry = this.changes.get(key);
    return entry && { value: entry.last };
  }

  /** Records a change of `key` to `value`: false (nothing recorded) when it already made `max` in the window. */
  take(key: string, value: V): boolean {
    const now = this.now();
    this.forgetOlderThan(now - this.options.windowMs);
    const times = this.changes.get(key)?.times ?? [];
    if (times.length >= this.options.max) return false;
    this.changes.set(key, { times: [...times, now], last: value });
    return true;
  }

  /** Milliseconds until `key` may make a change again (0: it may now). */
  waitMs(key: string): number {
    const now = this.now();
    this.forgetOlderThan(now - this.options.windowMs);
    const times = this.changes.get(key)?.times ?? [];
    if (times.length < this.options.max) return 0;
    return times[times.length - this.options.max]! + this.options.windowMs - now;
  }

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.changes.size;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private forgetOlderThan(limit: number): void {
    for (const [key, entry] of this.changes) {
      const kept = entry.times.filter((time) => time > limit);
      if (kept.length === 0) this.changes.delete(key);
      else if (kept.length !== entry.times.length) this.changes.set(key, { ...entry, times: kept });
    }
  }
}
