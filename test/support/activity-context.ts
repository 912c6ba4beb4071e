import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

/**
 * Runs an activity function in an activity context (heartbeats, `Context.current()`), as the
 * worker would, outside any worker: the SDK's own mock, its logger at ERROR so that a passing
 * run prints nothing.
 */
export const inActivity = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);
