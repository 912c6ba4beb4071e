/**
 * A user's counts per inbox state, as the database computes them (`notification_counts`,
 * db/migrations/Migration20261205000000InboxStates.ts) for the marks' NOTIFY, the sockets'
 * opening read and REST. docs/protocol.md, "Inbox states and counts".
 */

/** The counts a user's tabs show. */
export interface InboxCounts {
  /** In the inbox (not archived) and not read. */
  unread: number;
  /** In the inbox and newer than `lastSeenId`: "new since you last looked". */
  unseen: number;
  archived: number;
  /** The newest notification id the user had when they last opened the list ('0': never). */
  lastSeenId: string;
}

/**
 * When counts were taken, in the user's order of changes (all made under the user's lock):
 * `latestId`, the user's newest id then (0n: none), and `version`, which every mark and retention
 * change moves up. Between two counts of one user, the later has both at least as high.
 */
export interface CountsDate {
  latestId: bigint;
  version: bigint;
}

export interface DatedCounts {
  counts: InboxCounts;
  date: CountsDate;
}

/** `notification_counts(user)` as JSON (also the payload of the counts' NOTIFY). */
export interface CountsJson {
  userId: string;
  unread: number | string;
  unseen: number | string;
  archived: number | string;
  lastSeenId: string;
  latestId: string | null;
  version: number | string;
}

/** Reads `notification_counts`'s JSON (text or parsed). */
export function datedCountsOf(json: CountsJson | string): DatedCounts {
  const value = typeof json === 'string' ? (JSON.parse(json) as CountsJson) : json;
  return {
    counts: {
      unread: Number(value.unread),
      unseen: Number(value.unseen),
      archived: Number(value.archived),
      lastSeenId: String(value.lastSeenId),
    },
    date: { latestId: BigInt(value.latestId ?? 0), version: BigInt(value.version) },
  };
}

/** True when `date` comes strictly before `than` in the user's order of changes. */
export const countsDateBefore = (date: CountsDate, than: CountsDate): boolean =>
  date.latestId < than.latestId || (date.latestId === than.latestId && date.version < than.version);
