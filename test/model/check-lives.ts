import fc from 'fast-check';
import type { Delivery, LifeRunner } from './life.js';
import { lifeArbitrary } from './life-generator.js';
import { expectedDeliveries } from './reference-model.js';

/**
 * The model-based property: on random lives, an implementation stores exactly the notifications
 * the reference model predicts (same recipients, types, kinds and instants, none twice).
 * `MODEL_SEED` and `MODEL_PATH` (printed on failure) replay a failing life; `MODEL_RUNS` overrides
 * the number of lives.
 */

export interface CheckLivesOptions {
  numRuns: number;
  seed?: number;
  path?: string;
  /** Where the replay instructions go on failure (default: console.error). */
  log?: (message: string) => void;
}

export const deliveryLines = (deliveries: Delivery[]): string[] =>
  deliveries.map((d) => `${new Date(d.at).toISOString()} ${d.userId} ${d.type}/${d.kind}`).sort();

/** Lines of `a` missing from `b`, counting repeats. */
function missing(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((line) => {
    const i = left.indexOf(line);
    if (i >= 0) left.splice(i, 1);
    return i < 0;
  });
}

export async function checkLives(runner: LifeRunner, options: CheckLivesOptions): Promise<void> {
  const env = process.env;
  const seed = env.MODEL_SEED
    ? Number(env.MODEL_SEED)
    : (options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const path = env.MODEL_PATH || options.path;
  const numRuns = env.MODEL_RUNS ? Number(env.MODEL_RUNS) : options.numRuns;
  let run = 0;

  const property = fc.asyncProperty(lifeArbitrary(), async (generated) => {
    const life = { ...generated, label: `seed ${seed}, life ${run++}` };
    const expected = deliveryLines(expectedDeliveries(life));
    const actual = deliveryLines(await runner(life));
    if (expected.join('\n') === actual.join('\n')) return;
    throw new Error(
      [
        `deliveries differ from the model's (${life.label})`,
        'expected (model):',
        ...expected.map((l) => `  ${l}`),
        'actual:',
        ...actual.map((l) => `  ${l}`),
        'diff:',
        ...missing(expected, actual).map((l) => `  - ${l}`),
        ...missing(actual, expected).map((l) => `  + ${l}`),
        `life: ${JSON.stringify(life)}`,
      ].join('\n'),
    );
  });

  const details = await fc.check(property, { numRuns, seed, ...(path ? { path } : {}) });
  if (!details.failed) return;
  const replay = [
    `model-based test failed: seed ${details.seed}, path ${details.counterexamplePath}`,
    `replay: MODEL_SEED=${details.seed} MODEL_PATH=${details.counterexamplePath} node --import tsx --test <this test file>`,
    `(or checkLives(runner, { seed: ${details.seed}, path: '${details.counterexamplePath}', numRuns: 1 }))`,
  ].join('\n');
  (options.log ?? console.error)(replay);
  const cause =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(`${replay}\n\n${cause}\n\n${fc.defaultReportMessage(details)}`);
}
