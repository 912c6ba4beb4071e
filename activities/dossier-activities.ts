import type { EntityManager } from '@mikro-orm/postgresql';
import { log } from '@temporalio/activity';
import { DossierSchema, UserSchema, type Dossier, type User } from '../db/entities.js';
import type {
  DossierSnapshot,
  Locale,
  OwnerProfile,
  PlanningContext,
} from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import { renderNotification, type DailyReportContent } from './notification-texts.js';
import { storeNotification, type StoredNotification } from './notification-store.js';

export interface NotificationRequest {
  idempotencyKey: string;
  userId: string;
  type: 'dossier_update' | 'new_alert' | 'deadline_reminder' | 'daily_report';
  kind: string;
  dossier?: DossierSnapshot;
  report?: DailyReportContent;
  /** The instant a reminder was planned for. */
  scheduledFor?: string;
}

/** Activities of the dossier workflow: its database copy and its notifications. */
export function createDossierActivities({ orm, config, metrics }: ActivityDependencies) {
  /** Makes sure the owner exists, applying the profile fields sent with the dossier. */
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
    return em.upsert(UserSchema, {
      id: userId,
      name: existing?.name ?? '',
      locale: existing?.locale ?? config.defaults.locale,
      timezone: existing?.timezone ?? config.defaults.timeZone,
      ...changes,
      updatedAt: new Date(),
    });
  }

  const contextFor = (owner: User): PlanningContext => ({
    timeZone: owner.timezone,
    policy: config.reminderPolicy,
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
        await tx.upsert(DossierSchema, {
          id: dossier.id,
          title: dossier.title,
          ownerId: dossier.ownerId,
          dueDate: dossier.dueDate ?? null,
          dueAt: dossier.dueAt ? new Date(dossier.dueAt) : null,
          urgent: dossier.urgent,
          urgentSince: dossier.urgentSince ? new Date(dossier.urgentSince) : null,
          status: dossier.status,
          updatedAt: new Date(),
        });
        return contextFor(user);
      });
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
    async deliverNotification(request: NotificationRequest): Promise<StoredNotification> {
      const em = orm.em.fork();
      const user = await ensureUser(em, request.userId, undefined);
      const { title, body } = renderNotification({
        type: request.type,
        kind: request.kind,
        locale: user.locale as Locale,
        timeZone: user.timezone,
        dossier: request.dossier,
        report: request.report,
      });
      const dossier = request.dossier;
      const stored = await storeNotification(em, {
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
            ...(dossier.dueDate !== undefined ? { dueDate: dossier.dueDate } : { dueAt: dossier.dueAt }),
            urgent: dossier.urgent,
          }),
          ...(request.report && { report: request.report }),
        },
        scheduledFor: request.scheduledFor ?? null,
      });
      const labels = { type: request.type, kind: request.kind };
      const facts = { notificationId: stored.id, userId: request.userId, dossierId: dossier?.id, ...labels };
      if (stored.created) {
        const lateMs = request.scheduledFor ? Date.now() - Date.parse(request.scheduledFor) : undefined;
        metrics?.stored(labels, lateMs);
        log.info('Notification stored and announced', { ...facts, ...(lateMs !== undefined && { lateMs }) });
      } else {
        metrics?.duplicateSkipped(labels);
        log.info('Notification already stored: duplicate skipped', facts);
      }
      return stored;
    },
  };
}

export function toSnapshot(row: Dossier): DossierSnapshot {
  const deadline = row.dueAt ? { dueAt: row.dueAt.toISOString() } : { dueDate: row.dueDate! };
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
