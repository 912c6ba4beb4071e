import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DossierSchema, NotificationSchema, UserSchema, type Dossier, type User } from '../db/entities.js';
import { createDossierClient, DOSSIER_WORKFLOW_TYPE } from '../client/dossier-client.js';
import { dueZones, type DailyReportRule, type DueZone } from '../domain/daily-report.js';
import {
  forEachInOrder,
  isReconcilableId,
  resumeFrom,
  runningWorkflowsQuery,
} from '../domain/reconciliation.js';
import { dossierWorkflowId } from '../workflows/dossier-messages.js';
import { dailyReportKey, urgentAlertKey } from '../domain/idempotency-keys.js';
import { forEachPage, PAGE_SIZE } from '../domain/keyset-pages.js';
import type { DailyReportContent } from '../domain/notification-texts-input.js';
import { localDueDate, overdueInstant } from '../domain/reminder-plan.js';
import type { ActivityDependencies } from './dependencies.js';
import { createDossierActivities, toSnapshot } from './dossier-activities.js';

/**
 * Missing workflows started at once by reconciliation: enough to start thousands a minute after
 * an outage, few enough not to flood the frontend (each start is one signal-with-start).
 */
const RECONCILE_CONCURRENCY = 16;

export interface PeriodicJobOptions {
  /** Rows per page (users, dossiers): 500 unless a test wants several pages of a few rows. */
  pageSize?: number;
  reconcileConcurrency?: number;
}

/**
 * Of a page of urgent dossiers, those whose current owner already had an `urgent` alert for the
 * dossier since `urgent_since` (under any key shape): one query per page, on the partial index
 * `notifications_urgent_dossier_index`.
 */
