import { forEachPage } from '../../domain/keyset-pages.js';
import type { SerializedNotification } from './notification-queries.js';

/**
 * How many notifications a catch-up reads at a time, whoever runs it: the hub after a gap in
 * LISTEN (or each poll), a socket's resume. One page is held in memory until it is sent.
 */
export const CATCH_UP_PAGE = 500;

/**
 * A user's notifications after `from`, in id order, a page at a time (domain/keyset-pages.ts):
 * `readPage(after, limit)` reads one, `onPage` handles it and answers whether to read on; reading
 * goes on after the page's last id until a short page or a `false`. Per user, ids follow commit
 * order: reading to the end leaves no gap.
 */
export async function catchUpPages(
  readPage: (after: string, limit: number) => Promise<SerializedNotification[]>,
  from: string,
  onPage: (page: SerializedNotification[]) => Promise<boolean> | boolean,
): Promise<void> {
  let more = true;
  await forEachPage((after) => readPage(after, CATCH_UP_PAGE), {
    pageSize: CATCH_UP_PAGE,
    from,
    onPage: async (page) => {
      more = await onPage(page);
    },
    readOn: () => more,
  });
}
