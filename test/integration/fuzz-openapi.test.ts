import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSchemathesis, type SchemathesisRun } from '../support/fuzz-schemathesis.js';
import { startFuzzTarget, type FuzzTarget } from '../support/fuzz-target.js';
import { httpRequest, openSocket } from '../support/notify-server.js';

/**
 * HTTP fuzzing from the OpenAPI document: Schemathesis generates requests for every
 * documented operation, valid and invalid by the document, against a real server with a real
 * Temporal and PostgreSQL, once with a user's token and once with the service token. A run fails
 * on any 5xx, any reply that does not match its documented schema, status or content type, and any
 * invalid request accepted with a 2xx; afterwards the server must still answer and deliver.
 *
 * Fast by default (CI). FUZZ_LONG=1 runs longer (FUZZ_MAX_TIME seconds per token, 300 by
 * default); FUZZ_SEED replays or explores another seed. A failure prints Schemathesis's report,
 * with a `curl` line reproducing each case.
 */

const LONG = process.env.FUZZ_LONG === '1';
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? (LONG ? 200 : 10));
const MAX_TIME_SECONDS = LONG ? Number(process.env.FUZZ_MAX_TIME ?? 300) : undefined;
/** The fast run takes 30 to 80 s per token (both at once), on a shared 2-core machine. */
const KILL_AFTER_MS = MAX_TIME_SECONDS ? (MAX_TIME_SECONDS + 180) * 1000 : 110_000;

const USER = 'fuzz-user'; // also in fuzz-schemathesis.toml's dictionaries
const DOSSIER = 'fuzz-dossier';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget();
  for (let index = 0; index < 3; index += 1) await target.harness.notify(USER, `Fuzz ${index}`);
  await target.engine.dossiers.create({
    id: DOSSIER,
    title: 'Dossier fuzzé',
    ownerId: USER,
    dueDate: '2031-06-30',
  });
});
after(async () => {
  await target?.close();
});

const report = (run: SchemathesisRun): string =>
  `schemathesis exited ${run.exitCode} after ${run.elapsedMs} ms (seed ${SEED}, FUZZ_SEED to replay):\n${run.output}`;

/**
 * The user's routes with the user's token, everything else with the service token. The wrong
 * token only gets 403s, before any validation: fuzzing with it is worth a long run only.
 */
const USER_ROUTES = '^/api/v1/users/\\{userId\\}/notifications';
const runs = [
  { who: 'user', paths: LONG ? undefined : { include: USER_ROUTES } },
  { who: 'service', paths: LONG ? undefined : { exclude: USER_ROUTES } },
] as const;
/** Operations selected and tested, per run. */
const tested = new Map<string, { selected: number; tested: number; total: number }>();

describe(
  `Schemathesis on every documented operation (seed ${SEED}, ${MAX_EXAMPLES} examples${LONG ? `, ${MAX_TIME_SECONDS} s, both tokens on every operation` : ''})`,
  // Both runs at once: they mostly wait on the server and Temporal.
  { concurrency: 2 },
  () => {
    for (const { who, paths } of runs) {
      it(`with the ${who} token: no 5xx, every reply as documented, invalid input refused`, async (t) => {
        const { harness } = target;
        const token =
          who === 'user'
            ? await harness.token(USER)
            : await harness.token('normx-backend', { service: true });
        const run = await runSchemathesis({
          schemaUrl: `${harness.url}/api/v1/openapi.json`,
          token,
          seed: SEED,
          maxExamples: MAX_EXAMPLES,
          maxTimeSeconds: MAX_TIME_SECONDS,
          killAfterMs: KILL_AFTER_MS,
          paths,
        });
        // The phases' lines (`Coverage (in 8.34s)`, cases passed) in the test's log.
        const phases = run.output.split('\n').filter((line) => /\(in [\d.]+s\)|generated,/.test(line));
        t.diagnostic(`${run.elapsedMs} ms: ${phases.map((line) => line.trim()).join('; ')}`);
        assert.equal(run.exitCode, 0, report(run));
        // Not a vacuous pass: every selected operation was tested, with many cases.
        const counts = /Selected: (\d+)\/(\d+)\s+Tested: (\d+)/.exec(run.output);
        assert.ok(counts, `the summary's operation counts:\n${report(run)}`);
        const [selected, total, testedCount] = counts.slice(1).map(Number) as [number, number, number];
        tested.set(who, { selected, total, tested: testedCount });
        assert.equal(testedCount, selected, `every selected operation tested:\n${report(run)}`);
        const generated = Number(/(\d+) generated/.exec(run.output)?.[1] ?? 0);
        assert.ok(generated >= 100, `${generated} cases generated:\n${report(run)}`);
      });
    }
  },
);

describe('after the fuzzing', () => {
  it('the two runs together tested every documented operation', () => {
    const [user, service] = [tested.get('user'), tested.get('service')];
    assert.ok(user && service, 'both runs reported their counts');
    const covered = LONG ? Math.min(user.tested, service.tested) : user.tested + service.tested;
    assert.equal(covered, service.total);
  });

  it('the server still answers /healthz and delivers to a socket', async () => {
    const { harness } = target;
    const health = await httpRequest(`${harness.internalUrl}/healthz`);
    assert.equal(health.status, 200, health.text);
    const socket = await openSocket(`${harness.wsUrl}/api/v1/ws/${await harness.token('after-fuzz')}`);
    try {
      const id = await harness.notify('after-fuzz');
      await socket.waitFor(`notification ${id}`, () => socket.ids().includes(id));
    } finally {
      socket.ws.close();
    }
  });
});
