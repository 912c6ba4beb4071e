/** Node timers overflow past this (~24.8 days): longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ExpirySettings {
  /** How long before the close the client is warned (`token_expiring`), in seconds. */
  tokenExpiryWarningSeconds: number;
  /**
   * The verifier's tolerance on `exp` (JWT_CLOCK_TOLERANCE_SECONDS): it accepts a token until
   * exp + this, so the socket is closed then, not at the raw exp (which closed a token the
   * verifier had just accepted at once, and its tab reconnected in a loop).
   */
  clockToleranceSeconds: number;
}

/** When a socket whose token has `exp` (epoch seconds) is warned and closed, epoch milliseconds. */
export function expiryInstants(
  exp: number,
  { tokenExpiryWarningSeconds, clockToleranceSeconds }: ExpirySettings,
  now: number,
): { warnAt: number; closeAt: number } {
  // The verifier's rule: a token is valid until exp + the clock tolerance; so is its socket.
  const closeAt = (exp + clockToleranceSeconds) * 1000;
  // A token shorter-lived than the warning window would be warned about at once, and each
  // renewal re-armed at once too (a renewal storm): it is warned at half its remaining life.
  const remaining = Math.max(0, closeAt - now);
  const warnAt = closeAt - Math.min(tokenExpiryWarningSeconds * 1000, remaining / 2);
  return { warnAt, closeAt };
}

/**
 * A socket's token lifetime: `warn` before the token expires, `expire` when it has (by the
 * verifier's rule); arming again (a refreshed token) replaces both. Its timers keep no process alive.
 */
export class ExpiryTimer {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly settings: ExpirySettings,
    private readonly on: {
      /** The token expires at `closeAt` (epoch ms): the client may refresh it. */
      warn(closeAt: number): void;
      expire(): void;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** Arms the warning and the close for a token with `exp` (epoch seconds), in place of the current ones. */
  arm(exp: number): void {
    this.cancel();
    const { warnAt, closeAt } = expiryInstants(exp, this.settings, this.now());
    this.at(warnAt, () => this.on.warn(closeAt));
    this.at(closeAt, () => this.on.expire());
  }

  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Runs `action` at an epoch instant; Node timers overflow past ~24.8 days, so long waits re-arm. */
  private at(instant: number, action: () => void): void {
    const delay = instant - this.now();
    const timer =
      delay > MAX_TIMER_MS
        ? setTimeout(() => this.at(instant, action), MAX_TIMER_MS)
        : setTimeout(action, Math.max(0, delay));
    timer.unref();
    this.timers.push(timer);
  }
}
