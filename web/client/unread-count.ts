import { BehaviorSubject } from 'rxjs';

/**
 * The user's unread count as the client shows it: the server's `unread_count` frames, plus the
 * unread live notifications that follow one. The protocol has no count request: when a
 * notification arrived while the count could not account for it, the client asks for a fresh one.
 */
export class UnreadCountTracker {
  /** The count, undefined until the server (or another tab) has sent it for the current user. */
  readonly count$ = new BehaviorSubject<number | undefined>(undefined);
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
    this.count$.next(undefined);
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
  counted(count: number): boolean {
    this.synced = true;
    this.count$.next(count);
    if (this.marksAwaitingCount === 0) return false;
    this.marksAwaitingCount -= 1;
    return true;
  }

  /** The catch-up is over (`resumed`). */
  resumed(): void {
    this.resuming = false;
  }

  /** A count another tab of the user received for its marks. */
  fromOtherTab(count: number): void {
    this.count$.next(count);
  }

  /** A notification not seen before. */
  received(notification: { readAt: string | null }): void {
    // The count frame covers what was committed before it: add the live notifications that
    // follow it. One that came before it or during the catch-up may or may not be in it.
    const count = this.count$.value;
    if (!this.synced || this.resuming || count === undefined) this.uncertain = true;
    else if (notification.readAt === null) this.count$.next(count + 1);
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
  }
}
