import type { Client } from '@temporalio/client';
import type { TemplatedApp } from 'uWebSockets.js';
import { createDossierClient } from '../../client/dossier-client.js';
import type { Logger } from '../../config/logger.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { NotificationHub } from '../hub/notification-hub.js';
import type { ServerMetrics } from '../metrics.js';
import type { NotificationQueries } from '../notifications/notification-queries.js';
import type { PreferenceQueries } from '../notifications/preference-queries.js';
import { registerDossierRoutes } from './dossier-routes.js';
import { openApiDocument } from './openapi.js';
import { restKit } from './rest-kit.js';
import { registerUserRoutes } from './user-routes.js';
import { registerSnoozeRoutes } from './snooze-routes.js';
import { registerPreferenceRoutes } from './preference-routes.js';

import type { InFlight } from '../in-flight.js';

export interface RestDependencies {
  verifier: TokenVerifier;
  queries: NotificationQueries;
  preferences: PreferenceQueries;
  /** The reminder policy's default hour and offsets, as the preferences show them. */
  reminders: { defaultReminderTime: string; offsetsDays: number[] };
  hub: NotificationHub;
  metrics: ServerMetrics;
  temporal: { client: Client; taskQueue: string };
  logger: Logger;
  /** Requests under way, for shutdown: answered before it resolves, refused after it starts. */
  inFlight: InFlight;
}

/**
 * The REST API, in this order: a user's own notifications (user-routes.ts: the page, the unread
 * count, read, read-all); the service token's calls (dossier-routes.ts: /api/v1/dossiers,
 * /api/v1/dossiers/bulk, a dossier's events and plan, a user's profile); snoozes (snooze-routes.ts);
 * a user's preferences, for the user or the service (preference-routes.ts); the OpenAPI document.
 * Both share rest-kit.ts: the token's checks and the one error mapper (client-errors.ts).
 */
export function registerRestRoutes(app: TemplatedApp, deps: RestDependencies): void {
  const kit = restKit(app, deps);
  registerUserRoutes(kit, deps.queries);
  const dossiers = createDossierClient(deps.temporal.client, { taskQueue: deps.temporal.taskQueue });
  registerDossierRoutes(kit, dossiers, deps.logger);
  registerSnoozeRoutes(kit, deps.queries, dossiers);
  registerPreferenceRoutes(kit, { queries: deps.preferences, dossiers, reminders: deps.reminders });
  kit.route('get', '/api/v1/openapi.json', async () => ({ status: 200, body: openApiDocument() }));
}
