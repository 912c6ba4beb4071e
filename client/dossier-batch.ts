import { randomUUID } from 'node:crypto';
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
  const results: BatchItemResult[] = new Array(batch.length);
  let failure: string | undefined;
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < batch.length; index = next++) {
      const { id, eventId } = batch[index]!;
      if (failure !== undefined) {
        results[index] = {
          id,
          sent: false,
          eventId,
          error: `not sent after an earlier failure: ${failure}`,
        };
        continue;
      }
      try {
        results[index] = { id, sent: true, ...(await upsert(batch[index]!)) };
      } catch (error) {
        failure ??= String(error);
        results[index] = { id, sent: false, eventId, error: String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batch.length)) }, lane));
  return results;
}
