import { LockMode } from '@mikro-orm/core';
import { Duration, IANAZone } from 'luxon';
import type { EntityManager } from '@mikro-orm/postgresql';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { createDossierClient } from '../client/dossier-client.js';
import { mayReplan, plansFromScratch, type SaveRequest, type SaveResult } from '../domain/dossier-engine.js';
import { forEachInOrder, isReconcilableId } from '../domain/reconciliation.js';
import { isPastGrace, owedSince } from '../domain/reminder-audit.js';
import { escapeKeyComponent } from '../domain/idempotency-keys.js';
import { deadlineColumns, deadlineOf } from '../domain/deadline.js';
import type { NotificationType } from '../domain/notification-types.js';
import { DossierSchema, UserSchema, type Dossier, type User } from '../db/entities.js';
import type {
  DossierSnapshot,
  Locale,
  OwnerProfile,
  PlanningContext,
} from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import { forEachPage } from './keyset-pages.js';
import { renderNotification, type DailyReportContent } from './notification-texts.js';
import {
  storeNotification,
  storeNotificationWhileDossierOpen,
  type DossierChanged,
  type StoredNotification,
} from './notification-store.js';

export interface NotificationRequest {
  idempotencyKey: string;
  userId: string;
  type: NotificationType;
  kind: string;
  dossier?: DossierSnapshot;
  report?: DailyReportContent;
  /** The instant a reminder was planned for. */
  scheduledFor?: string;
  /** Sent by the reminder audit after it was found missing: `data.late` tells the client. */
  late?: boolean;
  /**
   * Stored only while `dossier` is still open with this deadline (the audit's restores: a call the
   * run applied after answering the audit wins). Otherwise nothing is stored (`dossierChanged`).
   */
  whileDossierOpen?: boolean;
}

const PAGE_SIZE = 500;

/** Logs a dossier id that cannot be signalled; returns false (to filter it out). */
function skipped(dossierId: string): boolean {
  log.warn('Dossier id the API would refuse: not told of the profile change', { dossierId });
  return false;
}
/** Signals sent at once when a profile change is announced to an owner's dossiers. */
const SIGNAL_CONCURRENCY = 16;

