import { LockMode } from '@mikro-orm/core';
import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { createDossierClient } from '../client/dossier-client.js';
import { plansFromScratch, type SaveRequest, type SaveResult } from '../domain/dossier-engine.js';
import { forEachInOrder, isReconcilableId } from '../domain/reconciliation.js';
import { forEachPage, PAGE_SIZE } from '../domain/keyset-pages.js';
import { escapeKeyComponent } from '../domain/idempotency-keys.js';
import { deadlineColumns, deadlineOf, type Deadline } from '../domain/deadline.js';
import type { NotificationType } from '../domain/notification-types.js';
import { DossierSchema } from '../db/entities.js';
import type {
  DossierSnapshot,
  Locale,
  OwnerProfile,
  PlanningContext,
} from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierRows, planStamp, toColumns, toSnapshot } from './dossier-rows.js';
import type { DailyReportContent } from '../domain/notification-texts-input.js';
import { renderNotification } from './notification-texts.js';
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
  /** A snoozed reminder coming again: the notification snoozed (`data.snoozedFrom`). */
  snoozedFrom?: string;
  /** Sent by the reminder audit after it was found missing: `data.late` tells the client. */
  late?: boolean;
  /**
   * Stored only while `dossier` is still open with this deadline (the audit's restores: a call the
   * run applied after answering the audit wins). Otherwise nothing is stored (`dossierChanged`).
   */
  whileDossierOpen?: boolean;
}

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

  const { applyProfile, ensureUser, contextFor, replanStamp, reminderPastGrace } = createDossierRows({
    config,
  });

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
          const context = contextFor(user, deadlineOf(dossier));
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
        const after = toSnapshot(row);
        const context = contextFor(rowOwner, deadlineOf(after));
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

    /**
     * The owner's zone, the reminder policy and the closed days around `deadline`, as stored now
     * (runs before business days called it without a deadline: no calendar).
     */
    async ownerContext(ownerId: string, deadline?: Deadline): Promise<PlanningContext> {
      return contextFor(await ensureUser(orm.em.fork(), ownerId, undefined), deadline);
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
      const dossier = toSnapshot(row);
      return { dossier, context: contextFor(owner, deadlineOf(dossier)) };
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
        ...(request.scheduledFor && { firesAt: request.scheduledFor }),
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
          ...(request.snoozedFrom && { snoozedFrom: request.snoozedFrom }),
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
      // Told apart by the field, not the id: a retired key has no id either, and is a duplicate.
      if ('dossierChanged' in stored) {
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
        log.info(
          'retired' in stored
            ? 'Notification removed by the retention earlier: its key is retired, not stored again'
            : 'Notification already stored: duplicate skipped',
          facts,
        );
      }
      return stored;
    },
  };
}

export { toSnapshot } from './dossier-rows.js';
