import { createDeliveryRecipient } from './delivery-recipient.js';
import { LockMode } from '@mikro-orm/core';
import { plansFromScratch, type SaveRequest, type SaveResult } from '../domain/dossier-engine.js';
import { profileChangeKey } from '../domain/idempotency-keys.js';
import { deadlineOf, type Deadline } from '../domain/deadline.js';
import { DossierSchema } from '../db/entities.js';
import type { DossierSnapshot, OwnerProfile, PlanningContext } from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierRows, planStamp, toColumns, toSnapshot } from './dossier-rows.js';
import { createNotificationDelivery } from './notification-delivery.js';
import { createProfileActivities } from './profile-activities.js';

/**
 * Activities of the dossier workflow: its database copy (save, load, the owner's planning
 * context) here; its owner's profile (activities/profile-activities.ts) and its notifications
 * (activities/notification-delivery.ts) in modules of their own, composed below under the same
 * names, which the worker registers and the workflows call.
 */
export function createDossierActivities(deps: ActivityDependencies) {
  const { orm, config } = deps;
  // One set of row helpers (and so one holiday catalog) for all the dossier's activities, as before the split.
  const rows = createDossierRows({ config });
  const { applyProfile, ensureUser, contextFor, replanStamp } = rows;

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
        const changeKey = eventId && profileChangeKey.ofDossierCall(dossier.id, eventId);
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

    ...createProfileActivities(deps, rows),
    ...createNotificationDelivery(deps, createDeliveryRecipient(deps, rows)),
  };
}

export type { NotificationRequest } from './notification-delivery.js';
export { toSnapshot } from './dossier-rows.js';
