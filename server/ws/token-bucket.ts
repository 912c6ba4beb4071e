/**
 * A token bucket: up to `capacity` tokens, refilled continuously at `perSecond`; each accepted
 * event takes one. A client may burst up to `capacity` at once, and sustain `perSecond`; what it
 * did a minute ago no longer counts once the bucket has refilled.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  private readonly now: () => number;

  constructor(
    private readonly options: {
      perSecond: number;
      capacity: number;
      /** Milliseconds; `Date.now` unless a test drives the clock. */
      now?: () => number;
    },
  ) {
    this.now = options.now ?? Date.now;
    this.tokens = options.capacity;
    this.refilledAt = this.now();
  }

  /** Takes a token: true when there was one. */
  take(): boolean {
    const now = this.now();
    // A clock that went back refills nothing (and keeps the bucket from going negative).
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.options.capacity, this.tokens + (elapsed / 1000) * this.options.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type RateDecision = 'accept' | 'refuse' | 'close';

/**
 * A socket's message rate limit: messages take from a bucket of `burst` refilled at `perSecond`;
 * one over the limit is refused (the client gets an error and may retry it). Refusals take from a
 * second bucket, of FLOOD_TOLERANCE refilled at FLOOD_FORGIVENESS_PER_SECOND: only a client that
 * keeps being refused faster than that (a flood, not an occasional burst) is closed.
 */
export class MessageRateLimit {
  private readonly messages: TokenBucket;
  private readonly refusals: TokenBucket;

  constructor(options: { perSecond: number; burst: number; now?: () => number }) {
    this.messages = new TokenBucket({
      perSecond: options.perSecond,
      capacity: options.burst,
      now: options.now,
    });
    this.refusals = new TokenBucket({
      perSecond: FLOOD_FORGIVENESS_PER_SECOND,
      capacity: FLOOD_TOLERANCE,
      now: options.now,
    });
  }

  decide(): RateDecision {
    if (this.messages.take()) return 'accept';
    return this.refusals.take() ? 'refuse' : 'close';
  }
}

/** Refused messages tolerated in a row before the socket is closed with 4429. */
export const FLOOD_TOLERANCE = 20;
/**
 * How fast refusals are forgotten: 2 a second, so that a client over the limit by a few messages
 * per burst is never closed, while one flooding at twice the rate (10 refusals a second at the
 * default rate) is closed within seconds. A constant: no setting asked for it yet.
 */
export const FLOOD_FORGIVENESS_PER_SECOND = 2;
