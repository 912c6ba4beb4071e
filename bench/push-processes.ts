import pg from 'pg';
import { cleanUpOnce } from './common.js';
import { IpcChild } from './child.js';
import { recordDatabase, recordProcess } from './leftovers.js';
import {
  OURS_DATABASE_PREFIX,
  pushAdminUrl,
  type ClientCommand,
  type ClientEvent,
  type ServerCommand,
  type ServerEvent,
  type ServerStats,
} from './shared.js';

/**
 * The child processes of `npm run bench` (one server under test at a time, its load generators)
 * and what is left of them to clean up: every child, and the databases of our server's children,
 * are gone when the bench ends, whichever way it ends; after a SIGKILL, the next bench's sweep
 * sees to them (each is in the leftovers registry, bench/leftovers.ts, while it is there).
 */

export type ServerChild = IpcChild<ServerCommand, ServerEvent>;
export type ClientChild = IpcChild<ClientCommand, ClientEvent>;

export const log = (text: string): void => console.log(`[bench] ${text}`);

const children = new Set<IpcChild<unknown, { ev: string }>>();
/** Pids of our server children: their databases are named `normx_notify_bench_<pid>_…`. */
const oursPids: number[] = [];
/** Removes the registry's record of those databases once they are dropped. */
const forgetDatabases: Array<() => void> = [];

/** A child process of this run, killed by the clean-up if still there. */
export function startChild<Command, Event extends { ev: string }>(
  name: string,
  entry: string,
): IpcChild<Command, Event> {
  const child: IpcChild<Command, Event> = new IpcChild(name, entry, {
    onError: (error) => console.error(`[bench] ${name}:`, error),
    onExit: () => {
      children.delete(child as IpcChild<unknown, { ev: string }>);
      forget();
    },
  });
  // It leaves when the bench does (its IPC channel closes); recorded should it not.
  const forget = recordProcess(child.pid, `node --import tsx ${entry}`);
  children.add(child as IpcChild<unknown, { ev: string }>);
  return child;
}

/** Our server's child `pid` creates a database that the clean-up drops if the child could not. */
export const ownDatabaseOf = (pid: number): void => {
  oursPids.push(pid);
  const prefix = `${OURS_DATABASE_PREFIX}_${pid}_`;
  forgetDatabases.push(
    recordDatabase(prefix, { match: 'prefix', adminUrlVariable: 'TEST_DATABASE_ADMIN_URL' }),
  );
};

export async function dropLeftoverDatabases(): Promise<void> {
  if (oursPids.length === 0) return;
  const admin = new pg.Client({ connectionString: pushAdminUrl });
  await admin.connect();
  try {
    for (const pid of oursPids) {
      const { rows } = await admin.query<{ datname: string }>(
        // starts_with, not LIKE: `_` is LIKE's any-character, so pid 123's pattern would match
        // another bench's normx_notify_bench_1234_… and force-drop it.
        'select datname from pg_database where starts_with(datname, $1)',
        [`${OURS_DATABASE_PREFIX}_${pid}_`],
      );
      for (const { datname } of rows) {
        await admin.query(`drop database if exists "${datname}" with (force)`);
        console.log(`Dropped leftover database ${datname}`);
      }
    }
    for (const forget of forgetDatabases.splice(0)) forget();
  } finally {
    await admin.end();
  }
}

export const cleanUp = cleanUpOnce(
  async () => {
    await Promise.all([...children].map((child) => child.kill()));
    await dropLeftoverDatabases().catch((error: Error) =>
      console.error('Could not drop leftover databases:', error),
    );
  },
  (signal) => console.error(`\n${signal}: stopping every child process…`),
);

export async function stats(server: ServerChild): Promise<ServerStats> {
  server.send({ cmd: 'stats' });
  return server.next('stats', 10_000);
}
