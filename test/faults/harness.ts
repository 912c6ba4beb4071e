import { readFile, stat } from 'node:fs/promises';
import { mapBounded } from '../../domain/bounded-concurrency.js';
import { middayZone, sleep, startStack, wallClock, type Stack } from '../../bench/stack.js';
import { openFaultTab, type FaultTab } from './tabs.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { percentile } from '../../support/percentile.js';
import { waitFor } from '../support/wait.js';

/**
 * The fault-injection rig (docs/faults.md): the real pieces as separate processes (bench/stack.ts:
 * the Temporal CLI dev server on an SQLite file, a database of its own on the machine's
 * PostgreSQL, two production workers, two production delivery servers, the second one reaching
 * PostgreSQL through a loopback TCP proxy that a scenario can cut), and per scenario a load:
 * dossiers whose `overdue` alert falls due a little after they are created (`dueAt`, real
 * time), over users who each have tabs of the real client library open on both servers.
 *
 * The audit compares what should exist with what does: each dossier's plan (its `created`
 * notice and its `overdue` alert; the workflow's `reminderPlan` query must agree) against the
 * rows (exactly one per key), and each user's rows against what each of the user's tabs
 * received (each once, ids increasing).
 */

export interface RigOptions {
  /** Dossiers per scenario load. */
  dossiers: number;
  /** Dossiers per user (default 4). */
  dossiersPerUser?: number;
  /** Tabs of each user on each server (default 1). */
  tabsPerServer?: number;
  log?: (message: string) => void;
}

export interface Load {
  name: string;
  prefix: string;
  dossiers: Array<{ id: string; ownerId: string; dueAt: number }>;
  users: string[];
  tabs: TimedTab[];
  /** When the first and the last `overdue` alerts fall due. */
  dueFrom: number;
  dueTo: number;
  /** Creation: calls made, `created` notices all stored; whether it ended before the first alert. */
  createdIn: number;
  storedIn: number;
  /** How long after the first alert fell due the creation ended (0: before). */
  overranMs: number;
}

export interface TimedTab extends FaultTab {
  /** Arrival time (wall clock, ms) of each delivered id. */
  readonly deliveredAt: Map<string, number>;
}

/** One row of the results table, and what the scenario measured besides. */
export interface ScenarioResult {
  scenario: string;
  fault: string;
  dossiers: number;
  expectedRows: number;
  users: number;
  tabs: number;
  /** Tabs connected to the faulted server at the fault, when that is what the fault hit. */
  tabsOnFaulted?: number;
  lostRows: number;
  duplicatedRows: number;
  unexpectedRows: number;
  /** Per tab: expected notifications never delivered, delivered twice, out of order, or not the user's. */
  lostDeliveries: number;
  duplicatedDeliveries: number;
  outOfOrder: number;
  foreignDeliveries: number;
  /** Frames the wire carried twice to a tab (the library drops the repeat). */
  duplicateFrames: number;
  /** Dossiers whose `reminderPlan` disagrees with the expected plan. */
  planMismatches: number;
  /** Fault to the last expected delivery on every tab (undefined: never, timed out). */
  recoveryMs: number | undefined;
  /** `overdue` alerts: created_at − scheduled_for, p50 and max. */
  latenessP50Ms: number;
  latenessMaxMs: number;
  /** What the scenario measured besides, e.g. 'LISTEN lost noticed after': '12.3 s'. */
  measures: Record<string, string>;
  notes: string[];
  /** Examples of what went wrong, for the failure message. */
  examples: string[];
}

/** The alerts of a load fall due over this window (25 ms per dossier, at least 2 s). */
export const defaultWindowMs = (dossiers: number): number => Math.max(2000, dossiers * 25);

/**
 * Warnings and errors a process logged from `offset` on (bytes of its log file), by message,
 * most frequent first: what it went through during a fault.
 */
export async function logSince(
  file: string,
  offset: number,
): Promise<Array<{ message: string; count: number }>> {
  let text: string;
  try {
    text = (await readFile(file)).subarray(offset).toString('utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      const message = `${entry.msg ?? '?'}${entry.err?.message ? `: ${entry.err.message}` : ''}`
        .replace(/\d{3,}/g, 'N')
        .slice(0, 160);
      counts.set(message, (counts.get(message) ?? 0) + 1);
    } catch {
      // not JSON
    }
  }
  return [...counts.entries()]
    .map(([message, count]) => ({ message, count }))
    .sort((a, b) => b.count - a.count);
}

