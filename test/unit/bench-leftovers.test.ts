import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import pg from 'pg';
import { benchAdminUrl } from '../../bench/env.js';
import {
  isStale,
  startTimeOf,
  statFields,
  survivors,
  sweepLeftovers,
  type RecordedProcess,
  type RunRecord,
} from '../../bench/leftovers.js';
import { waitFor } from '../support/wait.js';

/** A /proc/<pid>/stat line: field n holds n, but the state (3) and the start time (22). */
const statLine = (comm: string, startTime: number) =>
  `4242 (${comm}) ` +
  Array.from({ length: 50 }, (_, index) => index + 3)
    .map((field) => (field === 3 ? 'S' : field === 22 ? startTime : field))
    .join(' ');

test('the start time is field 22 of /proc/<pid>/stat, whatever the command name holds', () => {
  assert.deepEqual(statFields(statLine('node', 987_654)), { state: 'S', startTime: 987_654 });
  assert.deepEqual(statFields(statLine('a) b (c) 5', 12)), { state: 'S', startTime: 12 });
  assert.equal(startTimeOf(process.pid), statFields(readFileSync('/proc/self/stat', 'utf8')).startTime);
  assert.equal(startTimeOf(2 ** 22 + 1), undefined, 'above pid_max: no such process');
});

const at = (pid: number, startTime: number, command = 'x'): RecordedProcess => ({ pid, startTime, command });
const runOf = (bench: RecordedProcess, processes: RecordedProcess[]): RunRecord => ({
  bench,
  processes,
  databases: [],
  dirs: [],
});

test("a record is stale once its bench is gone or its pid is another process's", () => {
  const live = new Map([
    [100, 5000],
    [101, 5001],
    [102, 7000],
  ]);
  const startTimes = (pid: number) => live.get(pid);
  assert.equal(isStale(runOf(at(100, 5000), []), startTimes), false, 'the bench runs');
  assert.equal(isStale(runOf(at(100, 4000), []), startTimes), true, 'its pid was recycled');
  assert.equal(isStale(runOf(at(99, 4000), []), startTimes), true, 'gone');

  const run = runOf(at(99, 4000), [at(101, 5001), at(102, 5002), at(103, 5003)]);
  assert.deepEqual(
    survivors(run, startTimes).map((process) => process.pid),
    [101],
    '102 now belongs to another process (another start time), 103 is gone: neither is signalled',
  );
});

/** Processes of group `pgid` that are alive (zombies count as gone). */
const groupMembers = (pgid: number): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
const alive = (pid: number) => startTimeOf(pid) !== undefined;

// A bench-like parent: records a plain child and a detached group (a shell and its sleep), starts
// a third child under dieWithParent, and is killed by SIGKILL; the sweep must stop the first two.
const parentScript = (leftovers: string) => `
const { spawn } = await import('node:child_process');
const { dieWithParent, recordProcess } = await import(${JSON.stringify(leftovers)});
const plain = spawn('sleep', ['600'], { stdio: 'ignore' });
recordProcess(plain.pid, 'sleep 600');
const group = spawn('sh', ['-c', 'sleep 600 & wait'], { stdio: 'ignore', detached: true });
recordProcess(group.pid, 'sh -c "sleep 600 & wait"', { group: true });
const watched = spawn(...dieWithParent('sleep', ['600']), { stdio: 'ignore' });
console.log(JSON.stringify({ plain: plain.pid, group: group.pid, watched: watched.pid }));
setInterval(() => undefined, 60_000);
`;

