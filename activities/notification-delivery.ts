import { log } from '@temporalio/activity';
import { DateTime } from 'luxon';
import { deadlineColumns, deadlineOf } from '../domain/deadline.js';
import type { NotificationType } from '../domain/notification-types.js';
import { deliveryOf } from '../domain/preferences.js';
import type { DailyReportContent } from '../domain/notification-texts-input.js';
import type { DossierSnapshot, Locale } from '../workflows/dossier-messages.js';
import type { ActivityDependencies } from './dependencies.js';
import type { createDeliveryRecipient } from './delivery-recipient.js';
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

/**
 * The activity that delivers: renders a notification in its user's language, stores it once and
 * announces it (activities/notification-store.ts), then logs and counts what happened. Apart from
 * the dossier's rows (activities/dossier-activities.ts): the engine, the daily report and the
 * audit's restores all deliver through it; what it reads about the recipient comes from
 * activities/delivery-recipient.ts, in one statement.
 */
export function createNotificationDelivery(
  { orm, config, metrics, announced }: Pick<ActivityDependencies, 'orm' | 'config' | 'metrics' | 'announced'>,
  { recipientOf }: ReturnType<typeof createDeliveryRecipient>,
) {
  return {
    /** Renders the notification in the user's language, stores it once and announces it. */
    async deliverNotification(request: NotificationRequest): Promise<StoredNotification | DossierChanged> {
      const em = orm.em.fork();
      const { user, preferences, pastGrace: owedPastGrace } = await recipientOf(em, request);
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
      const pastGrace = !request.late && owedPastGrace;
      // The user's preferences as they are now, in their zone's clock (quiet hours). A retry may
      // read newer ones: the first insert wins, the key keeps it once.
      // A zone NormX wrote that luxon does not know reads as the service's, as planning does.
      const zoned = DateTime.now().setZone(user.timezone);
      const local = zoned.isValid ? zoned : DateTime.now().setZone(config.defaults.timeZone);
      const delivery = deliveryOf(preferences, request.kind, local.hour * 60 + local.minute);
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
          ...(!delivery.popup && { popup: false, silencedBy: delivery.silencedBy }),
        },
        scheduledFor: request.scheduledFor ?? null,
        // Out of the bell by the user's choice: stored archived (the Archives view), never lost.
        archived: !delivery.bell,
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
        // Committed already (the store is one statement outside any transaction). A broken
        // announce must not fail a delivery that is stored: the next poll brings it.
        try {
          announced?.(request.userId);
        } catch (error) {
          log.warn('In-process announce failed: the next poll delivers it', { ...facts, err: error });
        }
        log.info('Notification stored and announced', {
          ...facts,
          ...(lateMs !== undefined && { lateMs }),
          ...(!delivery.bell && { archived: true }),
          ...(!delivery.popup && { silencedBy: delivery.silencedBy }),
        });
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
