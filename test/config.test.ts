import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { ConfigError, configVariables, loadConfig } from '../config/config.js';

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

  it('worker health and metrics settings: defaults, off, and bad values named', () => {
    assert.deepEqual(loadConfig({}).worker, { healthPort: 8001, metricsBind: '127.0.0.1:9464' });
    assert.deepEqual(loadConfig({ WORKER_HEALTH_PORT: '0', WORKER_METRICS_BIND: 'off' }).worker, {
      healthPort: 0,
      metricsBind: undefined,
    });
    assert.equal(loadConfig({ WORKER_METRICS_BIND: '[::]:9464' }).worker.metricsBind, '[::]:9464');
    for (const [variable, value] of [
      ['WORKER_HEALTH_PORT', 'http'],
      ['WORKER_HEALTH_PORT', '70000'],
      ['WORKER_HEALTH_PORT', '-1'],
      ['WORKER_METRICS_BIND', '9464'],
      ['WORKER_METRICS_BIND', '0.0.0.0:0'],
      ['WORKER_METRICS_BIND', 'http://0.0.0.0:9464'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1, error.message);
          assert.match(
            error.problems[0]!,
            new RegExp(`^${variable}: .* \\(got "${value.replace(/[/.]/g, '\\$&')}"\\)$`),
          );
          return true;
        },
        `${variable}=${value} is rejected`,
      );
    }
  });

  it('.env.example lists every variable, and its values are valid', async () => {
    const text = await readFile(new URL('../.env.example', import.meta.url), 'utf8');
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
    assert.deepEqual(
      configVariables.filter((name) => !listed.includes(name)),
      [],
    );
    const values = Object.fromEntries(
      [...text.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]),
    );
    assert.doesNotThrow(() => loadConfig(values));
  });

  it('parses offsets, sorted and without duplicates', () => {
    assert.deepEqual(loadConfig({ REMINDER_OFFSETS_DAYS: '1,7,0,7' }).reminderPolicy.offsetsDays, [7, 1, 0]);
  });
});
