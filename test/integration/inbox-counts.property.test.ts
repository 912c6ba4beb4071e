import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { storeNotification } from '../../activities/notification-store.js';
import {
  countsDateBefore,
  type CountsDate,
  type InboxCounts,
} from '../../server/notifications/inbox-counts.js';
import {
  createNotificationQueries,
  type MarkResult,
  type NotificationQueries,
} from '../../server/notifications/notification-queries.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The counts per inbox state (issue 14) against a small reference model, on the real database:
 * random sequences of store, read, read-all, seen, archive and unarchive, by two users whose
 * marks name their own ids, the other user's, and ids that do not exist. After each step the
 * database's counts, each mark's `updated`, the inbox and archive lists and the user's seen
 * mark must be the model's, and each user's counts dates must increase (docs/api.md, "Inbox
 * states"). Replay a failure with the seed (and path) it prints:
 * `FC_SEED=… [FC_PATH=…] node --import tsx --test test/integration/inbox-counts.property.test.ts`.
 */

const seed = process.env.FC_SEED === undefined ? 20261205 : Number(process.env.FC_SEED);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 60);

let db: TestDatabase;
let queries: NotificationQueries;
before(async () => {
  db = await createTestDatabase();
  queries = createNotificationQueries(db.orm);
});
after(async () => {
  await db?.drop();
});

type Who = 0 | 1;
/** Which ids a mark names: positions in the ids stored so far (any user's), and an unknown id. */
const pick = fc.array(fc.oneof(fc.nat(40), fc.constant(-1)), { minLength: 1, maxLength: 6 });
type Operation =
  | { op: 'store'; who: Who }
  | { op: 'read' | 'archive' | 'unarchive'; who: Who; picks: number[] }
  | { op: 'readAll'; who: Who }
  /** The seen mark at a stored id's position, or past every id (-1). */
  | { op: 'seen'; who: Who; at: number };
const who = fc.constantFrom<Who>(0, 1);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('store' as const), who }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('read' as const), who, picks: pick }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('archive' as const), who, picks: pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unarchive' as const), who, picks: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readAll' as const), who }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('seen' as const),
      who,
      at: fc.oneof(fc.nat(40), fc.constant(-1)),
    }),
  },
);

/** The reference model: what each notification is, and each user's seen mark. */
interface Model {
  rows: Array<{ id: bigint; who: Who; read: boolean; archived: boolean }>;
  lastSeen: [bigint, bigint];
}

function modelCounts(model: Model, user: Who): InboxCounts {
  const mine = model.rows.filter((row) => row.who === user);
  return {
    unread: mine.filter((row) => !row.read && !row.archived).length,
    unseen: mine.filter((row) => !row.archived && row.id > model.lastSeen[user]).length,
    archived: mine.filter((row) => row.archived).length,
    lastSeenId: model.lastSeen[user].toString(),
  };
}

/** Applies a mark to the model: how many rows it changed. */
function modelMark(model: Model, operation: Operation, ids: bigint[]): number {
  const mine = (row: Model['rows'][number]) => row.who === operation.who;
  let changed = 0;
  for (const row of model.rows.filter(mine)) {
    const named = ids.includes(row.id);
    if (operation.op === 'read' && named && !row.read) [row.read, changed] = [true, changed + 1];
    if (operation.op === 'readAll' && !row.read && !row.archived) [row.read, changed] = [true, changed + 1];
    if (operation.op === 'archive' && named && !row.archived) [row.archived, changed] = [true, changed + 1];
    if (operation.op === 'unarchive' && named && row.archived) [row.archived, changed] = [false, changed + 1];
  }
  if (operation.op === 'seen') {
    // Up to the user's newest id at or below the one given, never down.
    const limit = ids[0]!;
    const below = model.rows.filter((row) => mine(row) && row.id <= limit).map((row) => row.id);
    const target = below.length === 0 ? 0n : below.reduce((a, b) => (a > b ? a : b));
    if (target > model.lastSeen[operation.who]) {
      model.lastSeen[operation.who] = target;
      changed = 1;
    }
  }
  return changed;
}

