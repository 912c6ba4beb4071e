import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { forEachKeysetPage, forEachPage } from '../../domain/keyset-pages.js';

/** The one keyset paging loop (domain/keyset-pages.ts); its callers are tested with their I/O. */

const table = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: String(index + 1).padStart(4, '0') }));

/** Reads the rows of `rows` after `after`, in id order, recording where each read started. */
function reader(rows: Array<{ id: string }>, pageSize: number, reads: string[]) {
  return async (after: string) => {
    reads.push(after);
    return rows.filter((row) => row.id > after).slice(0, pageSize);
  };
}

describe('keyset paging', () => {
  it('reads every row once, in order, and stops after the first short page (an empty one at a multiple)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(40), fc.integer({ min: 1, max: 9 }), async (count, pageSize) => {
        const rows = table(count);
        const reads: string[] = [];
        const seen: string[] = [];
        const nexts: string[] = [];
        const complete = await forEachPage(reader(rows, pageSize, reads), {
          pageSize,
          onPage: async (page) => {
            seen.push(...page.map(({ id }) => id));
          },
          onNext: (after) => nexts.push(after),
        });
        assert.equal(complete, true);
        assert.deepEqual(
          seen,
          rows.map(({ id }) => id),
        );
        assert.equal(reads.length, Math.floor(count / pageSize) + 1);
        assert.deepEqual(reads, ['', ...nexts]);
      }),
    );
  });

  it('starts after `from` (a retry resumes after the last page done)', async () => {
    const reads: string[] = [];
    const seen: string[] = [];
    await forEachPage(reader(table(10), 4, reads), {
      pageSize: 4,
      from: '0004',
      onPage: async (page) => {
        seen.push(...page.map(({ id }) => id));
      },
    });
    assert.deepEqual(reads, ['0004', '0008']);
    assert.deepEqual(seen, ['0005', '0006', '0007', '0008', '0009', '0010']);
  });

  it('stops after a full page when `readOn` says so, but a short page ends it first', async () => {
    const reads: string[] = [];
    let pages = 0;
    const complete = await forEachPage(reader(table(10), 4, reads), {
      pageSize: 4,
      onPage: async () => {
        pages += 1;
      },
      readOn: () => pages < 2,
    });
    assert.equal(complete, false);
    assert.deepEqual(reads, ['', '0004']);
    const short = await forEachPage(reader(table(3), 4, []), {
      pageSize: 4,
      onPage: async () => {},
      readOn: () => false,
    });
    assert.equal(short, true);
  });

  it('pages on any position, sized and placed by the caller', async () => {
    const rows = table(7).map(({ id }, index) => ({ at: { day: index >> 1, id } }));
    const reads: Array<{ day: number; id: string } | null> = [];
    const complete = await forEachKeysetPage(
      async (after: { day: number; id: string } | null) => {
        reads.push(after);
        const rest = rows.filter(({ at }) => after === null || at.id > after.id).slice(0, 3);
        return { scanned: rest.length, last: rest[rest.length - 1]?.at };
      },
      {
        pageSize: 3,
        from: null,
        sizeOf: (batch) => batch.scanned,
        lastOf: (batch) => batch.last!,
        onPage: async () => {},
      },
    );
    assert.equal(complete, true);
    assert.deepEqual(reads, [null, { day: 1, id: '0003' }, { day: 2, id: '0006' }]);
  });

  it('throws what a page throws, without reading on', async () => {
    const reads: string[] = [];
    await assert.rejects(
      forEachPage(reader(table(10), 4, reads), {
        pageSize: 4,
        onPage: async () => {
          throw new Error('page failed');
        },
      }),
      /page failed/,
    );
    assert.deepEqual(reads, ['']);
  });
});
