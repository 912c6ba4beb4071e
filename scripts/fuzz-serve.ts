/**
 * A fuzz target kept up for manual exploration: the server the fuzz tests attack (real Temporal dev
 * server, worker and PostgreSQL), with a user and a service token printed, until Ctrl-C. E.g.
 *   PYTHONPATH=.tools/schemathesis python3 -m schemathesis.cli run $URL/api/v1/openapi.json \
 *     -H "Authorization: Bearer $USER_TOKEN" --checks all
 * Usage: tsx scripts/fuzz-serve.ts
 */
import { startFuzzTarget } from '../test/support/fuzz-target.js';

const target = await startFuzzTarget();
const { harness } = target;
await harness.notify('fuzz-user', 'A notification to list');
const hours = { expiresInSeconds: 12 * 3600 };
console.log(`URL=${harness.url}`);
console.log(`USER_TOKEN=${await harness.token('fuzz-user', hours)}`);
console.log(`SERVICE_TOKEN=${await harness.token('normx-backend', { ...hours, service: true })}`);
const stop = (): void => {
  void target.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
