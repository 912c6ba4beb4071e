import type { EntityManager } from '@mikro-orm/postgresql';
import { IANAZone } from 'luxon';
import type { Dossier, User } from '../db/entities.js';
import { deadlineOf } from '../domain/deadline.js';
import { owedReminders, type OwedReminder } from '../domain/reminder-audit.js';
import { createBusinessCalendars } from './business-calendar.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierRows, toSnapshot } from './dossier-rows.js';

/**
 * The save stamps `planned_at` before the workflow's clock plans (the activity, then the next
 * workflow task): reminders due within this margin after the stamp may have been skipped.
 */
const PLAN_MARGIN_MS = 60_000;

/** An open dossier as the audit reads it: its row, its owner's zone (and since when) and planning. */
export type AuditRow = Dossier & {
  ownerZone: string;
  ownerZoneChangedAt: Date;
  /** The owner's own planning (null: the service's). */
  owner: Pick<User, 'id' | 'businessCalendar' | 'reminderTime'>;
};

/** A row as the page query returns it: the dossier's columns and its owner's (`owner_*`). */
export type RawAuditRow = Record<string, unknown> & { id: string };

/** The instants (epoch ms) between which the audit looks for reminders owed: lookback to grace. */
export interface AuditWindow {
  from: number;
  to: number;
}

/**
 * What the reminder audit reads, and what it computes from it: a page of open dossiers with their
 * owners' planning, each read as an `AuditRow`; which of the keys owed are stored; and the
 * reminders a row owes within the window (domain/reminder-audit.ts, `owedReminders`), with its
 * owner's zone, policy and calendar as the dossier's activities give them to the workflow. What
 * the audit then does about the missing ones is in activities/reminder-audit-verdicts.ts.
 */
export function createAuditRows({ config }: Pick<ActivityDependencies, 'config'>) {
  const calendars = createBusinessCalendars();
  const { policyOf, calendarSettingOf } = createDossierRows({ config });

  return {
    /** The open dossiers after `after` in id order, at most `pageSize`, with their owners' planning. */
    readPage(em: EntityManager, after: string, pageSize: number): Promise<RawAuditRow[]> {
      return em.execute<RawAuditRow[]>(
        `select d.*, u.timezone as owner_zone, coalesce(u.zone_changed_at, u.updated_at) as owner_zone_changed_at,
                u.business_calendar as owner_business_calendar, u.reminder_time as owner_reminder_time
           from dossiers d join users u on u.id = d.owner_id
          where d.status = 'open' and d.id > ? order by d.id limit ?`,
        [after, pageSize],
      );
    },

    /** A page's row as the audit reads it; throws on one it cannot map (written outside the API). */
    toAuditRow(em: EntityManager, raw: RawAuditRow): AuditRow {
      return Object.assign(em.map('Dossier', raw) as Dossier, {
        ownerZone: raw.owner_zone as string,
        ownerZoneChangedAt: new Date(raw.owner_zone_changed_at as string | Date),
        owner: {
          id: raw.owner_id as string,
          businessCalendar: (raw.owner_business_calendar ?? null) as User['businessCalendar'],
          reminderTime: (raw.owner_reminder_time ?? null) as string | null,
        },
      }) as AuditRow;
    },

    /** Which of `keys` are stored, in one query. */
    async storedKeys(em: EntityManager, keys: string[]): Promise<Set<string>> {
      return new Set(
        keys.length === 0
          ? []
          : (
              await em.execute<Array<{ key: string }>>(
                `select idempotency_key as key from notifications
                  where idempotency_key in (select jsonb_array_elements_text(?::jsonb))`,
                // One JSON parameter: the query builder would expand an array into a list.
                [JSON.stringify(keys)],
              )
            ).map((found) => found.key),
      );
    },

    /** The reminders the row owes within the window, stored or not. */
    owedOf(row: AuditRow, window: AuditWindow): OwedReminder[] {
      // A zone the API would refuse (a row written by NormX) plans in the default zone, as the
      // workflow's activities do.
      const zoneOf = (zone: string | null | undefined) =>
        zone && IANAZone.isValidZone(zone) ? zone : config.defaults.timeZone;
      const ownerZone = zoneOf(row.ownerZone);
      const policy = policyOf(row.owner);
      return owedReminders(
        {
          id: row.id,
          status: row.status,
          deadline: deadlineOf(toSnapshot(row)),
          plannedAt: row.plannedAt.getTime(),
          plannedZone: row.plannedZone ? zoneOf(row.plannedZone) : ownerZone,
          replannedAt: (row.replannedAt ?? row.updatedAt).getTime(),
        },
        { timeZone: ownerZone, zoneChangedAt: row.ownerZoneChangedAt.getTime() },
        {
          policy,
          window,
          planMarginMs: PLAN_MARGIN_MS,
          // The owner's calendar, as the dossier's activities give it to the workflow.
          calendarIn: (timeZone) =>
            calendars.forDeadline(calendarSettingOf(row.owner), {
              deadline: deadlineOf(toSnapshot(row)),
              timeZone,
              offsetsDays: policy.offsetsDays,
            }),
        },
      );
    },
  };
}
