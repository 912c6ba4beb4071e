import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { log } from '@temporalio/activity';
import { IANAZone } from 'luxon';
import { UserSchema, type Dossier, type User } from '../db/entities.js';
import { deadlineColumns, deadlineOf, type Deadline } from '../domain/deadline.js';
import { createBusinessCalendars } from './business-calendar.js';
import { effectiveCalendar, type CalendarSetting } from '../domain/business-days.js';
import type { ReminderPolicy } from '../domain/reminder-plan.js';
import { clockTime, userCalendar } from '../client/dossier-schemas.js';
import { mayReplan } from '../domain/dossier-engine.js';
import type { DossierSnapshot, OwnerProfile, PlanningContext } from '../domain/dossier.js';
import type { ActivityDependencies } from './dependencies.js';

/**
 * The dossier and user rows as the dossier activities read and write them: a user created or
 * updated from a profile, the planning context of an owner, the audit's stamps (replanned_at,
 * planned_at) and the late flag of a reminder. Built from the configuration, like the activities.
 */
export function createDossierRows({ config }: Pick<ActivityDependencies, 'config'>) {
  const calendars = createBusinessCalendars();

  /**
   * Applies a profile to the user (created with the defaults if new). `changed`: an existing
   * user's zone or locale moved, so their dossiers must re-read it.
   */
  async function applyProfile(
    em: EntityManager,
    userId: string,
    profile: OwnerProfile | undefined,
    changeKey?: string,
  ): Promise<{ user: User; changed: boolean }> {
    // Held until commit (FOR SHARE): a concurrent profile change of this user waits for this
    // save, so its announcement finds this dossier already theirs (or this save reads its zone).
    const existing = await em.findOne(UserSchema, { id: userId }, { lockMode: LockMode.PESSIMISTIC_READ });
    // Copied: the upsert below updates this managed entity in place.
    const before = existing && { locale: existing.locale, planning: planningOf(existing) };
    const user = await ensureUser(em, userId, profile);
    let changed = before !== null && (before.locale !== user.locale || before.planning !== planningOf(user));
    if (changeKey && profile) {
      if (changed) {
        await em.execute(
          'insert into profile_changes (change_key, user_id) values (?, ?) on conflict do nothing',
          [changeKey, userId],
        );
      } else {
        // A retry whose first attempt committed the change: the key says so.
        const rows = await em.execute('select 1 from profile_changes where change_key = ?', [changeKey]);
        changed = rows.length > 0;
      }
    }
    return { user, changed };
  }

  /**
   * The dossier's new `replanned_at` after a save, or undefined to keep it: now when the save moves
   * its reminders (`mayReplan`: deadline, status, an owner in another zone). A new owner in the
   * same zone moves none, but the previous owner's last zone change may not have reached this
   * dossier yet (its announcement queued behind the assign): the stamp is carried to it, so that
   * a reminder that change moved into the past is not taken for late.
   */
  async function replanStamp(
    em: EntityManager,
    before: DossierSnapshot,
    after: DossierSnapshot,
    context: PlanningContext,
    { now, current }: { now: Date; current: Date | null },
  ): Promise<Date | undefined> {
    // What places the reminders: the zone, and the owner's reminder time and calendar.
    const placing = (owner: User | null, zone: string): string =>
      JSON.stringify([zone, owner && policyOf(owner).reminderTime, owner && calendarSettingOf(owner)]);
    const owner = await em.findOne(UserSchema, { id: after.ownerId });
    const sameZone = { before: placing(owner, context.timeZone), after: placing(owner, context.timeZone) };
    // The same owner: its zone is this save's context (its own zone change stamps the user row).
    if (before.ownerId === after.ownerId) return mayReplan(before, after, sameZone) ? now : undefined;
    const previous = await em.findOne(UserSchema, { id: before.ownerId });
    const zones = {
      ...sameZone,
      before: previous ? placing(previous, contextFor(previous).timeZone) : sameZone.before,
    };
    if (mayReplan(before, after, zones)) return now;
    if (!previous) return undefined;
    const previousZoneChange = previous.zoneChangedAt ?? previous.updatedAt;
    return !current || previousZoneChange > current ? previousZoneChange : undefined;
  }

  /** Makes sure the owner exists, applying the profile fields sent with the dossier. */
  async function ensureUser(
    em: EntityManager,
    userId: string,
    profile: OwnerProfile | undefined,
  ): Promise<User> {
    const existing = await em.findOne(UserSchema, { id: userId });
    if (existing && !profile) return existing;
    if (!profile) {
      // No profile to apply: the defaults only where there is no row, never over a profile a
      // save inserts meanwhile (an upsert would overwrite its zone and language with them).
      await em.execute(
        'insert into users (id, name, locale, timezone, zone_changed_at) values (?, ?, ?, ?, now()) on conflict (id) do nothing',
        [userId, '', config.defaults.locale, config.defaults.timeZone],
      );
      return em.findOneOrFail(UserSchema, { id: userId });
    }
    const changes = {
      ...(profile?.name !== undefined && { name: profile.name }),
      ...(profile?.locale !== undefined && { locale: profile.locale }),
      ...(profile?.timezone !== undefined && { timezone: profile.timezone }),
      ...(profile?.businessCalendar !== undefined && { businessCalendar: profile.businessCalendar }),
      ...(profile?.reminderTime !== undefined && { reminderTime: profile.reminderTime }),
    };
    // A profile sent again unchanged writes nothing: `updated_at` dates a real change (the
    // reminder audit waits for the re-plans a change causes).
    const same =
      existing &&
      Object.entries(changes).every(
        ([field, value]) => comparable(existing[field as keyof User]) === comparable(value),
      );
    if (existing && same) return existing;
    const next = {
      id: userId,
      name: existing?.name ?? '',
      locale: existing?.locale ?? config.defaults.locale,
      timezone: existing?.timezone ?? config.defaults.timeZone,
      businessCalendar: existing?.businessCalendar ?? null,
      reminderTime: existing?.reminderTime ?? null,
      ...changes,
    };
    return em.upsert(UserSchema, {
      ...next,
      updatedAt: new Date(),
      // The audit dates re-plans by it (a name or a language changes no reminder).
      ...((!existing || planningOf(next) !== planningOf(existing)) && { zoneChangedAt: new Date() }),
    });
  }

  /**
   * The owner's zone for planning, and the closed days around `deadline` when business days are on
   * (none without a deadline: the frozen v1 workflow's saves). A zone the API would refuse (a row
   * written by NormX) plans in the default zone, as the daily report does, rather than giving NaN
   * instants.
   */
  const contextFor = (owner: User, deadline?: Deadline): PlanningContext => {
    const valid = IANAZone.isValidZone(owner.timezone);
    if (!valid) log.warn('Unknown time zone in users: planning in the default zone', { userId: owner.id });
    const timeZone = valid ? owner.timezone : config.defaults.timeZone;
    const policy = policyOf(owner);
    const calendar =
      deadline &&
      calendars.forDeadline(calendarSettingOf(owner), {
        deadline,
        timeZone,
        offsetsDays: policy.offsetsDays,
      });
    return { timeZone, policy, ...(calendar && { calendar }) };
  };

  /** The reminder policy of a user: the service's, at the user's own reminder time if they set one. */
  const policyOf = (owner: Pick<User, 'id' | 'reminderTime'>): ReminderPolicy => {
    if (owner.reminderTime === null || owner.reminderTime === undefined) return config.reminderPolicy;
    // A time the API would refuse (a row NormX wrote: 25:00) would drop j-0 and j-1.
    if (!clockTime.safeParse(owner.reminderTime).success) {
      log.warn('Invalid reminder time in users: planning at the service reminder time', {
        userId: owner.id,
        reminderTime: owner.reminderTime,
      });
      return config.reminderPolicy;
    }
    const [hour, minute] = owner.reminderTime.split(':').map(Number) as [number, number];
    return { ...config.reminderPolicy, reminderTime: { hour, minute } };
  };

  /**
   * The calendar a user plans with: their own, else the service's. One the holiday library does not
   * know (a row NormX wrote, a client that skipped the schema) plans with the service's instead of
   * with no holiday at all.
   */
  const calendarSettingOf = (owner: Pick<User, 'id' | 'businessCalendar'>): CalendarSetting | null => {
    const own = owner.businessCalendar;
    // A calendar the API would refuse (a row NormX wrote: `closedDays: [null]`, an unknown country)
    // plans with the service's, rather than failing every save of the user's dossiers.
    if (own !== null && own !== undefined && !userCalendar.safeParse(own).success) {
      log.warn('Invalid business calendar in users: planning with the service calendar', {
        userId: owner.id,
        calendar: own,
      });
      return config.businessCalendar;
    }
    return effectiveCalendar(own, config.businessCalendar);
  };

  return {
    applyProfile,
    ensureUser,
    contextFor,
    replanStamp,
    policyOf,
    calendarSettingOf,
  };
}

