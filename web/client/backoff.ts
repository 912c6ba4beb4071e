/** Delays from `initialMs` doubling up to `maxMs`. */
export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

/**
 * Jittered exponential backoff: each delay is drawn in [ceiling/2, ceiling], the ceiling doubling
 * from `initialMs` with each attempt up to `maxMs`, so that many tabs cut together do not come
 * back together.
 */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly settings: BackoffSettings,
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts since the last reset (0: none failed since the last success). */
  get attempt(): number {
    return this.attempts;
  }

  /** The delay before the next attempt; the one after it may be twice as long. */
  next(): number {
    const ceiling = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** this.attempts);
    this.attempts += 1;
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /** A success: the next delay is the shortest again. */
  reset(): void {
    this.attempts = 0;
  }
}