describe('counts per inbox state (property, real PostgreSQL, against a reference model)', () => {
  it('store / read / read-all / seen / archive / unarchive: counts, lists, updated and dates as the model says', async () => {
    console.log(`inbox counts property: FC_SEED=${seed} FC_NUM_RUNS=${numRuns}`);
    let run = 0;
    let marksChecked = 0;
    /** Marks that changed something, per operation: the case mix must reach each. */
    const effective = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 8, maxLength: 40 }), async (operations) => {
        run += 1;
        const users = [`prop-${run}-a`, `prop-${run}-b`] as const;
        for (const user of users)
          await db.query('insert into users (id) values ($1) on conflict do nothing', [user]);
        const model: Model = { rows: [], lastSeen: [0n, 0n] };
        const dates: Array<CountsDate | undefined> = [undefined, undefined];
        for (const [step, operation] of operations.entries()) {
          const at = `step ${step + 1} ${JSON.stringify(operation)}`;
          const userId = users[operation.who];
          const idAt = (position: number): bigint =>
            position < 0 || model.rows.length === 0
              ? 9223372036854775807n
              : model.rows[position % model.rows.length]!.id;
          let result: MarkResult | undefined;
          if (operation.op === 'store') {
            const stored = await storeNotification(db.orm.em.fork(), {
              idempotencyKey: `${userId}-${step}`,
              userId,
              type: 'new_alert',
              kind: 'urgent',
              dossierId: null,
              title: 't',
              body: 'b',
              data: {},
              scheduledFor: null,
            });
            assert.ok(stored.created && stored.id, `${at}: stored`);
            model.rows.push({ id: BigInt(stored.id), who: operation.who, read: false, archived: false });
          } else {
            const ids =
              operation.op === 'seen'
                ? [idAt(operation.at)]
                : operation.op === 'readAll'
                  ? []
                  : operation.picks.map(idAt);
            const text = ids.map(String);
            result =
              operation.op === 'read'
                ? await queries.markRead(userId, text)
                : operation.op === 'readAll'
                  ? await queries.markAllRead(userId)
                  : operation.op === 'archive'
                    ? await queries.archive(userId, text)
                    : operation.op === 'unarchive'
                      ? await queries.unarchive(userId, text)
                      : await queries.markSeen(userId, text[0]!);
            const changed = modelMark(model, operation, ids);
            assert.equal(result.updated, changed, `${at}: updated`);
            if (changed > 0) effective.set(operation.op, (effective.get(operation.op) ?? 0) + 1);
            assert.deepEqual(result.counts, modelCounts(model, operation.who), `${at}: the mark's counts`);
            const previous = dates[operation.who];
            assert.ok(
              previous === undefined || countsDateBefore(previous, result.date),
              `${at}: dated after the previous mark (${String(previous?.version)} then ${result.date.version})`,
            );
            dates[operation.who] = result.date;
            marksChecked += 1;
          }
          for (const user of [0, 1] as const) {
            const summary = await queries.summary(users[user]);
            assert.deepEqual(summary.counts, modelCounts(model, user), `${at}: ${users[user]}'s counts`);
          }
        }
        // The lists, as the model has them, newest first.
        for (const user of [0, 1] as const) {
          for (const state of ['inbox', 'archived'] as const) {
            const page = await queries.list(users[user], { limit: 200, unreadOnly: false, state });
            const expected = model.rows
              .filter((row) => row.who === user && row.archived === (state === 'archived'))
              .map((row) => row.id.toString())
              .reverse();
            assert.deepEqual(
              (page.items as Array<{ id: string }>).map((item) => item.id),
              expected,
              `${users[user]}'s ${state}`,
            );
          }
        }
      }),
      { seed, numRuns, ...(process.env.FC_PATH && { path: process.env.FC_PATH }) },
    );
    // Not vacuous: marks were checked, many of them, and each kind changed rows.
    assert.ok(marksChecked >= numRuns * 5, `marks checked: ${marksChecked}`);
    for (const op of ['read', 'readAll', 'archive', 'unarchive', 'seen'])
      assert.ok(
        (effective.get(op) ?? 0) >= numRuns / 10,
        `${op} changed rows ${effective.get(op) ?? 0} times`,
      );
  });
});
