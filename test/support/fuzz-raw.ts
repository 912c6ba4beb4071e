import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';

/**
 * What the raw fuzzers share (test/integration/fuzz-raw-http.test.ts,
 * test/integration/fuzz-raw-frames.test.ts): the seed and run counts, and their target server.
 * Seeded: FC_SEED replays or explores; FUZZ_LONG=1 (or FUZZ_RUNS) runs 20 times more cases.
 */

export const SEED = Number(process.env.FC_SEED ?? 20261202);
const SCALE = Number(process.env.FUZZ_RUNS ?? (process.env.FUZZ_LONG === '1' ? 20 : 1));
const runs = (count: number): number => Math.max(1, Math.round(count * SCALE));
export const settings = (numRuns: number) => ({ seed: SEED, numRuns: runs(numRuns), endOnFailure: true });

/** A real server (real Temporal and PostgreSQL) for the raw fuzzers. */
export function startRawFuzzTarget(): Promise<FuzzTarget> {
  return startFuzzTarget({
    // The fuzzer opens hundreds of sockets from 127.0.0.1: the per-address upgrade cap is not under test.
    env: { WS_UPGRADES_PER_SECOND_PER_ADDRESS: '0' },
  });
}
