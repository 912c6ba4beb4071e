/**
 * The `p`-th percentile (0–100, nearest rank) of `values`; NaN when there are none. The one copy
 * for the benchmarks' reports and the fault rig, so that their p50/p99 agree.
 */
export const percentile = (values: ArrayLike<number>, p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
};
