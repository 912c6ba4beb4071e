import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config/config.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    assert.equal(config.schedules.timeZone, 'Europe/Paris');
    assert.deepEqual(config.schedules.dailyReport, { hour: 18, minute: 0 });
    assert.deepEqual(config.reminderPolicy, {
      reminderTime: { hour: 8, minute: 0 },
      offsetsDays: [7, 1, 0],
      criticalDelay: 'P3D',
    });
    assert.equal(config.database.url, undefined);
  });

  it('rejects bad values, naming every bad variable', () => {
    const bad = {
      SCHEDULE_TIMEZONE: 'Europe/Parsi',
      REMINDER_TIME: '8h',
      OVERDUE_CRITICAL_DELAY: 'three days',
      DATABASE_URL: 'mysql://x',
    };
    assert.throws(
      () => loadConfig(bad),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const named = error.problems.map((problem) => problem.split(':')[0]).sort();
        assert.deepEqual(named, [
          'DATABASE_URL',
          'OVERDUE_CRITICAL_DELAY',
          'REMINDER_TIME',
          'SCHEDULE_TIMEZONE',
        ]);
        assert.match(
          error.message,
          /SCHEDULE_TIMEZONE: is not a known IANA time zone \(got "Europe\/Parsi"\)/,
        );
        return true;
      },
    );
  });

  it('parses offsets, sorted and without duplicates', () => {
    assert.deepEqual(loadConfig({ REMINDER_OFFSETS_DAYS: '1,7,0,7' }).reminderPolicy.offsetsDays, [7, 1, 0]);
  });
});
