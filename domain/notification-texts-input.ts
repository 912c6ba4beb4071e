import type { DossierSnapshot, Locale } from './dossier.js';
import type { NotificationType } from './notification-types.js';

/**
 * What a notification's title and body are made of, whoever sends it (a dossier's workflow, the
 * periodic jobs, the audit): activities/notification-texts.ts renders them. No I/O.
 */

/** The lists of a user's daily report: open dossiers overdue, due today, urgent. */
export interface DailyReportContent {
  overdue: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
  dueToday: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
  urgent: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
}

export interface TextInput {
  type: NotificationType;
  kind: string;
  locale: Locale;
  timeZone: string;
  dossier?: DossierSnapshot;
  report?: DailyReportContent;
  /**
   * The policy's OVERDUE_CRITICAL_DELAY (ISO 8601 duration: P3D, PT36H, P1DT12H…), stated by the
   * `overdue_critical` text; DEFAULT_CRITICAL_DELAY (domain/reminder-plan.ts) when not given.
   */
  criticalDelay?: string;
  /**
   * When a deadline reminder comes (its planned instant): its words count the days left from it, so
   * that a j-1 moved from Sunday to Friday says "in 3 days", not "tomorrow". Absent: the kind's words.
   */
  firesAt?: string;
}
