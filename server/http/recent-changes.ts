/**
 * At most `max` changes per key in a sliding window of `windowMs`, remembered in this process
 * (a user's changes reach one server at a time in practice; several servers each allow `max`).
 * Keys whose changes have all left the window are forgotten, so memory follows recent writers only.
 */
export class RecentChanges {
  private readonly changes = new Map<string, number[]>();

  constructor(private readonly options: { max: number; windowMs: number; now?: () => number }) {}

  /** Records a change of `key`: false (nothing recorded) when it already made `max` in the window. */
  take(key: string): boolean {
    const now = (this.options.now ?? Date.now)();
    this.forgetOlderThan(now - this.options.windowMs);
    const recent = this.changes.get(key) ?? [];
    if (recent.length >= this.options.max) return false;
    this.changes.set(key, [...recent, now]);
    return true;
  }

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.changes.size;
  }

  private forgetOlderThan(limit: number): void {
    for (const [key, times] of this.changes) {
      const kept = times.filter((time) => time > limit);
      if (kept.length === 0) this.changes.delete(key);
      else if (kept.length !== times.length) this.changes.set(key, kept);
    }
  }
}
