import { describe, it } from 'node:test';
import { checkLives } from './check-lives.js';
import { runLifeOnEngine } from './engine-runner.js';

/**
 * Model-based test of the dossier engine: random lives (calls, zone changes, worker outages)
 * run through the real `DossierEngine` on a simulated clock must store exactly what the reference
 * model of the rules predicts, at the same instants. A failure prints its seed and path;
 * `npm run test:deep` runs 100,000 lives (MODEL_RUNS).
 */
describe('dossier engine against the reference model', () => {
  it('stores exactly what the model predicts for random lives', async () => {
    // A fixed seed in the suite (repeatable CI); the deep run (MODEL_RUNS) draws a new one each time.
    await checkLives(runLifeOnEngine, {
      numRuns: 3000,
      ...(process.env.MODEL_RUNS === undefined && { seed: 20261201 }),
    });
  });
});
