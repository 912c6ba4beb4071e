import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The layers' import rules (eslint.config.js) on imports written for the purpose: the data flows
 * one way (docs/architecture.md), so each layer refuses what sits above it and accepts what sits
 * below. A rule that stopped matching would let a wrong import through without a word.
 */

const eslint = new ESLint();

/** The `no-restricted-imports` messages eslint gives `source` as if it were the file `path`. */
async function refusals(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const used = [x];\n`, { filePath: path });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

// [file, import, refused]
const cases: Array<[string, string, boolean]> = [
  // domain/: the pure core imports nothing of ours and no framework.
  ['domain/probe.ts', "import { x } from './deadline.js';", false],
  ['domain/probe.ts', "import { x } from '../server/errors.js';", true],
  ['domain/probe.ts', "import { x } from '../workflows/dossier-messages.js';", true],
  ['domain/probe.ts', "import { x } from '../domain/../support/wait.js';", true],
  ['domain/probe.ts', "import { readFileSync as x } from 'node:fs';", true],
  ['domain/probe.ts', "import x from 'pg';", true],
  // workflows/: domain/ and activity types only, nothing with I/O.
  ['workflows/probe.ts', "import { x } from '../domain/deadline.js';", false],
  ['workflows/probe.ts', "import type { x } from '../activities/index.js';", false],
  ['workflows/probe.ts', "import { x } from '../activities/index.js';", true],
  ['workflows/probe.ts', "import { x } from '../server/errors.js';", true],
  ['workflows/probe.ts', "import { x } from '../client/dossier-client.js';", true],
  ['workflows/probe.ts', "import x from 'pino';", true],
  ['workflows/probe.ts', "import { Context as x } from '@temporalio/activity';", true],
  ['workflows/probe.ts', "import x from 'date-holidays';", true],
  ['workflows/probe.ts', "import { randomUUID as x } from 'crypto';", true],
  // config/ and the processes' layers.
  ['config/probe.ts', "import { x } from '../workflows/reminder-plan.js';", true],
  ['activities/probe.ts', "import { x } from '../server/errors.js';", true],
  ['db/probe.ts', "import { x } from '../activities/index.js';", true],
  ['server/probe.ts', "import { x } from '../activities/index.js';", true],
  ['server/probe.ts', "import { x } from '../client/dossier-client.js';", false],
  // web/: the browser; its own client/ is fine, the Temporal client/ and the server side are not.
  ['web/page/probe.ts', "import { x } from '../client/notify-client.js';", false],
  ['web/page/probe.ts', "import { x } from '../../domain/limits.js';", false],
  ['web/page/probe.ts', "import { x } from '../../client/dossier-client.js';", true],
  ['web/client/probe.ts', "import { x } from '../../server/errors.js';", true],
  ['web/client/probe.ts', "import x from 'pg';", true],
  ['web/page/probe.ts', "import { readFileSync as x } from 'node:fs';", true],
  // ... however the path is spelled: a path with `.` or `..` after a folder name is refused.
  ['web/client/probe.ts', "import { x } from './../../client/dossier-client.js';", true],
  ['web/client/probe.ts', "import { x } from '../page/../../client/dossier-client.js';", true],
  ['web/page/probe.ts', "import { x } from '../client/../../client/dossier-client.js';", true],
  ['web/page/probe.ts', "import { x } from '../../web/client/notify-client.js';", false],
  ['web/client/probe.ts', "import { x } from './wire.js';", false],
  ['web/page/probe.ts', "import x from 'prom-client';", true],
  ['web/page/probe.ts', "import { PGlite as x } from '@electric-sql/pglite';", true],
  // protocol-check.ts may read the server's types, and nothing more than any web/ file.
  ['web/client/protocol-check.ts', "import type { x } from '../../server/errors.js';", false],
  ['web/client/protocol-check.ts', "import { x } from '../../server/errors.js';", true],
  ['web/client/protocol-check.ts', "import x from 'pg';", true],
  ['web/client/protocol-check.ts', "import { readFileSync as x } from 'node:fs';", true],
  ['web/client/protocol-check.ts', "import { x } from '../../client/dossier-client.js';", true],
  ['web/client/protocol-check.ts', "import { x } from '../../support/wait.js';", true],
  ['workflows/probe.ts', "import { TestWorkflowEnvironment as x } from '@temporalio/testing';", true],
  ['workflows/probe.ts', "import x from 'prom-client';", true],
  ['domain/probe.ts', "import x from 'pino';", true],
  ['domain/probe.ts', "import { SignJWT as x } from 'jose';", true],
  ['domain/probe.ts', "import { DateTime as x } from 'luxon';", false],
  // bench/ never imports test code.
  ['bench/probe.ts', "import { x } from '../test/support/wait.js';", true],
  ['bench/probe.ts', "import { x } from '../support/wait.js';", false],
];

describe('import boundaries (eslint.config.js)', () => {
  for (const [path, source, refused] of cases) {
    it(`${path}: ${source} ${refused ? 'refused' : 'accepted'}`, async () => {
      const messages = await refusals(path, source);
      assert.equal(messages.length > 0, refused, messages.join('; ') || 'no refusal');
    });
  }
});
