/**
 * The one polling loop for the tests (test/support/wait.ts re-exports `waitFor`) and the
 * benchmarks: `poll`, and `waitFor`, the tests' way of using it (a probe's error counts as not
 * yet; fails with a message at the timeout).
 */

export interface PollOptions<T> {
  /** Epoch ms: the last probe is the first one after it. */
  deadline: number;
  intervalMs: number;
  /** A probe's error: 'retry' counts it as not yet (kept for `onTimeout`), 'throw' fails at once. */
  probeErrors: 'retry' | 'throw';
  /** At the deadline: throws, or returns what `poll` resolves with. `lastError`: the last retried. */
  onTimeout: (lastError: unknown) => T;
}

/**
 * Calls `probe` every `intervalMs` until it returns a value that is not undefined/false, and
 * returns that; after `deadline`, returns (or throws) what `onTimeout` does.
 */
export async function poll<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { deadline, intervalMs, probeErrors, onTimeout }: PollOptions<T>,
): Promise<T> {
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (probeErrors === 'throw') throw error;
      lastError = error;
    }
    if (Date.now() > deadline) return onTimeout(lastError);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Polls `probe` every `intervalMs` until it returns a value that is not undefined/false, and returns
 * that; a probe that throws counts as not yet. After `timeoutMs`, fails with the last error as the
 * cause.
 */
export function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<T> {
  return poll(probe, {
    deadline: Date.now() + timeoutMs,
    intervalMs,
    probeErrors: 'retry',
    onTimeout: (lastError) => {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`, { cause: lastError });
    },
  });
}