/** Activities of the dossier workflow: its database copy and its notifications. */
export function createDossierActivities({ orm, config, metrics, temporal }: ActivityDependencies) {
  const dossierClient = () => createDossierClient(temporal.client, { taskQueue: temporal.taskQueue });
  const graceMs = Duration.fromISO(config.reminderAudit.grace).toMillis();

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
    const before = existing && { timezone: existing.timezone, locale: existing.locale };
    const user = await ensureUser(em, userId, profile);
    let changed = before !== null && (before.timezone !== user.timezone || before.locale !== user.locale);
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

  /** Makes sure the owner exists, applying the profile fields sent with the dossier. */
  /**
   * Whether a reminder comes past its grace (domain/reminder-audit.ts, `isPastGrace`): owed from its
   * instant, the plan that armed it or the last write that could re-plan it, whichever is last.
   */
  async function reminderPastGrace(
    em: EntityManager,
    request: NotificationRequest,
    owner: User,
  ): Promise<boolean> {
    if (!request.scheduledFor || !request.dossier) return false;
    const row = await em.findOne(
      DossierSchema,
      { id: request.dossier.id },
      { fields: ['plannedAt', 'replannedAt', 'updatedAt'] },
    );
    if (!row) return false;
    const owedFrom = owedSince(
      Date.parse(request.scheduledFor),
      { plannedAt: row.plannedAt.getTime(), replannedAt: (row.replannedAt ?? row.updatedAt).getTime() },
      { zoneChangedAt: (owner.zoneChangedAt ?? owner.updatedAt).getTime() },
    );
    return isPastGrace(owedFrom, Date.now(), graceMs);
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
    const sameZone = { before: context.timeZone, after: context.timeZone };
    // The same owner: its zone is this save's context (its own zone change stamps the user row).
    if (before.ownerId === after.ownerId) return mayReplan(before, after, sameZone) ? now : undefined;
    const previous = await em.findOne(UserSchema, { id: before.ownerId });
    const zones = { ...sameZone, before: previous ? contextFor(previous).timeZone : context.timeZone };
    if (mayReplan(before, after, zones)) return now;
    if (!previous) return undefined;
    const previousZoneChange = previous.zoneChangedAt ?? previous.updatedAt;
    return !current || previousZoneChange > current ? previousZoneChange : undefined;
  }

  async function ensureUser(
    em: EntityManager,
    userId: string,
    profile: OwnerProfile | undefined,
  ): Promise<User> {
    const existing = await em.findOne(UserSchema, { id: userId });
    if (existing && !profile) return existing;
    const changes = {
      ...(profile?.name !== undefined && { name: profile.name }),
      ...(profile?.locale !== undefined && { locale: profile.locale }),
      ...(profile?.timezone !== undefined && { timezone: profile.timezone }),
    };
    // A profile sent again unchanged writes nothing: `updated_at` dates a real change (the
    // reminder audit waits for the re-plans a change causes).
    const same =
      existing && Object.entries(changes).every(([field, value]) => existing[field as keyof User] === value);
    if (existing && same) return existing;
    return em.upsert(UserSchema, {
      id: userId,
      name: existing?.name ?? '',
      locale: existing?.locale ?? config.defaults.locale,
      timezone: existing?.timezone ?? config.defaults.timeZone,
      ...changes,
      updatedAt: new Date(),
      // The audit dates re-plans by it (a name or a language changes no reminder).
      ...((!existing || (changes.timezone !== undefined && changes.timezone !== existing.timezone)) && {
        zoneChangedAt: new Date(),
      }),
    });
  }

  /**
   * The owner's zone for planning. A zone the API would refuse (a row written by NormX) plans in
   * the default zone, as the daily report does, rather than giving NaN instants.
   */
  const contextFor = (owner: User): PlanningContext => {
    const valid = IANAZone.isValidZone(owner.timezone);
    if (!valid) log.warn('Unknown time zone in users: planning in the default zone', { userId: owner.id });
    return { timeZone: valid ? owner.timezone : config.defaults.timeZone, policy: config.reminderPolicy };
  };

  return {
    /** Upserts the dossier row (and its owner); returns the owner's zone and the reminder policy for planning. */
    async saveDossier({
      dossier,
      owner,
    }: {
      dossier: DossierSnapshot;
      owner?: OwnerProfile;
    }): Promise<PlanningContext> {
      const em = orm.em.fork();
      return em.transactional(async (tx) => {
        const user = await ensureUser(tx, dossier.ownerId, owner);
        const context = contextFor(user);
        const row = await tx.findOne(
          DossierSchema,
          { id: dossier.id },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        const now = new Date();
        const replanned = !row || plansFromScratch(toSnapshot(row), dossier);
        await tx.upsert(DossierSchema, {
          id: dossier.id,
          ...toColumns(dossier),
          updatedAt: now,
          replannedAt: row
            ? ((await replanStamp(tx, toSnapshot(row), dossier, context, {
                now,
                current: row.replannedAt ?? row.updatedAt,
              })) ?? row.replannedAt)
            : now,
          ...(replanned && planStamp(now, context)),
        });
        return context;
      });
    },

    /**
     * Writes the fields an event changed and returns the row as stored, so that a field set
     * elsewhere (NormX's `urgent` flag) is neither overwritten nor ignored. A dossier already
     * urgent keeps its `urgentSince` (its alert key). A new row is written whole.
     */
    async saveDossierChanges({ dossier, fields, owner, eventId }: SaveRequest): Promise<SaveResult> {
      const em = orm.em.fork();
      return em.transactional(async (tx) => {
        const changeKey = eventId && `dossier:${dossier.id}:${escapeKeyComponent(eventId)}`;
        const { user, changed } = await applyProfile(tx, dossier.ownerId, owner, changeKey);
        const row = await tx.findOne(
          DossierSchema,
          { id: dossier.id },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        const wanted = toColumns(dossier);
        if (!row) {
          const context = contextFor(user);
          const now = new Date();
          const created = tx.create(DossierSchema, {
            id: dossier.id,
            ...wanted,
            updatedAt: now,
            replannedAt: now,
            ...planStamp(now, context),
          });
          await tx.flush();
          return { dossier: toSnapshot(created), context, ownerProfileChanged: changed };
        }
        const before = toSnapshot(row);
        if (fields.includes('title')) row.title = wanted.title;
        if (fields.includes('ownerId')) row.ownerId = wanted.ownerId;
        if (fields.includes('deadline')) Object.assign(row, { dueDate: wanted.dueDate, dueAt: wanted.dueAt });
        if (fields.includes('status')) row.status = wanted.status;
        if (fields.includes('urgent')) {
          const keepSince = wanted.urgent && row.urgent && row.urgentSince;
          row.urgentSince = keepSince ? row.urgentSince : wanted.urgentSince;
          row.urgent = wanted.urgent;
        }
        const now = new Date();
        if (fields.length > 0) row.updatedAt = now;
        // The row's owner is the event's unless the event left the owner to the database.
        const rowOwner = row.ownerId === user.id ? user : await ensureUser(tx, row.ownerId, undefined);
        const context = contextFor(rowOwner);
        const after = toSnapshot(row);
        const replannedAt = await replanStamp(tx, before, after, context, {
          now,
          current: row.replannedAt ?? null,
        });
        if (replannedAt) row.replannedAt = replannedAt;
        if (plansFromScratch(before, after)) Object.assign(row, planStamp(now, context));
        await tx.flush();
        return { dossier: after, context, ownerProfileChanged: changed };
      });
    },

    /** The owner's zone and the reminder policy, as stored now. */
    async ownerContext(ownerId: string): Promise<PlanningContext> {
      return contextFor(await ensureUser(orm.em.fork(), ownerId, undefined));
    },

    /** Saves a user's profile; returns whether their zone or locale changed. */
    async saveUserProfile({
      userId,
      profile,
      eventId,
    }: {
      userId: string;
      profile: OwnerProfile;
      eventId?: string;
    }): Promise<{ changed: boolean }> {
      const em = orm.em.fork();
      const changeKey = eventId && `user:${escapeKeyComponent(userId)}:${escapeKeyComponent(eventId)}`;
      return em.transactional(async (tx) => ({
        changed: (await applyProfile(tx, userId, profile, changeKey)).changed,
      }));
    },

    /**
     * Tells each open dossier of the owner (but one) that the profile changed, so that its
     * reminders move to the new zone: a signal each, SIGNAL_CONCURRENCY at a time. Idempotent (a
     * re-plan that finds nothing moved does nothing). Heartbeats the last dossier id done, and a
     * retry resumes after it: an owner with thousands of dossiers takes several heartbeats, never
     * a restart from the first.
     */
    async announceOwnerProfile({
      ownerId,
      exceptDossierId,
    }: {
      ownerId: string;
      exceptDossierId?: string;
    }): Promise<{ signalled: number }> {
      const em = orm.em.fork();
      const client = dossierClient();
      const details = activityInfo().heartbeatDetails as { after?: unknown; signalled?: unknown } | undefined;
      let signalled = typeof details?.signalled === 'number' ? details.signalled : 0;
      await forEachPage(
        (after) =>
          em.find(
            DossierSchema,
            { ownerId, status: 'open', id: { $gt: after } },
            { orderBy: { id: 'asc' }, limit: PAGE_SIZE, fields: ['id'] },
          ),
        {
          pageSize: PAGE_SIZE,
          from: typeof details?.after === 'string' ? details.after : '',
          onPage: async (page) => {
            // Ids the API would refuse (rows NormX wrote) cannot be signalled: skipped and logged,
            // as reconciliation does, instead of failing the whole announcement for ever.
            const ids = page
              .map(({ id }) => id)
              .filter((id) => id !== exceptDossierId && (isReconcilableId(id) || skipped(id)));
            await forEachInOrder(
              ids,
              SIGNAL_CONCURRENCY,
              (id) => client.ownerProfileChanged(id, ownerId),
              (count) => heartbeat({ after: ids[count - 1], signalled: signalled + count }),
            );
            signalled += ids.length;
          },
          onNext: (after) => {
            heartbeat({ after, signalled });
            em.clear();
          },
        },
      );
      return { signalled };
    },

    /**
     * Hands the announcement of a profile change to the user's workflow (`user:<ownerId>`), so
     * that the dossier that carried the change is not held while thousands of others are told.
     */
    async requestOwnerProfileAnnouncement({
      ownerId,
      exceptDossierId,
    }: {
      ownerId: string;
      exceptDossierId: string;
    }): Promise<void> {
      await dossierClient().announceUserProfileSaved(ownerId, exceptDossierId);
    },

    /** The database copy of a dossier, for a workflow started without its creating signal. */
    async loadDossier(
      dossierId: string,
    ): Promise<{ dossier: DossierSnapshot; context: PlanningContext } | null> {
      const em = orm.em.fork();
      const row = await em.findOne(DossierSchema, { id: dossierId });
      if (!row) return null;
      const owner = await ensureUser(em, row.ownerId, undefined);
      return { dossier: toSnapshot(row), context: contextFor(owner) };
    },

    /** Renders the notification in the user's language, stores it once and announces it. */
    async deliverNotification(request: NotificationRequest): Promise<StoredNotification | DossierChanged> {
      const em = orm.em.fork();
      const user = await ensureUser(em, request.userId, undefined);
      const { title, body } = renderNotification({
        type: request.type,
        kind: request.kind,
        locale: user.locale as Locale,
        timeZone: user.timezone,
        dossier: request.dossier,
        report: request.report,
        criticalDelay: config.reminderPolicy.criticalDelay,
      });
      const dossier = request.dossier;
      // The audit's restores say so themselves (and are counted there).
      const pastGrace = !request.late && (await reminderPastGrace(em, request, user));
      const draft = {
        idempotencyKey: request.idempotencyKey,
        userId: request.userId,
        type: request.type,
        kind: request.kind,
        dossierId: dossier?.id ?? null,
        title,
        body,
        data: {
          ...(dossier && {
            dossierTitle: dossier.title,
            ...deadlineOf(dossier),
            urgent: dossier.urgent,
          }),
          ...(request.report && { report: request.report }),
          ...((request.late || pastGrace) && { late: true }),
        },
        scheduledFor: request.scheduledFor ?? null,
      };
      const stored =
        request.whileDossierOpen && dossier
          ? await storeNotificationWhileDossierOpen(em, draft, {
              id: dossier.id,
              ...deadlineColumns(dossier),
            })
          : await storeNotification(em, draft);
      const labels = { type: request.type, kind: request.kind };
      if (stored.id === null) {
        log.info('Dossier closed or its deadline moved since: notification not stored', {
          userId: request.userId,
          dossierId: dossier?.id,
          idempotencyKey: request.idempotencyKey,
          ...labels,
        });
        return stored;
      }
      const facts = { notificationId: stored.id, userId: request.userId, dossierId: dossier?.id, ...labels };
      if (stored.created) {
        const lateMs = request.scheduledFor ? Date.now() - Date.parse(request.scheduledFor) : undefined;
        metrics?.stored(labels, lateMs);
        log.info('Notification stored and announced', { ...facts, ...(lateMs !== undefined && { lateMs }) });
        if (pastGrace) {
          metrics?.reminderMissed({ ...labels, outcome: 'sent_late' });
          log.warn('Reminder stored past its grace: marked late', { ...facts, lateMs });
        }
      } else {
        metrics?.duplicateSkipped(labels);
        log.info('Notification already stored: duplicate skipped', facts);
      }
      return stored;
    },
  };
}

/** A snapshot's values as the row's columns (the inverse of `toSnapshot`). */
/** The audit's record of a plan from scratch (domain/reminder-audit.ts): when, in which zone. */
const planStamp = (now: Date, context: PlanningContext) => ({
  plannedAt: now,
  plannedZone: context.timeZone,
});

function toColumns(dossier: DossierSnapshot) {
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
