import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { dossierWorkflowId, type DossierWorkflowResult } from '../../workflows/dossier-messages.js';
import type { NotificationRow, ReminderEngine } from './reminder-engine.js';
import { waitFor } from './wait.js';

/** Helpers of the dossier tests on the time-skipping server: instants in local time, rows, clock. */

export const PARIS = 'Europe/Paris';
export const DAY = 24 * 3600 * 1000;

/** The local day (start of day in `zone`) of an instant. */
export const localDate = (ms: number, zone = PARIS): DateTime =>
  DateTime.fromMillis(ms, { zone }).startOf('day');

/** An instant written as local wall-clock time in a zone, as an ISO UTC string. */
export const local = (date: string, time: string, zone = PARIS): string =>
  DateTime.fromISO(`${date}T${time}`, { zone }).toUTC().toISO()!;

/** `YYYY-MM-DD` plus some days. */
export const plusDays = (date: string, days: number): string =>
  DateTime.fromISO(date).plus({ days }).toISODate()!;

export const kinds = (rows: NotificationRow[]): string[] => rows.map((row) => `${row.type}/${row.kind}`);

/** A unique dossier id with a readable label. */
export const uniqueId = (label: string): string => `${label}-${randomBytes(3).toString('hex')}`;

export function dossierLives(engine: () => ReminderEngine, env: () => TestWorkflowEnvironment) {
  /** Waits until the dossier has `count` notifications, then checks there are exactly that many. */
  async function rowsOnceSettled(dossierId: string, count: number): Promise<NotificationRow[]> {
    let found: NotificationRow[] = [];
    const rows = await waitFor(`${count} notifications for ${dossierId}`, async () => {
      found = await engine().notificationsOf(dossierId);
      return found.length >= count && found;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; have: ${kinds(found).join(', ')}`);
    });
    assert.equal(rows.length, count, `exactly ${count} notifications: ${kinds(rows).join(', ')}`);
    return rows;
  }

  /** Moves the test server's clock to an instant (the tests start at any real time of day). */
  async function advanceTo(instant: string): Promise<void> {
    const ms = Date.parse(instant) - (await env().currentTimeMs());
    assert.ok(ms > 0, `the clock is already past ${instant}`);
    await env().sleep(ms);
  }

  /** Waits for a dossier's workflow run to end (the plain client's `result()` leaves the clock alone). */
  function endOf(id: string): Promise<DossierWorkflowResult> {
    return engine().client.workflow.getHandle(dossierWorkflowId(id)).result();
  }

  return { rowsOnceSettled, advanceTo, endOf };
}
