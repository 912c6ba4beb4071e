import { randomUUID } from 'node:crypto';
import { mapBounded } from '../domain/bounded-concurrency.js';
import { dossierBatch, parse, type DossierInput } from './dossier-schemas.js';
import type { DossierCallResult } from './dossier-signal.js';

/** One dossier of an onboarding batch: sent, or not (retry it with the same `eventId`). */
export type BatchItemResult =
  | ({ id: string; sent: true } & DossierCallResult)
  | { id: string; sent: false; eventId: string; error: string };

/**
 * Onboarding: creates (or updates) up to BULK_MAX_DOSSIERS distinct dossiers with `upsert`,
 * `concurrency` calls at a time. The whole batch is validated first (a ValidationError names
 * `dossiers.<index>.<field>`; nothing is sent). Each dossier gets its event id before any is
 * sent, so that one not sent can be sent again with it, and stored once. After a call fails
 * (Temporal unreachable, a timeout) no further one is started: the rest come back not sent at
 * once, instead of each waiting out its own timeout.
 */
export async function sendBatch(
  inputs: DossierInput[],
  upsert: (input: DossierInput) => Promise<DossierCallResult>,
  { concurrency = 32 }: { concurrency?: number } = {},
): Promise<BatchItemResult[]> {
  const batch = parse(dossierBatch, inputs, 'dossiers').map((dossier) => ({
    ...dossier,
    eventId: dossier.eventId ?? randomUUID(),
  }));
  let failure: string | undefined;
  return mapBounded(batch, concurrency, async (dossier): Promise<BatchItemResult> => {
    const { id, eventId } = dossier;
    if (failure !== undefined) {
      return { id, sent: false, eventId, error: `not sent after an earlier failure: ${failure}` };
    }
    try {
      return { id, sent: true, ...(await upsert(dossier)) };
    } catch (error) {
      failure ??= String(error);
      return { id, sent: false, eventId, error: String(error) };
    }
  });
}
