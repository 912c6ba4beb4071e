/**
 * Keyset paging, written once, for every walk of a table a page at a time: the activities' jobs
 * (urgent check, daily report, reconciliation, reminder audit, retention, a profile change told to
 * an owner's dossiers) and the sockets' catch-up. The page after a position is read and handed
 * over, then the next one is read after its last row, until a page shorter than the page size.
 * No I/O: reading and handling a page are the caller's callbacks.
 */

/** Rows per page of the activities' walks (dossiers, users): one page is held in memory at a time. */
export const PAGE_SIZE = 500;

export interface KeysetPaging<Page, At> {
  pageSize: number;
  /** Where the first page starts: the beginning, or the position a retried attempt heartbeated. */
  from: At;
  /** Rows the page read: fewer than `pageSize` makes it the last page. */
  sizeOf: (page: Page) => number;
  /** The position of a full page's last row: the next page is read after it. */
  lastOf: (page: Page) => At;
  /** Handles the page; what it heartbeats is where a retry resumes. */
  onPage: (page: Page) => Promise<void>;
  /** Asked after each full page: false stops before the next one is read (a time budget, a closed socket). */
  readOn?: () => boolean;
  /** Gets the position the next page is read after (to heartbeat it, clear the entity manager). */
  onNext?: (after: At) => void;
}

/**
 * Reads the page after `from`, hands it to `onPage`, and goes on after its last row (`lastOf`,
 * given to `onNext`). Resolves true after a page shorter than `pageSize` (read to the end), false
 * when `readOn` stopped it after a full page.
 */
export async function forEachKeysetPage<Page, At>(
  readPage: (after: At) => Promise<Page>,
  { pageSize, from, sizeOf, lastOf, onPage, readOn, onNext }: KeysetPaging<Page, At>,
): Promise<boolean> {
  for (let after = from; ;) {
    const page = await readPage(after);
    await onPage(page);
    if (sizeOf(page) < pageSize) return true;
    if (readOn && !readOn()) return false;
    after = lastOf(page);
    onNext?.(after);
  }
}

/**
 * Keyset paging by id: `forEachKeysetPage` over pages of rows in `id` order, from `from` (`''`,
 * before the first id, unless given).
 */
export function forEachPage<Row extends { id: string }>(
  readPage: (after: string) => Promise<Row[]>,
  {
    from = '',
    ...paging
  }: Omit<KeysetPaging<Row[], string>, 'from' | 'sizeOf' | 'lastOf'> & { from?: string },
): Promise<boolean> {
  return forEachKeysetPage(readPage, {
    ...paging,
    from,
    sizeOf: (page) => page.length,
    lastOf: (page) => page[page.length - 1]!.id,
  });
}
