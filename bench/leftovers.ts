import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { poll } from '../support/wait.js';
import { withStack } from './common.js';
import { benchAdminUrl } from './env.js';

/**
 * What a bench starts (processes, databases, temp dirs) is recorded while it exists in
 * `${tmpdir()}/normx-bench-pids/<bench pid>-<its start time>.json` (BENCH_LEFTOVERS_DIR: the tests' own), the file
 * removed once all is gone: a bench killed by SIGKILL, or crashing past its clean-up, leaves it,
 * and the next bench's `sweepLeftovers()` stops what is still running, drops the databases and
 * removes the dirs. Every process is recorded with its start time (/proc/<pid>/stat field 22): a
 * pid the system has given to another process since is never signalled.
 */

export interface RecordedProcess {
  pid: number;
  startTime: number;
  command: string;
  /** Leads its own process group (spawned detached): the signals go to the group. */
  group?: boolean;
}
export interface RecordedDatabase {
  /** `prefix`: every database whose name starts with `name` (a child names its own). */
  name: string;
  match: 'exact' | 'prefix';
  /** The variable holding the admin URL: a URL and its password are not written to /tmp. */
  adminUrlVariable: string;
}
export interface RunRecord {
  bench: RecordedProcess;
  processes: RecordedProcess[];
  databases: RecordedDatabase[];
  dirs: string[];
}
type StartTimes = (pid: number) => number | undefined;

/** The state and start time (clock ticks after boot) in a /proc/<pid>/stat line; comm may hold `) `. */
export function statFields(stat: string): { state: string; startTime: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTime: Number(fields[22 - 3]) };
}

/** The start time of live process `pid`; undefined when it is gone or a zombie (dead, not reaped). */
export function startTimeOf(pid: number): number | undefined {
  try {
    const { state, startTime } = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return state === 'Z' || state === 'X' ? undefined : startTime;
  } catch {
    return undefined;
  }
}

/** Still the process that was recorded: alive, with the same start time. */
export const isSame = (recorded: RecordedProcess, startTimes: StartTimes): boolean =>
  startTimes(recorded.pid) === recorded.startTime;
/** The record of a bench that is gone (or whose pid another process has now). */
export const isStale = (run: RunRecord, startTimes: StartTimes): boolean => !isSame(run.bench, startTimes);
/** The processes of a record still running. */
export const survivors = (run: RunRecord, startTimes: StartTimes): RecordedProcess[] =>
  run.processes.filter((recorded) => isSame(recorded, startTimes));

/** Only what a bench names so is ever dropped or removed, whatever a registry file says. */
const benchDatabase = (name: string) => /^normx_(notify_)?bench_\w/.test(name);
const benchDir = (path: string) => dirname(path) === tmpdir() && basename(path).startsWith('normx-bench-');

const registryDir = () => process.env.BENCH_LEFTOVERS_DIR || join(tmpdir(), 'normx-bench-pids');
let own: RunRecord | undefined;
let unwritable = false;

function save(run: RunRecord): void {
  // The start time too: a later bench given the same pid does not write over this record.
  const file = join(registryDir(), `${run.bench.pid}-${run.bench.startTime}.json`);
  try {
    if (run.processes.length + run.databases.length + run.dirs.length === 0)
      return rmSync(file, { force: true });
    // Our own dir (0700): in a shared /tmp, nobody else's file can make the sweep signal or drop.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, JSON.stringify(run));
    renameSync(`${file}.tmp`, file);
  } catch (error) {
    // A safety net: the bench runs on without it, and says so once.
    if (!unwritable) process.stderr.write(`[bench] leftovers registry not written: ${withStack(error)}\n`);
    unwritable = true;
  }
}

/** Adds `item` to this bench's record; returns what removes it (once it is gone). */
function record<T>(list: (run: RunRecord) => T[], item: T): () => void {
  const run = (own ??= {
    bench: { pid: process.pid, startTime: startTimeOf(process.pid) ?? -1, command: process.argv.join(' ') },
    processes: [],
    databases: [],
    dirs: [],
  });
  list(run).push(item);
  save(run);
  return () => {
    const at = list(run).indexOf(item);
    if (at >= 0) list(run).splice(at, 1);
    if (at >= 0) save(run);
  };
}

export function recordProcess(pid: number | undefined, command: string, { group = false } = {}): () => void {
  const startTime = pid === undefined ? undefined : startTimeOf(pid);
  if (pid === undefined || startTime === undefined) return () => undefined;
  return record((run) => run.processes, { pid, startTime, command, ...(group && { group }) });
}
export const recordDatabase = (
  name: string,
  { match = 'exact', adminUrlVariable = 'BENCH_DATABASE_ADMIN_URL' }: Partial<RecordedDatabase> = {},
): (() => void) => record((run) => run.databases, { name, match, adminUrlVariable });
export const recordDir = (path: string): (() => void) => record((run) => run.dirs, path);

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
/**
 * `command args` run under util-linux's `setpriv --pdeathsig TERM` when there is one (it sets
 * the signal, then execs: same pid): the kernel sends SIGTERM when the bench dies, even by SIGKILL.
 */
