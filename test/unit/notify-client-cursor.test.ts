import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CursorTracker, type CursorStore } from '../../web/client/cursor.js';

/**
 * The client library's resume cursor (web/client/cursor.ts): where each user's connection
 * resumes, which notifications are new, and what is kept in storage (the newest id any tab saw).
 */

/** A store over a Map; `failWrites` makes setItem throw as a full or forbidden localStorage does. */
function memoryStore(entries: Record<string, string> = {}, { failWrites = false } = {}) {
  const map = new Map(Object.entries(entries));
  const store: CursorStore = {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => {
      if (failWrites) throw new Error('QuotaExceededError');
      map.set(key, value);
    },
  };
  return { store, map };
}

const key = (user: string): string => `normx-notify:lastId:${user}`;

type Step =
  | ['switchTo', string, boolean]
  | ['advance', bigint, boolean]
  | ['reset', string | null]
  /** Another tab writes the store. */
  | ['otherTab', string, string];

const table: Array<{
  name: string;
  stored?: Record<string, string>;
  firstLastId?: string;
  failWrites?: boolean;
  steps: Step[];
  lastId: string | undefined;
  after?: Record<string, string>;
}> = [
  { name: 'nothing stored, nothing given: live only', steps: [['switchTo', 'u1', true]], lastId: undefined },
  {
    name: 'the stored id of the user',
    stored: { [key('u1')]: '41' },
    steps: [['switchTo', 'u1', true]],
    lastId: '41',
  },
  {
    name: 'the given id wins over the stored one on the first connection',
    stored: { [key('u1')]: '41' },
    firstLastId: '7',
    steps: [['switchTo', 'u1', true]],
    lastId: '7',
  },
  {
    name: 'a garbage stored id is ignored',
    stored: { [key('u1')]: '007' },
    steps: [['switchTo', 'u1', true]],
    lastId: undefined,
  },
  {
    name: 'the same user again changes nothing',
    firstLastId: '7',
    steps: [
      ['switchTo', 'u1', true],
      ['advance', 9n, true],
      ['switchTo', 'u1', false],
    ],
    lastId: '9',
  },
  {
    name: 'another user: their stored id, not the given one',
    stored: { [key('u2')]: '3' },
    firstLastId: '7',
    steps: [
      ['switchTo', 'u1', true],
      ['switchTo', 'u2', true],
    ],
    lastId: '3',
  },
  {
    name: 'ids only go up: one at or below the cursor is a repeat',
    firstLastId: '10',
    steps: [
      ['switchTo', 'u1', true],
      ['advance', 10n, false],
      ['advance', 9n, false],
      ['advance', 11n, true],
      ['advance', 11n, false],
      ['advance', 12n, true],
    ],
    lastId: '12',
    after: { [key('u1')]: '12' },
  },
  {
    name: 'a tab that saw further keeps its id in storage',
    steps: [
      ['switchTo', 'u1', true],
      ['otherTab', key('u1'), '50'],
      ['advance', 20n, true],
    ],
    lastId: '20',
    after: { [key('u1')]: '50' },
  },
  {
    name: 'storage that refuses writes: the cursor stays in memory',
    failWrites: true,
    steps: [
      ['switchTo', 'u1', true],
      ['advance', 5n, true],
      ['reset', '3'],
    ],
    lastId: '3',
    after: {},
  },
  {
    name: 'cursor_reset goes back to the server id, in storage too',
    steps: [
      ['switchTo', 'u1', true],
      ['advance', 500n, true],
      ['reset', '40'],
      ['advance', 41n, true],
    ],
    lastId: '41',
    after: { [key('u1')]: '41' },
  },
  {
    name: 'cursor_reset without an id starts from 0',
    steps: [
      ['switchTo', 'u1', true],
      ['advance', 500n, true],
      ['reset', null],
    ],
    lastId: '0',
    after: { [key('u1')]: '0' },
  },
];

describe('client cursor', () => {
  for (const { name, stored = {}, firstLastId, failWrites = false, steps, lastId, after } of table) {
    it(name, () => {
      const { store, map } = memoryStore(stored, { failWrites });
      const cursor = new CursorTracker(store, firstLastId);
      steps.forEach((step, index) => {
        const at = `step ${index + 1}: ${step[0]} ${String(step[1])}`;
        if (step[0] === 'switchTo') assert.equal(cursor.switchTo(step[1]), step[2], at);
        else if (step[0] === 'advance') assert.equal(cursor.advance(step[1]), step[2], at);
        else if (step[0] === 'reset') cursor.reset(step[1]);
        else map.set(step[1], step[2]);
      });
      assert.equal(cursor.lastId, lastId);
      if (after) assert.deepEqual(Object.fromEntries(map), after);
    });
  }

  it('without a store: in memory only', () => {
    const cursor = new CursorTracker(null, undefined);
    assert.equal(cursor.switchTo('u1'), true);
    assert.equal(cursor.advance(3n), true);
    cursor.reset('1');
    assert.equal(cursor.lastId, '1');
    assert.equal(cursor.userId, 'u1');
  });
});
