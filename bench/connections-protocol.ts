/**
 * The IPC messages between `bench/connections.ts` and its load-generator children
 * (`bench/connections-client.ts`), and what the children report.
 */

export interface InitCommand {
  cmd: 'init';
  port: number;
  secret: string;
  childIndex: number;
  of: number;
  connections: number;
  users: number;
  /**
   * Each user is one browser with an address of its own, shared by its tabs: user `u` connects from
   * `127.<addressOctet>.<u / 250>.<1 + u % 250>`, and reconnects from `127.<addressOctet + 1>.…`.
   */
  addressOctet: number;
  concurrency: number;
  connectTimeoutMs: number;
}

export type ClientCommand =
  | InitCommand
  | { cmd: 'connect'; upTo: number; timeoutMs: number }
  | { cmd: 'arm' }
  | { cmd: 'report' }
  | { cmd: 'disconnect'; stormUsers: number }
  | { cmd: 'reconnect'; expected: Map<number, string[]>; timeoutMs: number };

export interface PushReport {
  tabs: number;
  /** Tabs that got exactly one notification. */
  exactlyOne: number;
  /** Tabs that got none yet. */
  missing: number;
  /** Tabs that got more than one. */
  extra: number;
  /** Store call → arrival, in ms, one per frame received. */
  latencies: Float64Array;
  lastAt: number;
  closed: number;
}

export interface StormReport {
  tabs: number;
  /** Tabs that got every missed id, exactly once, in order, then `resumed`. */
  complete: number;
  /** Tabs whose frames did not match (a gap, a duplicate, the wrong order, an extra frame). */
  wrong: number;
  firstWrong: string | undefined;
  /** Tabs that could not reconnect (retrying until the storm's deadline). */
  failed: number;
  retried: number;
  /** Refused upgrades by HTTP status (503 server_busy, 429 too_many_upgrades…). */
  refusals: Record<string, number>;
  firstError: string | undefined;
  /** Per complete tab: from its first reconnect attempt to its `resumed` frame (all its missed notifications in), in ms. */
  catchUpMs: Float64Array;
  /** Per complete tab: from its first reconnect attempt to its first frame (`unread_count`), in ms. */
  openMs: Float64Array;
  firstStartAt: number;
  lastDoneAt: number;
  /** Notification frames that came to a tab after its `resumed` (nothing was committed meanwhile: duplicates). */
  lateFrames: number;
}

export type ClientEvent =
  | { ev: 'inited'; tabs: number; signMs: number }
  | {
      ev: 'connected';
      open: number;
      failed: number;
      retried: number;
      refusals: Record<string, number>;
      firstError: string | undefined;
      /** From the first attempt to the first frame (`unread_count`), per tab opened in this step, in ms. */
      connectMs: Float64Array;
      rssBytes: number;
    }
  | { ev: 'armed'; tabs: number }
  | ({ ev: 'pushed' } & PushReport)
  | ({ ev: 'push-report' } & PushReport)
  | { ev: 'disconnected'; tabs: number }
  | ({ ev: 'reconnected' } & StormReport)
  | ({ ev: 'storm-report' } & StormReport)
  | { ev: 'failed'; message: string };

export { wallClock } from './common.js';

export const benchUserId = (user: number): string => `bench-user-${user}`;
