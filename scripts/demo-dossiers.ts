import type { Client } from '@temporalio/client';
import { DateTime } from 'luxon';
import { createDossierClient } from '../client/dossier-client.js';
import type { Logger } from '../config/logger.js';

/**
 * `npm start`'s demo: three dossiers of the user `demo`, due today, tomorrow and two days ago,
 * so the bell shows their creation, the overdue alert at once, and J-1 / J-0 at 08:00.
 * Idempotent: the same ids each run, and an event id per (dossier, due date), so a restart on
 * the same day changes nothing; on a later day the dates move (a `rescheduled` notification).
 */
export async function createDemoDossiers(
  client: Client,
  { taskQueue, timeZone, logger }: { taskQueue: string; timeZone: string; logger: Logger },
): Promise<void> {
  const dossiers = createDossierClient(client, { taskQueue });
  const today = DateTime.now().setZone(timeZone).startOf('day');
  const demo = [
    { id: 'demo-due-today', title: 'Bilan 2026 SARL Dupont', dueDate: today },
    { id: 'demo-due-tomorrow', title: 'Liasse fiscale Martin & Fils', dueDate: today.plus({ days: 1 }) },
    { id: 'demo-overdue', title: 'TVA T1 Boulangerie Roux', dueDate: today.minus({ days: 2 }) },
  ];
  for (const { id, title, dueDate } of demo) {
    const date = dueDate.toISODate()!;
    await dossiers.create({ id, title, ownerId: 'demo', dueDate: date, eventId: `${id}@${date}` });
  }
  logger.info({ dossiers: demo.map(({ id }) => id) }, 'Demo dossiers of user "demo" are up to date');
}