export const dieWithParent = (command: string, args: string[]): [string, string[]] =>
  setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];

const send = (child: RecordedProcess, name: NodeJS.Signals): void => {
  try {
    process.kill(child.group ? -child.pid : child.pid, name);
  } catch {
    // gone meanwhile
  }
};

/** What a sweep did with a record's databases: dropped, or left because someone uses them. */
async function dropDatabases(database: RecordedDatabase): Promise<{ dropped: string[]; inUse: string[] }> {
  const admin = new pg.Client({ connectionString: benchAdminUrl(database.adminUrlVariable) });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname = $1 or ($2 and left(datname, length($1)) = $1)`,
      [database.name, database.match === 'prefix'],
    );
    const names = rows.map((row) => row.datname).filter(benchDatabase);
    const dropped: string[] = [];
    const inUse: string[] = [];
    for (const name of names) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      if (database.match === 'exact') {
        // Its name holds the dead bench's pid and a random part: no live bench has it.
        await admin.query(`drop database if exists ${quoted} with (force)`);
        dropped.push(name);
        continue;
      }
      // A prefix names a child by its pid only, which the system may have given to a live
      // bench's process since: never forced, a database someone is connected to is left.
      try {
        await admin.query(`drop database if exists ${quoted}`);
        dropped.push(name);
      } catch (error) {
        if ((error as { code?: string }).code !== '55006') throw error;
        inUse.push(name);
      }
    }
    return { dropped, inUse };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Stops, drops and removes what `run` left; false when a database could not be dropped (kept for the next sweep). */
async function sweepRun(run: RunRecord, graceMs: number, log: (message: string) => void): Promise<boolean> {
  const of = `left by bench ${run.bench.pid} (${run.bench.command})`;
  const running = survivors(run, startTimeOf);
  for (const child of running) send(child, 'SIGTERM');
  const gone = () => !running.some((child) => isSame(child, startTimeOf));
  await poll(gone, {
    deadline: Date.now() + graceMs,
    intervalMs: 100,
    probeErrors: 'throw',
    onTimeout: () => true,
  });
  for (const child of running.filter((left) => isSame(left, startTimeOf))) send(child, 'SIGKILL');
  for (const child of running)
    log(`stopped pid ${child.pid}${child.group ? ' and its group' : ''} (${child.command}) ${of}`);
  let dropped = true;
  for (const database of run.databases.filter((database) => benchDatabase(database.name))) {
    try {
      const { dropped: names, inUse } = await dropDatabases(database);
      for (const name of names) log(`dropped database ${name} ${of}`);
      // Kept for the next sweep: its user may be the dead bench's child still closing, or a live
      // bench given the same pid (then it is never dropped while that bench uses it).
      for (const name of inUse) log(`left database ${name} ${of}: in use`);
      if (inUse.length > 0) dropped = false;
    } catch (error) {
      dropped = false;
      log(`could not drop database ${database.name} ${of}: ${withStack(error)}`);
    }
  }
  for (const dir of run.dirs.filter((dir) => benchDir(dir) && existsSync(dir))) {
    await rm(dir, { recursive: true, force: true });
    log(`removed ${dir} ${of}`);
  }
  return dropped;
}

/**
 * Sweeps what benches that are gone left (called first by each bench entry): their processes
 * still running get SIGTERM, then SIGKILL after `graceMs`; their databases are dropped, their
 * temp dirs removed, their record deleted.
 */
export async function sweepLeftovers({
  graceMs = 5_000,
  log = (message: string) => void process.stderr.write(`[bench] leftovers: ${message}\n`),
}: { graceMs?: number; log?: (message: string) => void } = {}): Promise<void> {
  const dir = registryDir();
  const uid = process.getuid?.();
  let files: string[];
  try {
    // Only our own dir and files: in a shared /tmp, nobody else's can make us signal or drop.
    files = statSync(dir).uid === uid ? readdirSync(dir).filter((name) => /^\d+-\d+\.json$/.test(name)) : [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log(`${dir}: ${withStack(error)}`);
    return;
  }
  for (const file of files) {
    const path = join(dir, file);
    try {
      if (statSync(path).uid !== uid) continue;
      const run = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
      if (isStale(run, startTimeOf) && (await sweepRun(run, graceMs, log))) rmSync(path, { force: true });
    } catch (error) {
      log(`${path}: ${withStack(error)}`);
    }
  }
}
