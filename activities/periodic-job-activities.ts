import { heartbeat, log } from '@temporalio/activity';
import { DateTime } from 'luxon';
import { DossierSchema, UserSchema, type Dossier } from '../db/entities.js';
import { createDossierClient } from '../client/dossier-client.js';
import { dailyReportKey, urgentAlertKey } from '../workflows/idempotency-keys.js';
import { localDueDate, overdueInstant } from '../workflows/reminder-plan.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities, toSnapshot } from './dossier-activities.js';
import type { DailyReportContent } from './notification-texts.js';

const PAGE_SIZE = 500;

/** Activities behind the Temporal Schedules: hourly urgent check and reconciliation, 18:00 report. */
export function createPeriodicJobActivities(deps: ActivityDependencies) {
  const { orm, temporal } = deps;
  const { deliverNotification } = createDossierActivities(deps);
  const dossiers = createDossierClient(temporal.client, { taskQueue: temporal.taskQueue });

  return {
    /**
     * Urgent open dossiers whose owner has not had an `urgent` alert since the dossier became
     * urgent get one. A flag set outside the API has no `urgent_since` yet: it is stamped now.
     * The alert's key is derived from `urgent_since`, as the workflow does, so each gets one.
     */
    async alertUrgentDossiers({ at }: { at: string }): Promise<{ alerted: number }> {
      const em = orm.em.fork();
      await em.nativeUpdate(
        DossierSchema,
        { status: 'open', urgent: true, urgentSince: null },
        { urgentSince: new Date(at) },
      );
      let alerted = 0;
      let after = '';
      for (;;) {
        const page = await em.find(
          DossierSchema,
          { status: 'open', urgent: true, id: { $gt: after } },
          { orderBy: { id: 'asc' }, limit: PAGE_SIZE },
        );
        for (const row of page) {
          const dossier = toSnapshot(row);
          const stored = await deliverNotification({
            idempotencyKey: urgentAlertKey(dossier.id, dossier.urgentSince!, dossier.ownerId),
            userId: dossier.ownerId,
            type: 'new_alert',
            kind: 'urgent',
            dossier,
          });
          if (stored.created) alerted += 1;
        }
        heartbeat();
        if (page.length < PAGE_SIZE) break;
        after = page[page.length - 1]!.id;
        em.clear();
      }
      log.info('Urgent check done', { alerted });
      return { alerted };
    },

    /** Every open dossier in the database has its workflow running; a missing one is started. */
    async reconcileDossierWorkflows(): Promise<{ checked: number; started: number }> {
      const running = await dossiers.runningDossierIds();
      const em = orm.em.fork();
      let checked = 0;
      let started = 0;
      let after = '';
      for (;;) {
        const page = await em.find(
          DossierSchema,
          { status: 'open', id: { $gt: after } },
          { orderBy: { id: 'asc' }, limit: PAGE_SIZE, fields: ['id'] },
        );
        for (const { id } of page) {
          checked += 1;
          if (running.has(id)) continue;
          // Signal-with-start: if it started meanwhile, this only signals a no-op.
          await dossiers.sync(id);
          started += 1;
          log.warn('Dossier workflow was missing: started', { dossierId: id });
        }
        heartbeat({ checked });
        if (page.length < PAGE_SIZE) break;
        after = page[page.length - 1]!.id;
        em.clear();
      }
      return { checked, started };
    },

    /** One `daily_report` per user with open dossiers overdue, due today or urgent, per local date. */
    async sendDailyReports({ at }: { at: string }): Promise<{ sent: number }> {
      const em = orm.em.fork();
      const now = DateTime.fromISO(at);
      let sent = 0;
      let after = '';
      for (;;) {
        const owners = await em.find(
          UserSchema,
          { id: { $gt: after } },
          { orderBy: { id: 'asc' }, limit: PAGE_SIZE },
        );
        // One read of the page's open dossiers, grouped by owner.
        const openByOwner = new Map<string, Dossier[]>();
        const openDossiers = await em.find(
          DossierSchema,
          { ownerId: { $in: owners.map((owner) => owner.id) }, status: 'open' },
          { orderBy: { id: 'asc' } },
        );
        for (const row of openDossiers) {
          const list = openByOwner.get(row.ownerId);
          if (list) list.push(row);
          else openByOwner.set(row.ownerId, [row]);
        }
        for (const owner of owners) {
          const open = openByOwner.get(owner.id) ?? [];
          const today = now.setZone(owner.timezone).toISODate()!;
          const report: DailyReportContent = { overdue: [], dueToday: [], urgent: [] };
          for (const row of open) {
            const dossier = toSnapshot(row);
            const item = { id: dossier.id, title: dossier.title };
            if (overdueInstant(dossier, owner.timezone) <= now) report.overdue.push(item);
            else if (localDueDate(dossier, owner.timezone).toISODate() === today) report.dueToday.push(item);
            if (dossier.urgent) report.urgent.push(item);
          }
          if (report.overdue.length + report.dueToday.length + report.urgent.length === 0) continue;
          const stored = await deliverNotification({
            idempotencyKey: dailyReportKey(owner.id, today),
            userId: owner.id,
            type: 'daily_report',
            kind: 'report',
            report,
          });
          if (stored.created) sent += 1;
        }
        heartbeat();
        if (owners.length < PAGE_SIZE) break;
        after = owners[owners.length - 1]!.id;
        em.clear();
      }
      log.info('Daily reports sent', { sent });
      return { sent };
    },
  };
}
