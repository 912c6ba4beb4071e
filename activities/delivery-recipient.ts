import type { EntityManager } from '@mikro-orm/postgresql';
import { Duration } from 'luxon';
import { preferencesFrom, type NotificationPreferences } from '../domain/preferences.js';
import { isPastGrace, owedSince } from '../domain/reminder-audit.js';
import type { User } from '../db/entities.js';
import type { ActivityDependencies } from './dependencies.js';
import type { NotificationRequest } from './dossier-activities.js';
import type { createDossierRows } from './dossier-rows.js';

/** A delivery's reads about its recipient, built from the configuration and the dossier rows' `ensureUser`. */
export function createDeliveryRecipient(
  { config }: Pick<ActivityDependencies, 'config'>,
  { ensureUser }: Pick<ReturnType<typeof createDossierRows>, 'ensureUser'>,
) {
  const graceMs = Duration.fromISO(config.reminderAudit.grace).toMillis();

  /**
   * What a delivery reads, in one statement (the herd's path: one round trip, not three): its
   * recipient (created with the defaults if new), their notification preferences, and whether a
   * reminder comes past its grace (domain/reminder-audit.ts, `isPastGrace`): owed from its instant,
   * the plan that armed it or the last write that could re-plan it, whichever is last.
   */
  async function recipientOf(
    em: EntityManager,
    request: Pick<NotificationRequest, 'userId' | 'dossier' | 'scheduledFor'>,
  ): Promise<{
    user: Pick<User, 'locale' | 'timezone'>;
    preferences: NotificationPreferences;
    pastGrace: boolean;
  }> {
    const [row] = await em.execute<RecipientRow[]>(
      // Instants as epoch milliseconds: a timestamp's text depends on the session's zone, and
      // offsets below the minute (Paris before 1911) are no Date.parse input.
      `select u.locale, u.timezone,
              extract(epoch from coalesce(u.zone_changed_at, u.updated_at)) * 1000 as zone_changed_ms,
              p.user_id is not null as has_preferences, p.kinds, p.quiet_hours,
              extract(epoch from d.planned_at) * 1000 as planned_ms,
              extract(epoch from coalesce(d.replanned_at, d.updated_at)) * 1000 as replanned_ms
         from (select ?::text as user_id, ?::text as dossier_id) k
         left join users u on u.id = k.user_id
         left join notification_preferences p on p.user_id = k.user_id
         left join dossiers d on d.id = k.dossier_id`,
      [request.userId, request.dossier?.id ?? null],
    );
    const preferences = preferencesFrom(
      row?.has_preferences ? { kinds: row.kinds, quietHours: row.quiet_hours } : undefined,
    );
    // A recipient with no row yet (a user NormX never described): created with the defaults.
    const created = row?.locale == null ? await ensureUser(em, request.userId, undefined) : undefined;
    const user = created ?? { locale: row!.locale!, timezone: row!.timezone! };
    const zoneChangedMs = created
      ? (created.zoneChangedAt ?? created.updatedAt).getTime()
      : Number(row!.zone_changed_ms);
    const pastGrace =
      Boolean(request.scheduledFor && request.dossier) &&
      row?.planned_ms != null &&
      isPastGrace(
        owedSince(
          Date.parse(request.scheduledFor!),
          { plannedAt: Number(row.planned_ms), replannedAt: Number(row.replanned_ms) },
          { zoneChangedAt: zoneChangedMs },
        ),
        Date.now(),
        graceMs,
      );
    return { user: { locale: user.locale, timezone: user.timezone }, preferences, pastGrace };
  }

  return { recipientOf };
}

/** The row `recipientOf` reads. */
interface RecipientRow {
  locale: string | null;
  timezone: string | null;
  /** Numerics: pg gives them as text. */
  zone_changed_ms: string | null;
  has_preferences: boolean;
  kinds: unknown;
  quiet_hours: unknown;
  planned_ms: string | null;
  replanned_ms: string | null;
}
