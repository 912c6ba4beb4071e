import { readId } from './notification-id.js';

/** Where the cursor outlives the page: `localStorage`, or anything with its two methods. */
export interface CursorStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const storageKey = (user: string): string => `normx-notify:lastId:${user}`;

/**
 * The resume cursor of one client, per user, kept in memory and in the store.
 *
 * Every notification up to this id has been pushed to this client: the resume point. It moves
 * with each notification, those of a catch-up included (moved only at
 * `resumed`, a connection cut mid-catch-up restarted the same catch-up, and a flaky network never
 * got past it). That is right because this client resumes only by `?lastId=`: the server then holds the
 * live frames until the catch-up is over, so ids arrive in strictly increasing order. (A `resume`
 * message on a socket already open could follow live frames with older ids; this client sends none.)
 */
export class CursorTracker {
  private cursor: bigint | undefined;
  private user: string | undefined;

  /** `firstLastId`: where the first user's first connection resumes (else the stored id). */
  constructor(
    private readonly store: CursorStore | null,
    private readonly firstLastId: string | undefined,
  ) {}

  get userId(): string | undefined {
    return this.user;
  }

  /** The resume cursor, `?lastId=` of the next connection. */
  get lastId(): string | undefined {
    return this.cursor?.toString();
  }

  /** The token names `user`: true when it is another user than before, whose cursor is now loaded. */
  switchTo(user: string): boolean {
    if (user === this.user) return false;
    const first = this.user === undefined;
    this.user = user;
    const stored = readId(this.store?.getItem(storageKey(user)));
    this.cursor = first && this.firstLastId !== undefined ? readId(this.firstLastId) : stored;
    return true;
  }

  /**
   * A notification's id: true when it is new, and the cursor moves to it. Anything at or below
   * the cursor was already pushed (catch-up then live, ids only go up).
   */
  advance(id: bigint): boolean {
    if (this.cursor !== undefined && id <= this.cursor) return false;
    this.cursor = id;
    if (!this.store || this.user === undefined) return true;
    try {
      // Another tab may have seen further: keep the newest.
      const stored = readId(this.store.getItem(storageKey(this.user)));
      if (stored === undefined || stored < id) this.store.setItem(storageKey(this.user), id.toString());
    } catch {
      // Storage full or forbidden: the cursor stays in memory.
    }
    return true;
  }

  /** `cursor_reset`: the cursor is past the user's newest id (restored database): start over from the server's. */
  reset(lastId: string | null): void {
    const reset = readId(lastId) ?? 0n;
    this.cursor = reset;
    try {
      if (this.store && this.user !== undefined) this.store.setItem(storageKey(this.user), reset.toString());
    } catch {
      // Storage full or forbidden: the cursor stays in memory.
    }
  }
}
