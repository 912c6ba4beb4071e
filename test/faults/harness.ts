// The fault-injection rig: the stack of real processes, its health, and the scenarios' loads.
import { mapBounded } from '../../domain/bounded-concurrency.js';
import { middayZone, startStack, wallClock, type Stack } from '../../bench/stack.js';
import { auditLoad, waitForRecovery, type ScenarioResult } from './audit.js';
import * as probes from './metrics-probes.js';
import { progress, seconds, waitUntil } from './progress.js';
import { openFaultTab, type FaultTab } from './tabs.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export { duplicatedOf, lostOf, type ScenarioResult } from './audit.js';
export { logSince, sizeOf } from './process-logs.js';
export { progress, seconds, waitUntil } from './progress.js';

/**
 * The fault-injection rig (docs/faults.md): the real pieces as separate processes (bench/stack.ts:
 * the Temporal CLI dev server on an SQLite file, a database of its own on the machine's
 * PostgreSQL, two production workers, two production delivery servers, the second one reaching
 * PostgreSQL through a loopback TCP proxy that a scenario can cut), and per scenario a load:
 * dossiers whose `overdue` alert falls due a little after they are created (`dueAt`, real
 * time), over users who each have tabs of the real client library open on both servers.
 *
 * The audit (audit.ts) compares what should exist with what does: each dossier's plan (its `created`
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

/** The alerts of a load fall due over this window (25 ms per dossier, at least 2 s). */
export const defaultWindowMs = (dossiers: number): number => Math.max(2000, dossiers * 25);

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
  listenConnected(serverUrl: string): Promise<boolean | undefined> {
    return probes.listenConnected(serverUrl);
  }

  /** Sums of a counter over the label sets, per worker (from each worker's /metrics). */
  workerCounter(name: string): Promise<number> {
    return probes.workerCounter(this.stack, name);
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

  /**
   * Waits for full recovery: every expected row stored and delivered to every tab of its user.
   * Returns the wall-clock instant of the last expected delivery, or undefined at the timeout.
   */
  recovered(load: Load, timeoutMs: number): Promise<number | undefined> {
    return waitForRecovery(this.stack, load, timeoutMs, this.log);
  }

  /**
   * The audit. First the workflows must be done with the alerts (each dossier's plan says
   * `overdue` sent, `overdue_critical` pending: no activity of theirs can store anything more),
   * then frames still in flight get `settleMs`; then rows and tabs against the expected set.
   */
  audit(
    load: Load,
    fault: { scenario: string; fault: string; at: number; recoveredAt: number | undefined },
    settleMs = 1000,
  ): Promise<ScenarioResult> {
    return auditLoad(this.stack, load, fault, settleMs);
  }

  closeTabs(load: Load): void {
    for (const tab of load.tabs) tab.close();
  }
}
