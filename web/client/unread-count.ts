import { BehaviorSubject } from 'rxjs';
import type { InboxCounts } from './wire.js';

/**
 * A counts frame as the tracker reads it (`unread_count`): the unread count, and from a server
 * with inbox states the other counts and their date (`latestId`, `version`: between two counts
 * of the user, the later has both at least as high). Tabs share it as is.
 */
export interface CountsFrame {
  count: number;
  unseen?: number;
  archived?: number;
  lastSeenId?: string;
  latestId?: string | null;
  version?: string;
}

/** True when frame `a` is dated strictly before frame `b` (an undated frame is never before). */
function datedBefore(a: CountsFrame, b: CountsFrame): boolean {
  if (a.version === undefined || b.version === undefined) return false;
  const [aId, bId] = [BigInt(a.latestId ?? 0), BigInt(b.latestId ?? 0)];
  return aId < bId || (aId === bId && BigInt(a.version) < BigInt(b.version));
}

/**
 * The user's counts as the client shows them: the server's `unread_count` frames (the unread
 * count, and the counts per inbox state), plus the unread live notifications that follow one.
 * A frame dated before the last one applied (one another tab shared late) is ignored: a stale
 * count never overwrites a newer one. The protocol has no count request: when a notification
 * arrived while the count could not account for it, the client asks for a fresh one.
 */
export class UnreadCountTracker {
  /** The count, undefined until the server (or another tab) has sent it for the current user. */
  readonly count$ = new BehaviorSubject<number | undefined>(undefined);
  /** The counts per inbox state, once a server with inbox states has sent them. */
  readonly counts$ = new BehaviorSubject<InboxCounts | undefined>(undefined);
  /** The last frame applied, for its date. */
  private applied: CountsFrame | undefined;
  /** Per connection: has the server sent the count yet, is a catch-up running. */
  private synced = false;
  private resuming = false;
  /** A notification came before the count or during the catch-up: the count may not include it. */
  private uncertain = false;
  /** `unread_count` frames still owed for our own marks: those are shared with the other tabs. */
  private marksAwaitingCount = 0;

  get value(): number | undefined {
    return this.count$.value;
  }

  /** Another user: their count is unknown until it comes. */
  forget(): void {
    this.applied = undefined;
    this.count$.next(undefined);
    this.counts$.next(undefined);
  }

  /** A new socket: the count comes again, after a catch-up when it resumes from a cursor. */
  connecting({ resuming }: { resuming: boolean }): void {
    this.synced = false;
    this.uncertain = false;
    this.resuming = resuming;
  }

  /** The socket is gone: the counts owed for marks will not come. */
  closed(): void {
    this.marksAwaitingCount = 0;
  }

  /** A mark was sent: its answer is an `unread_count`. */
  markSent(): void {
    this.marksAwaitingCount += 1;
  }

  /** An `unread_count` frame: true when it answers one of this tab's marks (share it with the other tabs). */
  counted(frame: CountsFrame): boolean {
    this.synced = true;
    this.apply(frame);
    if (this.marksAwaitingCount === 0) return false;
    this.marksAwaitingCount -= 1;
    return true;
  }

  /** The catch-up is over (`resumed`). */
  resumed(): void {
    this.resuming = false;
  }

  /** Counts another tab of the user received for its marks. */
  fromOtherTab(frame: CountsFrame): void {
    this.apply(frame);
  }

  private apply(frame: CountsFrame): void {
    if (this.applied && datedBefore(frame, this.applied)) return;
    this.applied = frame;
    this.count$.next(frame.count);
    if (frame.unseen !== undefined && frame.archived !== undefined && frame.lastSeenId !== undefined)
      this.counts$.next({
        unread: frame.count,
        unseen: frame.unseen,
        archived: frame.archived,
        lastSeenId: frame.lastSeenId,
      });
  }

  /** A notification not seen before. */
  received(notification: { readAt: string | null; archivedAt?: string | null }): void {
    // The count frame covers what was committed before it: add the live notifications that
    // follow it. One that came before it or during the catch-up may or may not be in it.
    const count = this.count$.value;
    if (!this.synced || this.resuming || count === undefined) this.uncertain = true;
    else if (notification.archivedAt) {
      // Stored archived (a kind the user keeps out of the bell): the archive's count only.
      const counts = this.counts$.value;
      if (counts) this.counts$.next({ ...counts, archived: counts.archived + 1 });
    } else if (notification.readAt === null) {
      this.count$.next(count + 1);
      // A live notification is in the inbox and newer than the seen mark: new, and unread.
      const counts = this.counts$.value;
      if (counts) this.counts$.next({ ...counts, unread: counts.unread + 1, unseen: counts.unseen + 1 });
    }
  }

  /**
   * True, once, when the count has come, the catch-up is over and a notification arrived in
   * between: ask for a fresh count. (A `mark_read` of no notification, id 0 does not exist,
   * marks nothing and is answered with the count.)
   */
  takeRecount(): boolean {
    if (!this.uncertain || !this.synced || this.resuming) return false;
    this.uncertain = false;
    return true;
  }

  complete(): void {
    this.count$.complete();
    this.counts$.complete();
  }
}
