// What a life's workflows stored: the dossier's notifications, reminders timed by their runs' plans.
import type { Client } from '@temporalio/client';
import { reminderPlanQuery } from '../../workflows/dossier-messages.js';
import type { TestDatabase } from '../support/database.js';
import type { Delivery } from './life.js';

/** A notification stored for the dossier; `at`: when the workflow sent it (reminders only). */
export interface ObservedDelivery {
  userId: string;
  type: Delivery['type'];
  kind: string;
  /** Workflow clock (the plan's `sentAt`), for reminders; notices and urgent alerts have none. */
  at?: number;
}

export const isReminder = (d: { type: string; kind: string }): boolean =>
  d.type === 'deadline_reminder' || (d.type === 'new_alert' && d.kind !== 'urgent');

/** The dossier's notifications, in order; each reminder at the instant its first run's plan says. */
export async function storedDeliveries(
  client: Client,
  db: TestDatabase,
  workflowId: string,
  dossierId: string,
  runIds: Iterable<string>,
): Promise<ObservedDelivery[]> {
  // Reminders: their workflow-clock instant, from the plan of the run that stored them first.
  const sentAt = new Map<string, number>();
  for (const runId of runIds) {
    const plan = await client.workflow
      .getHandle(workflowId, runId)
      .query(reminderPlanQuery)
      .catch((error: Error) => {
        // A run that ended without a create (unknown dossier) has no plan.
        if (/not loaded yet/.test(error.message)) return undefined;
        throw error;
      });
    for (const sent of plan?.sent ?? []) {
      const ms = Date.parse(sent.sentAt);
      sentAt.set(sent.idempotencyKey, Math.min(ms, sentAt.get(sent.idempotencyKey) ?? ms));
    }
  }
  const rows = await db.query<{
    user_id: string;
    type: Delivery['type'];
    kind: string;
    idempotency_key: string;
  }>('select user_id, type, kind, idempotency_key from notifications where dossier_id = $1 order by id', [
    dossierId,
  ]);
  return rows.map((row): ObservedDelivery => {
    const delivery = { userId: row.user_id, type: row.type, kind: row.kind };
    if (!isReminder(delivery)) return delivery;
    const at = sentAt.get(row.idempotency_key);
    if (at === undefined) throw new Error(`no run's plan shows when ${row.idempotency_key} was sent`);
    return { ...delivery, at };
  });
}
