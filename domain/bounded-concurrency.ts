/**
 * The one "run N async jobs with at most K in flight" loop, for production code (reconciliation,
 * the onboarding batch) and the benchmarks alike. Pure: promises only, no I/O, no timer.
 */

/**
 * Runs `work` on each item, at most `concurrency` at a time (at least one), each free lane taking
 * the next item in order; resolves with the results in the items' order. On a failure no new item
 * starts; the ones running finish, then the first error is thrown. A `work` that must go on after
 * a failure catches its own errors.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
  return results;
}
