import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { ConfigError, configVariables, loadConfig } from '../../config/config.js';

/**
 * The configuration as a whole (config/config.ts): its defaults, every bad variable named at once,
 * secrets never shown, `.env.example` complete and valid, the JWKS address, the reminder offsets.
 * Each part's own settings: config-settings.test.ts.
 */
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

  it('never shows a refused secret: the HS256 secret by its length, a URL with its password masked', () => {
    const secret = 'short-but-still-a-secret';
    assert.throws(
      () => loadConfig({ JWT_HS256_SECRET: secret }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes(secret), error.message);
        assert.match(error.message, /JWT_HS256_SECRET: .*\(got 24 bytes, not shown\)/);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://normx:hunter2-pw@db:3306/normx' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes('hunter2-pw'), error.message);
        assert.match(error.message, /got "mysql:\/\/normx:\*\*\*@db:3306\/normx"/);
        return true;
      },
    );
  });

  it('.env.example lists every variable, and its values are valid', async () => {
    const text = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
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

  it('JWT_JWKS_URL: https:, or http: on loopback only', () => {
    for (const url of [
      'http://idp.example/jwks',
      'http://192.168.1.2/jwks',
      'http://localhost.example/jwks',
    ]) {
      assert.throws(
        () => loadConfig({ JWT_JWKS_URL: url }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1, error.message);
          assert.match(error.problems[0]!, /^JWT_JWKS_URL: must be an https: URL \(http: only on loopback/);
          return true;
        },
        url,
      );
    }
    for (const url of [
      'https://idp.example/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://localhost/jwks',
      'http://[::1]:8080/jwks',
    ])
      assert.equal(loadConfig({ JWT_JWKS_URL: url }).server.auth.jwksUrl, url);
  });

  it('parses offsets, sorted and without duplicates', () => {
    assert.deepEqual(loadConfig({ REMINDER_OFFSETS_DAYS: '1,7,0,7' }).reminderPolicy.offsetsDays, [7, 1, 0]);
  });
});
