import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { ExpiryTimer, expiryInstants } from '../../server/ws/expiry-timer.js';

/** When a socket's token is warned about and closed, on a clock the test drives. */

const NOW = Date.UTC(2026, 11, 2, 12);
const SECOND = 1000;
const DAY = 86_400 * SECOND;

describe('expiry instants', () => {
  const cases: Array<{
    name: string;
    /** `exp` relative to now, seconds. */
    expIn: number;
    warning: number;
    tolerance: number;
    /** Relative to now, ms. */
    expect: { warnAt: number; closeAt: number };
  }> = [
    {
      name: 'a long-lived token: warned the warning window before the close',
      expIn: 3600,
      warning: 60,
      tolerance: 0,
      expect: { warnAt: 3540 * SECOND, closeAt: 3600 * SECOND },
    },
    {
      name: "closed at exp plus the verifier's clock tolerance, not at the raw exp",
      expIn: 3600,
      warning: 60,
      tolerance: 30,
      expect: { warnAt: 3570 * SECOND, closeAt: 3630 * SECOND },
    },
    {
      name: 'shorter-lived than the window: warned at half its remaining life, not at once',
      expIn: 20,
      warning: 60,
      tolerance: 0,
      expect: { warnAt: 10 * SECOND, closeAt: 20 * SECOND },
    },
    {
      name: 'exp passed but within the tolerance: lives on until exp + tolerance',
      expIn: -5,
      warning: 60,
      tolerance: 30,
      expect: { warnAt: 12.5 * SECOND, closeAt: 25 * SECOND },
    },
    {
      name: 'past exp + tolerance: warned and closed at once (both in the past)',
      expIn: -40,
      warning: 60,
      tolerance: 30,
      expect: { warnAt: -10 * SECOND, closeAt: -10 * SECOND },
    },
  ];
  for (const { name, expIn, warning, tolerance, expect } of cases)
    it(name, () => {
      const { warnAt, closeAt } = expiryInstants(
        NOW / SECOND + expIn,
        { tokenExpiryWarningSeconds: warning, clockToleranceSeconds: tolerance },
        NOW,
      );
      assert.deepEqual({ warnAt: warnAt - NOW, closeAt: closeAt - NOW }, expect);
    });
});

describe('expiry timer', () => {
  function withClock(test: (events: string[], timer: ExpiryTimer) => void): void {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: NOW });
    try {
      const events: string[] = [];
      const timer = new ExpiryTimer(
        { tokenExpiryWarningSeconds: 60, clockToleranceSeconds: 0 },
        {
          warn: (closeAt) => events.push(`warn ${(closeAt - NOW) / SECOND}`),
          expire: () => events.push(`expire ${(Date.now() - NOW) / SECOND}`),
        },
      );
      test(events, timer);
      timer.cancel();
    } finally {
      mock.timers.reset();
    }
  }

  it('warns, then expires, each at its instant', () =>
    withClock((events, timer) => {
      timer.arm(NOW / SECOND + 120);
      mock.timers.tick(60 * SECOND - 1);
      assert.deepEqual(events, []);
      mock.timers.tick(1);
      assert.deepEqual(events, ['warn 120']);
      mock.timers.tick(60 * SECOND);
      assert.deepEqual(events, ['warn 120', 'expire 120']);
    }));

  it('arming again (a refreshed token) replaces both', () =>
    withClock((events, timer) => {
      timer.arm(NOW / SECOND + 120);
      timer.arm(NOW / SECOND + 600);
      mock.timers.tick(120 * SECOND);
      assert.deepEqual(events, []);
      mock.timers.tick(480 * SECOND);
      assert.deepEqual(events, ['warn 600', 'expire 600']);
    }));

  it('cancelled: nothing fires', () =>
    withClock((events, timer) => {
      timer.arm(NOW / SECOND + 120);
      timer.cancel();
      mock.timers.tick(600 * SECOND);
      assert.deepEqual(events, []);
    }));

  it('a token for longer than a Node timer can wait (~24.8 days) still expires on time', () =>
    withClock((events, timer) => {
      timer.arm(NOW / SECOND + (60 * DAY) / SECOND);
      for (let day = 0; day < 59; day += 1) mock.timers.tick(DAY);
      mock.timers.tick(DAY - 61 * SECOND);
      assert.deepEqual(events, [], 'nothing before the warning');
      mock.timers.tick(SECOND);
      assert.deepEqual(events, [`warn ${(60 * DAY) / SECOND}`]);
      mock.timers.tick(60 * SECOND);
      assert.deepEqual(events, [`warn ${(60 * DAY) / SECOND}`, `expire ${(60 * DAY) / SECOND}`]);
    }));
});
