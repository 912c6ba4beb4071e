import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../../worker/create-worker.js';
import { readHistoryFile } from '../support/history-files.js';

/**
 * Replays workflow histories recorded into the repository (by the time-skipping tests with
 * RECORD_HISTORIES=1) against today's workflow code: a change that breaks determinism for
 * dossiers already running in production fails here. Re-record only for a deliberate,
 * versioned change (`patched()`), never to make this pass.
 */
const historiesDir = new URL('../histories/', import.meta.url);

describe('replay of recorded histories', async () => {
  const files = (await readdir(historiesDir)).filter((file) => file.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 5, `found ${files.length} histories in test/histories`);
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = await readHistoryFile(new URL(file, historiesDir));
      await Worker.runReplayHistory({ workflowsPath }, history, `replay-${file}`);
    });
  }
});
