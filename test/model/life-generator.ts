// Random dossier lives: the fast-check arbitrary the model tests draw their lives from.
import type fc from 'fast-check';
import { buildLife } from './life-build.js';
import { rawLife, type LifeOptions } from './life-choices.js';
import type { Life } from './life.js';

export { DST_CHANGES, ZONES, type LifeOptions } from './life-choices.js';

/**
 * Random dossier lives for the model-based test: fast-check draws raw choices (times as local
 * days and minutes, deadlines relative to the call, which action comes next: life-choices.ts),
 * then `buildLife` (life-build.ts) turns them into a `Life` deterministically, so fast-check
 * shrinks the choices and the life shrinks with them.
 */

/** Random lives of one dossier, steps sorted by `at`. */
export function lifeArbitrary(options: LifeOptions = {}): fc.Arbitrary<Life> {
  return rawLife(options).map(buildLife);
}
