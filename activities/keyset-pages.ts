/**
 * Keyset paging by id, written once: reads the page after `from` (`''` for the first), hands it to
 * `onPage`, and stops after a page shorter than `pageSize`; otherwise `onNext` gets the page's last
 * id (to heartbeat it, clear the entity manager) and the next page is read after it.
 */
export async function forEachPage<Row extends { id: string }>(
  readPage: (after: string) => Promise<Row[]>,
  {
    pageSize,
    from = '',
    onPage,
    onNext,
  }: {
    pageSize: number;
    from?: string;
    onPage: (page: Row[]) => Promise<void>;
    onNext?: (after: string) => void;
  },
): Promise<void> {
  let after = from;
  for (;;) {
    const page = await readPage(after);
    await onPage(page);
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
    onNext?.(after);
  }
}
