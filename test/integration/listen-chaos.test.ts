import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { storeNotification } from '../../activities/notification-store.js';
import { openOrm, type Orm } from '../../db/orm.js';
import type { FeedHooks, FeedRead, FeedSettings } from '../../server/hub/notification-feed.js';
import { LISTEN_APPLICATION_NAME } from '../../server/hub/notification-listener.js';
import {
  openSocket,
  startServerHarness,
  type ServerHarness,
  type TestSocket,
} from '../support/notify-server.js';
import { waitFor } from '../support/wait.js';
import { seededRandom } from '../support/random.js';

/**
 * LISTEN chaos, a generative test: several writers commit notifications for many
 * users while the feed's connections are terminated at random moments, in the middle of
 * catch-ups, several times in a row, and some of its reads fail. Every tab, open from the start,
 * must then hold exactly its user's committed sequence: all of it, in order, once.
 *
 * Seeded: FC_SEED replays a failure (the seed is printed with it); CHAOS_RUNS sets the number
 * of runs per feed (a few by default, for the normal suite). The timings of a run are the
 * machine's, so a replay repeats its decisions (who writes what, when and where to kill), not
 * its interleaving.
 */

const SEED = Number(process.env.FC_SEED ?? 20261202);
const RUNS = Number(process.env.CHAOS_RUNS ?? 4);
const KILLER_APPLICATION_NAME = 'chaos-killer';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const scenario = fc.record({
  seed: fc.integer(),
  users: fc.integer({ min: 2, max: 8 }),
  tabsPerUser: fc.integer({ min: 1, max: 2 }),
  writers: fc.integer({ min: 2, max: 4 }),
  perWriter: fc.integer({ min: 10, max: 40 }),
  /** Percentage of notifications too large for a NOTIFY payload (sent as an id, read from the table). */
  bigShare: fc.integer({ min: 0, max: 20 }),
  /** Mean pause between two kills at a random moment. */
  killEveryMs: fc.integer({ min: 5, max: 80 }),
  /** Percentage of kills that terminate every connection of the database, not only the feed's. */
  killAllShare: fc.integer({ min: 0, max: 30 }),
  /** Percentage of a catch-up's reads with a kill right then (one in a row after another, often). */
  killInCatchUp: fc.integer({ min: 0, max: 60 }),
  /** Percentage of the feed's reads that fail. */
  failRead: fc.integer({ min: 0, max: 30 }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** What the hooks do during a run; calm (nothing) between runs. */
interface Chaos {
  onRead(read: FeedRead): Promise<void>;
}

/** One server (one feed type) for every run; each run has users of its own. */
class ChaosBench {
  harness!: ServerHarness;
  killer!: pg.Client;
  writerOrm!: Orm;
  chaos: Chaos | undefined;
  private runs = 0;

  constructor(private readonly feed: 'listen' | 'poll') {}

  async start(): Promise<void> {
    const hooks: FeedHooks = { beforeRead: (read) => this.chaos?.onRead(read) ?? Promise.resolve() };
    const settings: FeedSettings =
      this.feed === 'listen' ? { type: 'listen', hooks } : { type: 'poll', intervalMs: 20, hooks };
    this.harness = await startServerHarness({ feed: settings });
    this.killer = new pg.Client({
      connectionString: this.harness.db.url,
      application_name: KILLER_APPLICATION_NAME,
    });
    await this.killer.connect();
    this.writerOrm = await openOrm(this.harness.db.url, { poolMax: 4 });
  }

  async stop(): Promise<void> {
    this.chaos = undefined;
    await this.writerOrm?.close(true);
    await this.killer?.end();
    await this.harness?.close();
  }

  /** Terminates the feed's LISTEN connection, or every connection of the database but the killer's. */
  async kill(everything: boolean): Promise<void> {
    await this.killer.query(
      everything
        ? `select pg_terminate_backend(pid, 5000) from pg_stat_activity
            where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`
        : `select pg_terminate_backend(pid, 5000) from pg_stat_activity
            where datname = current_database() and application_name = $1`,
      everything ? [] : [LISTEN_APPLICATION_NAME],
    );
  }

  /**
   * A tab whose opening count came, opened again (as the browser client does after its connect
   * timeout, or its reconnect after a 1006) when it does not come: uWebSockets.js 20.30 can close
   * a socket right after its 101 (docs/protocol.md, "Transport limits"; fixed upstream, in no npm
   * build), which is not what this test is about. Three in a row fail the run.
   */
  private async openTab(user: string): Promise<TestSocket> {
    for (let attempt = 1; ; attempt += 1) {
      const socket = await openSocket(`${this.harness.wsUrl}/api/v1/ws/${await this.harness.token(user)}`);
      try {
        await socket.waitFor('the unread count', (messages) =>
          messages.some((m) => m.type === 'unread_count'),
        );
        return socket;
      } catch (error) {
        socket.ws.close();
        if (attempt >= 3) throw error;
      }
    }
  }

  async run(params: Scenario): Promise<void> {
    const run = (this.runs += 1);
    const users = Array.from({ length: params.users }, (_, index) => `chaos-${this.feed}-${run}-${index}`);
    for (const user of users) await this.killer.query('insert into users (id) values ($1)', [user]);
    const tabs: Array<{ user: string; socket: TestSocket }> = [];
    for (const user of users)
      for (let tab = 0; tab < params.tabsPerUser; tab += 1) {
        tabs.push({ user, socket: await this.openTab(user) });
      }

    const hookRandom = seededRandom(params.seed ^ 0x5eed);
    this.chaos = {
      onRead: async (read) => {
        if (read.kind === 'catch-up' && hookRandom() * 100 < params.killInCatchUp)
          await this.kill(hookRandom() * 100 < params.killAllShare);
        if (hookRandom() * 100 < params.failRead) throw new Error(`Chaos: the ${read.kind} read fails`);
      },
    };
    let writing = true;
    const killerRandom = seededRandom(params.seed ^ 0x4b111);
    const killing = (async () => {
      while (writing) {
        await pause(Math.floor(killerRandom() * 2 * params.killEveryMs));
        if (writing) await this.kill(killerRandom() * 100 < params.killAllShare);
      }
    })();
    const writers = Array.from({ length: params.writers }, async (_, writer) => {
      const next = seededRandom(params.seed + writer + 1);
      for (let index = 0; index < params.perWriter; index += 1) {
        const big = next() * 100 < params.bigShare;
        const draft = {
          idempotencyKey: randomBytes(8).toString('hex'),
          userId: users[Math.floor(next() * users.length)]!,
          type: 'new_alert',
          kind: 'urgent',
          dossierId: null,
          title: `Chaos ${writer}.${index}`,
          body: big ? 'x'.repeat(9000) : 'body',
          data: {},
          scheduledFor: null,
        };
        // A write whose connection is terminated is retried with the same key: stored once.
        for (;;) {
          try {
            await storeNotification(this.writerOrm.em.fork(), draft);
            break;
          } catch {
            await pause(5);
          }
        }
        if (next() < 0.3) await pause(Math.floor(next() * 10));
      }
    });
    try {
      await Promise.all(writers);
    } finally {
      writing = false;
      await killing;
      this.chaos = undefined;
    }

    const committed = new Map<string, string[]>();
    for (const user of users) {
      const { rows } = await this.killer.query<{ id: string }>(
        'select id::text as id from notifications where user_id = $1 order by notifications.id',
        [user],
      );
      committed.set(
        user,
        rows.map((row) => row.id),
      );
    }
    try {
      await waitFor(
        'every tab to receive as many notifications as its user has committed',
        () => tabs.every(({ user, socket }) => socket.ids().length >= committed.get(user)!.length),
        { timeoutMs: 30_000, intervalMs: 20 },
      );
    } finally {
      for (const { user, socket } of tabs)
        assert.deepEqual(
          socket.ids(),
          committed.get(user),
          `tab of ${user}: the committed sequence, once, in order`,
        );
    }
    for (const { socket } of tabs) socket.ws.close();
    await Promise.all(tabs.map(({ socket }) => socket.closed));
  }
}

for (const feed of ['listen', 'poll'] as const) {
  describe(`${feed} feed chaos`, () => {
    const bench = new ChaosBench(feed);
    before(() => bench.start());
    after(() => bench.stop());

    it(`delivers each user's committed sequence to each of its tabs, once, in order (${RUNS} runs, seed ${SEED})`, async () => {
      // No shrinking: a smaller scenario would not replay the same interleaving anyway.
      const result = await fc.check(
        fc.asyncProperty(scenario, (params) => bench.run(params)),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (result.failed)
        throw new Error(
          `Chaos run ${result.numRuns} of seed ${SEED} (FC_SEED=${SEED} replays it) failed with ${JSON.stringify(result.counterexample)}: ${String(result.errorInstance)}`,
          { cause: result.errorInstance },
        );
    });
  });
}