/** The size of a file now (0 when absent): where logSince starts. */
export async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

export const progress = (message: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)} faults] ${message}\n`);
};

export const seconds = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`;

/** `waitFor` (test/support/wait.ts), polling every 100 ms unless told: the rig's probes ask processes. */
export const waitUntil = <T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> => waitFor(what, probe, { timeoutMs, intervalMs });

export class FaultRig {
  /**
   * Dossiers created and stored per second: the slowest any load measured (a prior before the
   * first), so that a load's creation ends before its first alert even on a busier machine.
   */
  private createRate = 15;
  private readonly tokens = new Map<string, Promise<string>>();
  private loads = 0;
  readonly log: (message: string) => void;
  readonly dossiersPerUser: number;
  readonly tabsPerServer: number;
  readonly wsUrls: string[];

  private constructor(
    readonly stack: Stack,
    /** Between delivery server 2 and PostgreSQL. */
    readonly proxy: TcpProxy,
    readonly options: RigOptions,
  ) {
    this.log = options.log ?? progress;
    this.dossiersPerUser = options.dossiersPerUser ?? 4;
    this.tabsPerServer = options.tabsPerServer ?? 1;
    this.wsUrls = stack.servers.map((server) => server.url.replace(/^http/, 'ws'));
  }

  static async start(options: RigOptions): Promise<FaultRig> {
    const log = options.log ?? progress;
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    try {
      const stack = await startStack({
        label: 'faults',
        workers: 2,
        servers: 2,
        // Owners in a zone where it is about 13:00: no 08:00 reminder nor 18:00 report in the run.
        workerEnv: { DEFAULT_TIMEZONE: middayZone() },
        serverDatabaseUrl: (url, index) => {
          if (index !== 1) return url;
          const viaProxy = new URL(url);
          viaProxy.port = String(proxy.port);
          return viaProxy.toString();
        },
      });
      log(
        `stack up: dev server ${stack.devServer.pid}, workers ${stack.workers.map((w) => w.pid).join(' ')}, ` +
          `servers ${stack.servers.map((s) => s.pid).join(' ')} (server 2 through the proxy on :${proxy.port})`,
      );
      return new FaultRig(stack, proxy, options);
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.stack.stop();
    await this.proxy.close();
  }

  token(userId: string): Promise<string> {
    let token = this.tokens.get(userId);
    if (!token) {
      token = this.stack.userToken(userId);
      this.tokens.set(userId, token);
    }
    return token;
  }

  /** Every process running (none paused nor down), each server's LISTEN up. */
  async assertHealthy(): Promise<void> {
    this.stack.assertAlive();
    for (const child of [this.stack.devServer, ...this.stack.workers, ...this.stack.servers]) {
      if (child.state !== 'running') throw new Error(`The ${child.name} is ${child.state}`);
    }
    for (const server of this.stack.servers) {
      await waitUntil(
        `${server.name}'s LISTEN connection`,
        async () => (await this.listenConnected(server.healthUrl)) === true,
        {
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      );
    }
  }

  /** The server's `normx_notify_listen_connected` gauge (its /metrics reads no database). */
  async listenConnected(serverUrl: string): Promise<boolean | undefined> {
    try {
      const text = await (await fetch(`${serverUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
      const value = /^normx_notify_listen_connected (\S+)/m.exec(text)?.[1];
      return value === undefined ? undefined : value === '1';
    } catch {
      return undefined;
    }
  }

  /** Sums of a counter over the label sets, per worker (from each worker's /metrics). */
  async workerCounter(name: string): Promise<number> {
    let total = 0;
    for (const worker of this.stack.workers) {
      try {
        const text = await (
          await fetch(`${worker.healthUrl}/metrics`, { signal: AbortSignal.timeout(3000) })
        ).text();
        for (const line of text.split('\n')) {
          const match = /^(\S+?)(\{.*\})?\s+(\S+)/.exec(line);
          if (match && match[1] === name) total += Number(match[3]);
        }
      } catch {
        // a worker down or paused: not counted
      }
    }
    return total;
  }

  /**
   * A scenario's load: its users' tabs open on both servers (cursor `0`, as the bell of a user
   * with no notification yet), then its dossiers created through the client API with their
   * `overdue` alerts due over a short window starting a little after the creation should end.
   */
  async prepareLoad(
    name: string,
    { dossierCount = this.options.dossiers, windowMs }: { dossierCount?: number; windowMs?: number } = {},
  ): Promise<Load> {
    await this.assertHealthy();
    this.loads += 1;
    const prefix = name.replace(/[^a-z0-9]/gi, '').slice(0, 12) || `load${this.loads}`;
    const userCount = Math.max(2, Math.ceil(dossierCount / this.dossiersPerUser));
    const users = Array.from({ length: userCount }, (_, i) => `${prefix}-u${String(i).padStart(4, '0')}`);

    // 1. The tabs: each user has `tabsPerServer` on each server, half pinned, half failing over.
    const tabs: TimedTab[] = [];
    for (const [userIndex, userId] of users.entries()) {
      for (let server = 0; server < this.wsUrls.length; server += 1) {
        for (let index = 0; index < this.tabsPerServer; index += 1) {
          const tab = openFaultTab({
            userId,
            servers: this.wsUrls,
            home: server,
            policy: (userIndex + index) % 2 === 0 ? 'pinned' : 'failover',
            getToken: () => this.token(userId),
            lastId: '0',
          });
          const deliveredAt = new Map<string, number>();
          tab.client.notifications$.subscribe((notification) =>
            deliveredAt.set(notification.id, wallClock()),
          );
          tabs.push(Object.assign(tab, { deliveredAt }));
        }
      }
    }
    await waitUntil(`${tabs.length} tabs open`, () => tabs.every((tab) => tab.connected), {
      timeoutMs: 60_000 + tabs.length * 20,
      intervalMs: 100,
    });

    // 2. The dossiers, due from T on, T after the expected end of the creation.
    const client = await this.stack.dossierClient();
    const window = windowMs ?? defaultWindowMs(dossierCount);
    const T = wallClock() + (dossierCount / this.createRate) * 1000 * 1.2 + 3000;
    const dossiers = Array.from({ length: dossierCount }, (_, i) => ({
      id: `${prefix}-d${String(i).padStart(5, '0')}`,
      ownerId: users[i % userCount]!,
      dueAt: Math.round(T + (i / dossierCount) * window),
    }));
    const started = wallClock();
    await mapBounded(dossiers, 32, async (dossier, i) => {
      await client.create({
        id: dossier.id,
        title: `Fault ${name} ${i}`,
        ownerId: dossier.ownerId,
        dueAt: new Date(dossier.dueAt).toISOString(),
      });
    });
    const createdIn = wallClock() - started;
    await waitUntil(
      `the ${dossierCount} created notices of ${name}`,
      async () => (await this.count(prefix, 'created')) >= dossierCount,
      { timeoutMs: 120_000 + dossierCount * 300, intervalMs: 250 },
    );
    const storedIn = wallClock() - started;
    this.createRate = Math.min(this.createRate, (dossierCount / storedIn) * 1000);
    const overranMs = Math.max(0, wallClock() - T);
    const overran = overranMs > 0;
    this.log(
      `${name}: ${tabs.length} tabs of ${userCount} users open; ${dossierCount} dossiers created in ${seconds(createdIn)}, ` +
        `notices stored after ${seconds(storedIn)}; first alert due ${overran ? `${seconds(wallClock() - T)} ago (creation overran)` : `in ${seconds(T - wallClock())}`}`,
    );
    return {
      name,
      prefix,
      dossiers,
      users,
      tabs,
      dueFrom: T,
      dueTo: T + window,
      createdIn,
      storedIn,
      overranMs,
    };
  }

  async count(prefix: string, kind: string): Promise<number> {
    const rows = await this.stack.query<{ n: string }>(
      'select count(*) as n from notifications where kind = $1 and dossier_id like $2',
      [kind, `${prefix}-%`],
    );
    return Number(rows[0]!.n);
  }

  /** Waits until `fraction` of the load's `overdue` alerts are stored: the moment to strike. */
  async whileFiring(load: Load, fraction = 0.25): Promise<number> {
    const target = Math.max(1, Math.ceil(load.dossiers.length * fraction));
    const stored = await waitUntil(
      `${target} ${load.name} alerts stored`,
      async () => {
        const n = await this.count(load.prefix, 'overdue');
        return n >= target && n;
      },
      { timeoutMs: load.dueTo - wallClock() + 120_000, intervalMs: 50 },
    );
    this.log(`${load.name}: ${stored} of ${load.dossiers.length} alerts stored`);
    return stored;
  }

  /** The load's rows, and whether every expected row is there and every tab has its user's. */
  private async snapshot(load: Load) {
    const rows = await this.stack.query<{ id: string; user_id: string; dossier_id: string; kind: string }>(
      'select id::text as id, user_id, dossier_id, kind from notifications where dossier_id like $1 order by id',
      [`${load.prefix}-%`],
    );
    const keys = new Set(rows.map((row) => `${row.dossier_id}/${row.kind}`));
    const expectedKeys = load.dossiers.length * 2;
    let rowsComplete = true;
    for (const dossier of load.dossiers) {
      if (!keys.has(`${dossier.id}/created`) || !keys.has(`${dossier.id}/overdue`)) {
        rowsComplete = false;
        break;
      }
    }
    const byUser = new Map<string, string[]>();
    for (const row of rows) {
      const list = byUser.get(row.user_id);
      if (list) list.push(row.id);
      else byUser.set(row.user_id, [row.id]);
    }
    const tabsComplete =
      rowsComplete &&
      load.tabs.every((tab) => (byUser.get(tab.userId) ?? []).every((id) => tab.deliveredAt.has(id)));
    return { rows, byUser, expectedKeys, complete: rowsComplete && tabsComplete };
  }

  /**
   * Waits for full recovery: every expected row stored and delivered to every tab of its user.
   * Returns the wall-clock instant of the last expected delivery, or undefined at the timeout.
   */
  async recovered(load: Load, timeoutMs: number): Promise<number | undefined> {
    const deadline = wallClock() + timeoutMs;
    let lastLog = wallClock();
    for (;;) {
      const snapshot = await this.snapshot(load);
      if (snapshot.complete) {
        let last = 0;
        for (const tab of load.tabs)
          for (const id of snapshot.byUser.get(tab.userId) ?? [])
            last = Math.max(last, tab.deliveredAt.get(id)!);
        return last;
      }
      if (wallClock() > deadline) return undefined;
      if (wallClock() - lastLog > 10_000) {
        lastLog = wallClock();
        const missingTabs = load.tabs.filter(
          (tab) => !(snapshot.byUser.get(tab.userId) ?? []).every((id) => tab.deliveredAt.has(id)),
        ).length;
        this.log(
          `${load.name}: ${snapshot.rows.length} of ${snapshot.expectedKeys} rows, ${missingTabs} tabs missing some`,
        );
      }
      await sleep(200);
    }
  }

  /**
   * The audit. First the workflows must be done with the alerts (each dossier's plan says
   * `overdue` sent, `overdue_critical` pending: no activity of theirs can store anything more),
   * then frames still in flight get `settleMs`; then rows and tabs against the expected set.
   */
  async audit(
    load: Load,
    fault: { scenario: string; fault: string; at: number; recoveredAt: number | undefined },
    settleMs = 1000,
  ): Promise<ScenarioResult> {
    const client = await this.stack.dossierClient();
    let planMismatches = 0;
    const examples: string[] = [];
    await mapBounded(load.dossiers, 8, async (dossier) => {
      let detail: string | undefined;
      try {
        // The last activity of a run that was interrupted may still be retrying: wait for it.
        await waitUntil(
          `the plan of ${dossier.id}`,
          async () => {
            const plan = await client.plan(dossier.id);
            const sent = plan.sent.map((s) => s.kind).join(',');
            const pending = plan.pending.map((p) => p.kind).join(',');
            detail = `sent [${sent}], pending [${pending}]`;
            return sent === 'overdue' && pending === 'overdue_critical';
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
      } catch {
        planMismatches += 1;
        if (examples.length < 5) examples.push(`plan of ${dossier.id}: ${detail ?? 'unreadable'}`);
      }
    });
    await sleep(settleMs);

    const { rows, byUser } = await this.snapshot(load);
    const perKey = new Map<string, number>();
    for (const row of rows)
      perKey.set(`${row.dossier_id}/${row.kind}`, (perKey.get(`${row.dossier_id}/${row.kind}`) ?? 0) + 1);
    let lostRows = 0;
    let duplicatedRows = 0;
    const expected = new Set<string>();
    for (const dossier of load.dossiers) {
      for (const kind of ['created', 'overdue']) {
        const key = `${dossier.id}/${kind}`;
        expected.add(key);
        const n = perKey.get(key) ?? 0;
        if (n === 0) {
          lostRows += 1;
          if (examples.length < 10) examples.push(`no row for ${key}`);
        }
        if (n > 1) {
          duplicatedRows += n - 1;
          if (examples.length < 10) examples.push(`${n} rows for ${key}`);
        }
      }
    }
    const unexpected = [...perKey.keys()].filter((key) => !expected.has(key));
    for (const key of unexpected.slice(0, 3)) examples.push(`unexpected row ${key}`);
    const ownerOf = new Map(load.dossiers.map((d) => [d.id, d.ownerId]));
    for (const row of rows) {
      if (ownerOf.get(row.dossier_id) !== row.user_id && examples.length < 10)
        examples.push(`row ${row.id} of ${row.dossier_id} went to ${row.user_id}`);
    }

    let lostDeliveries = 0;
    let duplicatedDeliveries = 0;
    let outOfOrder = 0;
    let foreignDeliveries = 0;
    let duplicateFrames = 0;
    for (const tab of load.tabs) {
      const own = byUser.get(tab.userId) ?? [];
      const ownSet = new Set(own);
      const seen = new Map<string, number>();
      let previous = -1n;
      for (const id of tab.delivered) {
        seen.set(id, (seen.get(id) ?? 0) + 1);
        if (BigInt(id) <= previous) outOfOrder += 1;
        previous = BigInt(id);
        if (!ownSet.has(id)) foreignDeliveries += 1;
      }
      for (const id of own) {
        const n = seen.get(id) ?? 0;
        if (n === 0) {
          lostDeliveries += 1;
          if (examples.length < 10)
            examples.push(
              `tab of ${tab.userId} (home server ${tab.home + 1}, ${tab.policy}, now on ${tab.server + 1}) never got ${id}`,
            );
        }
        if (n > 1) duplicatedDeliveries += n - 1;
      }
      const frames = new Map<string, number>();
      for (const id of tab.frames) frames.set(id, (frames.get(id) ?? 0) + 1);
      for (const n of frames.values()) if (n > 1) duplicateFrames += n - 1;
    }

    const lateness = await this.stack.query<{ ms: number }>(
      `select extract(epoch from created_at - scheduled_for)::float8 * 1000 as ms
         from notifications where kind = 'overdue' and dossier_id like $1 order by 1`,
      [`${load.prefix}-%`],
    );
    const latenessMs = lateness.map((row) => row.ms);
    return {
      scenario: fault.scenario,
      fault: fault.fault,
      dossiers: load.dossiers.length,
      expectedRows: expected.size,
      users: load.users.length,
      tabs: load.tabs.length,
      lostRows,
      duplicatedRows,
      unexpectedRows: unexpected.length,
      lostDeliveries,
      duplicatedDeliveries,
      outOfOrder,
      foreignDeliveries,
      duplicateFrames,
      planMismatches,
      recoveryMs: fault.recoveredAt === undefined ? undefined : Math.max(0, fault.recoveredAt - fault.at),
      latenessP50Ms: percentile(latenessMs, 50),
      latenessMaxMs: latenessMs.at(-1) ?? NaN,
      measures: {},
      notes:
        load.overranMs > 0
          ? [`the creation ended ${seconds(load.overranMs)} after the first alert fell due`]
          : [],
      examples,
    };
  }

  closeTabs(load: Load): void {
    for (const tab of load.tabs) tab.close();
  }
}

/** Lost and duplicated in one number each, for assertions. */
export const lostOf = (r: ScenarioResult): number => r.lostRows + r.lostDeliveries;
export const duplicatedOf = (r: ScenarioResult): number =>
  r.duplicatedRows + r.duplicatedDeliveries + r.duplicateFrames;
