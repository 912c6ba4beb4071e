/** Ids from `from` to `to`, both included. */
export interface IdRange {
  from: bigint;
  to: bigint;
}

/**
 * Which of a user's notification ids a socket was sent: the live path and the catch-up both go
 * through it, so that no id goes out twice and a catch-up skips what already went out live.
 */
export class SentIds {
  private last = 0n;
  /**
   * Until the first resume, the first id sent live (0n: none yet). The hub gives each user's ids
   * in order and without gaps, so every id of the user from there to `last` went out live:
   * that catch-up skips them, at no cost per frame and in constant memory.
   */
  private liveFrom = 0n;
  private resumed = false;

  /** The highest id sent (0n: none yet). */
  get lastSent(): bigint {
    return this.last;
  }

  /** Live path: ids only go up, so anything at or below the last sent is a duplicate. */
  acceptLive(seq: bigint): boolean {
    if (seq <= this.last) return false;
    this.last = seq;
    if (this.liveFrom === 0n && !this.resumed) this.liveFrom = seq;
    return true;
  }

  /**
   * A resume starts: what went out live before the first resume, for its catch-up to skip; a
   * later resume sends all it is asked for (undefined).
   */
  startResume(): IdRange | undefined {
    const sentLive = !this.resumed && this.liveFrom > 0n ? { from: this.liveFrom, to: this.last } : undefined;
    this.resumed = true;
    return sentLive;
  }

  /** A catch-up read up to `id`: live ids at or below it are duplicates now. */
  caughtUpTo(id: bigint): void {
    if (id > this.last) this.last = id;
  }
}