/** What places a user's reminders, as one comparable value: their zone, calendar and reminder time. */
const planningOf = (user: Pick<User, 'timezone' | 'businessCalendar' | 'reminderTime'>): string =>
  comparable([user.timezone, user.businessCalendar ?? null, user.reminderTime ?? null]);

/**
 * A value as text with its objects' keys in order: jsonb gives a stored calendar's keys back in
 * its own order (`region` before `country`), so the same calendar must compare equal however
 * its keys come.
 */
function comparable(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/** A snapshot's values as the row's columns (the inverse of `toSnapshot`). */
/** The audit's record of a plan from scratch (domain/reminder-audit.ts): when, in which zone. */
export const planStamp = (now: Date, context: PlanningContext) => ({
  plannedAt: now,
  plannedZone: context.timeZone,
});

export function toColumns(dossier: DossierSnapshot) {
  const { dueDate, dueAt } = deadlineColumns(dossier);
  return {
    title: dossier.title,
    ownerId: dossier.ownerId,
    dueDate,
    dueAt: dueAt ? new Date(dueAt) : null,
    urgent: dossier.urgent,
    urgentSince: dossier.urgentSince ? new Date(dossier.urgentSince) : null,
    status: dossier.status,
  };
}

export function toSnapshot(row: Dossier): DossierSnapshot {
  const deadline = deadlineOf({ dueDate: row.dueDate, dueAt: row.dueAt?.toISOString() ?? null });
  return {
    id: row.id,
    title: row.title,
    ownerId: row.ownerId,
    ...deadline,
    urgent: row.urgent,
    ...(row.urgentSince && { urgentSince: row.urgentSince.toISOString() }),
    status: row.status,
  };
}