test('a bench killed by SIGKILL: the sweep stops what it recorded, and nothing else', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'normx-leftovers-test-'));
  const previousDir = process.env.BENCH_LEFTOVERS_DIR;
  process.env.BENCH_LEFTOVERS_DIR = dir;
  const started: ChildProcess[] = [];
  t.after(async () => {
    for (const child of started) child.kill('SIGKILL');
    if (previousDir === undefined) delete process.env.BENCH_LEFTOVERS_DIR;
    else process.env.BENCH_LEFTOVERS_DIR = previousDir;
    await rm(dir, { recursive: true, force: true });
  });

  const leftovers = new URL('../../bench/leftovers.ts', import.meta.url).href;
  const parent = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', parentScript(leftovers)],
    {
      env: { ...process.env, BENCH_LEFTOVERS_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  started.push(parent);
  const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
  const pids = JSON.parse(line) as { plain: number; group: number; watched: number };
  await waitFor('the shell to start its sleep', () => groupMembers(pids.group).length === 2, {
    timeoutMs: 5000,
  });
  const groupPids = groupMembers(pids.group);

  // A bystander: recorded by a dead bench but with another start time (its pid recycled), and by
  // a live bench (this test) with its own: the sweep must leave it alone both times.
  const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
  started.push(bystander);
  const bystanderStart = startTimeOf(bystander.pid!)!;
  await writeFile(
    join(dir, `${parent.pid}-1.json`),
    JSON.stringify(runOf(at(parent.pid!, 1), [at(bystander.pid!, bystanderStart - 1)])),
  );
  const liveFile = `${process.pid}-${startTimeOf(process.pid)}.json`;
  await writeFile(
    join(dir, liveFile),
    JSON.stringify(runOf(at(process.pid, startTimeOf(process.pid)!), [at(bystander.pid!, bystanderStart)])),
  );

  parent.kill('SIGKILL');
  await once(parent, 'exit');
  // The kernel's SIGTERM (setpriv --pdeathsig), before any sweep.
  await waitFor('the dieWithParent child to get SIGTERM', () => !alive(pids.watched), { timeoutMs: 3000 });
  assert.ok(alive(pids.plain) && groupPids.every(alive), 'the recorded children outlive their bench');

  const lines: string[] = [];
  await sweepLeftovers({ graceMs: 2000, log: (message) => lines.push(message) });

  assert.equal(alive(pids.plain), false, 'the plain child is stopped');
  assert.deepEqual(groupPids.filter(alive), [], 'the whole detached group is stopped');
  assert.ok(alive(bystander.pid!), 'a pid with another start time is never signalled');
  assert.ok(
    lines.some((message) =>
      message.startsWith(`stopped pid ${pids.plain} (sleep 600) left by bench ${parent.pid}`),
    ),
    lines.join('\n'),
  );
  assert.deepEqual(
    await readdir(dir),
    [liveFile],
    "the dead benches' records are gone, the live one's stays",
  );
});

test("a dead bench's database prefix never drops a live process's database of the same name", async (t) => {
  // The push bench records its children's databases by prefix (`normx_notify_bench_<child pid>_`):
  // the pid may belong to a live bench by the time of the sweep.
  const dir = await mkdtemp(join(tmpdir(), 'normx-leftovers-test-'));
  const previousDir = process.env.BENCH_LEFTOVERS_DIR;
  process.env.BENCH_LEFTOVERS_DIR = dir;
  const prefix = `normx_notify_bench_${900_000 + Math.floor(Math.random() * 99_999)}_`;
  const admin = new pg.Client({ connectionString: benchAdminUrl('TEST_DATABASE_ADMIN_URL') });
  await admin.connect();
  const url = new URL(benchAdminUrl('TEST_DATABASE_ADMIN_URL'));
  url.pathname = `/${prefix}live`;
  const liveClient = new pg.Client({ connectionString: url.toString() });
  t.after(async () => {
    await liveClient.end().catch(() => undefined);
    for (const suffix of ['live', 'dead'])
      await admin.query(`drop database if exists ${prefix}${suffix} with (force)`);
    await admin.end();
    if (previousDir === undefined) delete process.env.BENCH_LEFTOVERS_DIR;
    else process.env.BENCH_LEFTOVERS_DIR = previousDir;
    await rm(dir, { recursive: true, force: true });
  });
  await admin.query(`create database ${prefix}live`);
  await admin.query(`create database ${prefix}dead`);
  await liveClient.connect();
  await writeFile(
    join(dir, '1-1.json'),
    JSON.stringify({
      ...runOf(at(1, 1), []),
      databases: [{ name: prefix, match: 'prefix', adminUrlVariable: 'TEST_DATABASE_ADMIN_URL' }],
    }),
  );

  const lines: string[] = [];
  await sweepLeftovers({ graceMs: 500, log: (message) => lines.push(message) });

  const { rows } = await admin.query<{ datname: string }>(
    'select datname from pg_database where starts_with(datname, $1) order by datname',
    [prefix],
  );
  assert.deepEqual(
    rows.map((row) => row.datname),
    [`${prefix}live`],
    'the unused one dropped, the one in use kept',
  );
  assert.equal((await liveClient.query<{ one: number }>('select 1 as one')).rows[0]!.one, 1);
  assert.ok(
    lines.some((message) => message.startsWith(`dropped database ${prefix}dead`)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((message) => message.startsWith(`left database ${prefix}live`)),
    lines.join('\n'),
  );
  assert.deepEqual(await readdir(dir), ['1-1.json'], 'the record stays for the next sweep');
});
