import type { Observable } from 'rxjs';
import type { Logger } from '../../config/logger.js';
import type { NotificationFeed } from './notification-feed.js';

/**
 * The polling feed: the catch-up, run on a timer, and for the users a wake names as soon as it
 * does. Every pass reads from the table after the hub's cursor, so it has no gap, and the passes
 * run one at a time: a pass publishes a user's ids in order, and the hub drops what it already
 * published. A timer tick finding a pass still queued adds none (slow passes must not pile up);
 * wakes that come during a pass are read together by one more.
 */
export function startPolling(
  { intervalMs, wake }: { intervalMs: number; wake?: Observable<string> },
  catchUp: (options: { withCounts: boolean; only?: ReadonlySet<string> }) => Promise<void>,
  log: Logger,
): NotificationFeed {
  let running = true;
  let pass: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    pass = pass.then(work).catch((error: Error) => log.warn({ err: error }, 'Polling pass failed'));
  };
  let tickQueued = false;
  const timer = setInterval(() => {
    if (tickQueued) return;
    tickQueued = true;
    enqueue(() => {
      tickQueued = false;
      return catchUp({ withCounts: false });
    });
  }, intervalMs);
  const woken = new Set<string>();
  const subscription = wake?.subscribe((userId) => {
    if (!running) return;
    const queued = woken.size > 0;
    woken.add(userId);
    if (queued) return;
    enqueue(() => {
      const only = new Set(woken);
      woken.clear();
      return catchUp({ withCounts: false, only });
    });
  });
  return {
    get connected() {
      return running;
    },
    carriesUnreadCounts: false,
    async close() {
      running = false;
      clearInterval(timer);
      subscription?.unsubscribe();
      await pass;
    },
  };
}