async function ownersAlerted(em: EntityManager, page: Dossier[]): Promise<Set<string>> {
  if (page.length === 0) return new Set();
  const rows = await em.execute<Array<{ id: string }>>(
    `select p.id from jsonb_to_recordset(?::jsonb) as p (id text, owner_id text, since timestamptz)
      where exists (select 1 from notifications n
                     where n.kind = 'urgent' and n.dossier_id = p.id and n.user_id = p.owner_id
                       and n.created_at >= p.since)`,
    // One JSON parameter: the query builder would expand array parameters into lists.
    [JSON.stringify(page.map((row) => ({ id: row.id, owner_id: row.ownerId, since: row.urgentSince })))],
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * The distinct zones of the users: a walk of the `users (timezone, id)` index, one probe per
 * zone (a few hundred at most), not a scan of every user.
 */
async function userZones(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<Array<{ timezone: string }>>(
    `with recursive zones as (
       (select timezone from users order by timezone limit 1)
       union all
       select (select u.timezone from users u where u.timezone > zones.timezone order by u.timezone limit 1)
         from zones where zones.timezone is not null
     )
     select timezone from zones where timezone is not null`,
  );
  return rows.map((row) => row.timezone);
}

/** Activities behind the Temporal Schedules: hourly urgent check and reconciliation, daily report. */
export function createPeriodicJobActivities(deps: ActivityDependencies, options: PeriodicJobOptions = {}) {
  const { orm, temporal, config } = deps;
  const { pageSize = PAGE_SIZE, reconcileConcurrency = RECONCILE_CONCURRENCY } = options;
  const { deliverNotification } = createDossierActivities(deps);
  const dossiers = createDossierClient(temporal.client, { taskQueue: temporal.taskQueue });

  /** Which of these dossiers' workflows visibility lists as running: one query. */
  async function runningAmong(dossierIds: string[]): Promise<Set<string>> {
    const running = new Set<string>();
    if (dossierIds.length === 0) return running;
    const byWorkflowId = new Map(dossierIds.map((id) => [dossierWorkflowId(id), id]));
    const query = runningWorkflowsQuery(DOSSIER_WORKFLOW_TYPE, [...byWorkflowId.keys()]);
    for await (const execution of temporal.client.workflow.list({ query, pageSize: dossierIds.length })) {
      const id = byWorkflowId.get(execution.workflowId);
      if (id !== undefined) running.add(id);
    }
    return running;
  }

  /** Reports of one page of users of a zone due; those already stored (an earlier run) are skipped. */
  async function reportToUsers(em: EntityManager, users: User[], zone: DueZone, now: Date): Promise<number> {
    const keyOf = (user: User) => dailyReportKey(user.id, zone.localDate);
    const stored = await em.find(
      NotificationSchema,
      { idempotencyKey: { $in: users.map(keyOf) } },
      { fields: ['idempotencyKey'] },
    );
    const done = new Set(stored.map((row) => row.idempotencyKey));
    const owners = users.filter((user) => !done.has(keyOf(user)));
    if (owners.length === 0) return 0;
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
    const instant = DateTime.fromJSDate(now);
    let sent = 0;
    for (const owner of owners) {
      const report: DailyReportContent = { overdue: [], dueToday: [], urgent: [] };
      for (const row of openByOwner.get(owner.id) ?? []) {
        const dossier = toSnapshot(row);
        const item = { id: dossier.id, title: dossier.title };
        // The report's date is the local date it is for, even when a late run is past midnight.
        if (overdueInstant(dossier, zone.effectiveZone) <= instant) report.overdue.push(item);
        else if (localDueDate(dossier, zone.effectiveZone).toISODate() === zone.localDate) {
          report.dueToday.push(item);
        }
        if (dossier.urgent) report.urgent.push(item);
      }
      if (report.overdue.length + report.dueToday.length + report.urgent.length === 0) continue;
      const stored = await deliverNotification({
        idempotencyKey: keyOf(owner),
        userId: owner.id,
        type: 'daily_report',
        kind: 'report',
        report,
      });
      if (stored.created) sent += 1;
    }
    return sent;
  }

  return {
    /**
     * Urgent open dossiers whose current owner has not had an `urgent` alert for the dossier since
     * it became urgent get one: a dossier reassigned while urgent alerts its new owner, once. A
     * flag set outside the API has no `urgent_since` yet: it is stamped now. The alert's key is
     * the workflow's (dossier, urgent_since, owner). Keys stored before the owner joined the key
     * (`urgent:<id>:<urgent_since>`) cannot tell whom they alerted: an `urgent` notification
     * stored for the owner and the dossier at or after `urgent_since` counts as the alert, so
     * the upgrade does not alert every urgent dossier a second time.
     */
    async alertUrgentDossiers({ at }: { at: string }): Promise<{ alerted: number }> {
      const em = orm.em.fork();
      await em.nativeUpdate(
        DossierSchema,
        { status: 'open', urgent: true, urgentSince: null },
        { urgentSince: new Date(at) },
      );
      let alerted = 0;
      await forEachPage(
        (after) =>
          em.find(
            DossierSchema,
            { status: 'open', urgent: true, id: { $gt: after } },
            { orderBy: { id: 'asc' }, limit: pageSize },
          ),
        {
          pageSize,
          onPage: async (page) => {
            const already = await ownersAlerted(em, page);
            for (const row of page) {
              if (already.has(row.id)) continue;
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
          },
          onNext: () => em.clear(),
        },
      );
      log.info('Urgent check done', { alerted });
      return { alerted };
    },

    /**
     * Every open dossier in the database has its workflow running; a missing one is started.
     * Page by page in id order: one visibility query for the page's workflows, the missing ones
     * started a few at a time, and the last id done heartbeated with the counts so far. A retry
     * (worker lost, heartbeat timeout) resumes after that id instead of starting over. Memory is
     * one page, whatever the number of dossiers.
     */
    async reconcileDossierWorkflows(): Promise<{ checked: number; started: number; skipped: number }> {
      let progress = resumeFrom(activityInfo().heartbeatDetails);
      if (progress.after !== '') log.info('Reconciliation resumed', { ...progress });
      const em = orm.em.fork();
      await forEachPage(
        async (after) => {
          const rows = await em.find(
            DossierSchema,
            { status: 'open', id: { $gt: after } },
            { orderBy: { id: 'asc' }, limit: pageSize, fields: ['id'] },
          );
          em.clear();
          return rows;
        },
        {
          pageSize,
          from: progress.after,
          onPage: async (rows) => {
            const page = rows.map((row) => row.id);
            const running = await runningAmong(page.filter(isReconcilableId));
            await forEachInOrder(
              page,
              reconcileConcurrency,
              async (id): Promise<'running' | 'started' | 'skipped'> => {
                if (running.has(id)) return 'running';
                if (!isReconcilableId(id)) {
                  log.error('Open dossier with an id the API refuses: its workflow cannot be started', {
                    dossierId: id,
                  });
                  return 'skipped';
                }
                // Signal-with-start: if it started meanwhile, this only signals a no-op.
                await dossiers.sync(id);
                log.warn('Dossier workflow was missing: started', { dossierId: id });
                return 'started';
              },
              (count, outcomes) => {
                progress = {
                  after: page[count - 1]!,
                  checked: progress.checked + outcomes.length,
                  started: progress.started + outcomes.filter((outcome) => outcome === 'started').length,
                  skipped: progress.skipped + outcomes.filter((outcome) => outcome === 'skipped').length,
                };
                heartbeat(progress);
              },
            );
          },
        },
      );
      const { checked, started, skipped } = progress;
      log.info('Reconciliation done', { checked, started, skipped });
      return { checked, started, skipped };
    },

    /**
     * Run every 15 minutes: the users whose local report time has come (in their own zone, see
     * domain/daily-report.ts) and who have open dossiers overdue, due today or urgent get one
     * `daily_report` for that local date. Only the users of the zones due are read.
     */
    async sendDailyReports({ at, rule }: { at: string; rule?: DailyReportRule }): Promise<{ sent: number }> {
      if (!rule) {
        // A run of the 18:00 schedule of an earlier version, started before start-up updated it:
        // the next run, at most 15 minutes later, carries the rule and is within its window.
        log.warn('Daily report run without its rule (schedule not yet updated): skipped');
        return { sent: 0 };
      }
      const em = orm.em.fork();
      const now = new Date(at);
      const due = dueZones(await userZones(em), now, rule, config.defaults.timeZone);
      for (const zone of due) {
        if (zone.zone !== zone.effectiveZone) {
          log.warn('Users with an unknown time zone get the report in the default zone', zone);
        }
      }
      let sent = 0;
      for (const zone of due) {
        await forEachPage(
          (after) =>
            em.find(
              UserSchema,
              { timezone: zone.zone, id: { $gt: after } },
              { orderBy: { id: 'asc' }, limit: pageSize },
            ),
          {
            pageSize,
            onPage: async (users) => {
              sent += await reportToUsers(em, users, zone, now);
              heartbeat();
            },
            onNext: () => em.clear(),
          },
        );
      }
      log.info('Daily reports sent', {
        sent,
        zones: due.map(({ zone, localDate }) => `${zone} ${localDate}`),
      });
      return { sent };
    },
  };
}
