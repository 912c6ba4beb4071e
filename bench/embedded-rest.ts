import { mapBounded } from '../domain/bounded-concurrency.js';
import type { EmbeddedService } from './embedded-process.js';

/**
 * What bench/herd-embedded.ts asks of the service over REST, as an integrating backend and its
 * users would (the bench opens no connection to PGlite, a single session): dossiers in bulk with
 * the service token, and each owner's notifications with the owner's token.
 */

export interface BulkDossier {
  id: string;
  title: string;
  ownerId: string;
  dueDate?: string;
  dueAt?: string;
}

/** POST /api/v1/dossiers/bulk; throws on a status other than 202, or if a dossier was not sent. */
export async function createBulk(service: EmbeddedService, dossiers: BulkDossier[]): Promise<void> {
  const response = await fetch(`${service.serverUrl}/api/v1/dossiers/bulk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.serviceToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ dossiers }),
    signal: AbortSignal.timeout(300_000),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`bulk: ${response.status} ${text.slice(0, 300)}`);
  const { results } = JSON.parse(text) as { results: Array<{ id: string; sent: boolean; error?: string }> };
  const unsent = results.filter((result) => !result.sent);
  if (unsent.length > 0)
    throw new Error(`bulk: ${unsent.length}/${dossiers.length} not sent (${unsent[0]!.error ?? 'no error'})`);
}

export interface ListedNotification {
  id: string;
  userId: string;
  kind: string;
  dossierId: string | null;
  createdAt: string;
}

/**
 * Every notification of each owner (GET /api/v1/users/me/notifications with the owner's token,
 * 200 a page, newest first, paged by `nextCursor`), `concurrency` owners at a time. Returns them
 * with the number of requests made.
 */
export async function listOwnersNotifications(
  service: EmbeddedService,
  owners: string[],
  concurrency = 4,
): Promise<{ items: ListedNotification[]; requests: number }> {
  const items: ListedNotification[] = [];
  let requests = 0;
  await mapBounded(owners, concurrency, async (owner) => {
    const token = await service.userToken(owner);
    let before: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '200', ...(before && { before }) });
      const response = await fetch(`${service.serverUrl}/api/v1/users/me/notifications?${query}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(60_000),
      });
      requests += 1;
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`list of ${owner}: ${response.status} ${text.slice(0, 200)}`);
      const page = JSON.parse(text) as { items: ListedNotification[]; nextCursor: string | null };
      items.push(...page.items);
      before = page.nextCursor;
    } while (before);
  });
  return { items, requests };
}
