import { DateTime } from 'luxon';
import { PARIS } from './dossier-lives.js';
import type { EngineAndServer } from './engine-and-server.js';
import { httpRequest, type ServerHarness } from './notify-server.js';

/** What the preferences tests share (test/integration/preferences*.test.ts): the REST call, the rows, the real clock. */

export interface PreferencesJson {
  kinds: Array<{ kind: string; bell: boolean; popup: boolean; mutable: boolean }>;
  quietHours: { from: string; to: string } | null;
  reminderTime: string | null;
  defaultReminderTime: string;
  error?: { code: string; issues?: Array<{ field: string }> };
}

/** `PUT …/preferences` as the user (`me`), or as the service (the user's id), on the stack's server or another. */
export function preferencesCalls(stack: EngineAndServer) {
  async function put(
    userId: string,
    body: unknown,
    { service = false, server = stack.server }: { service?: boolean; server?: ServerHarness } = {},
  ) {
    const token = await server.token(service ? 'normx-backend' : userId, { service });
    return httpRequest<PreferencesJson>(`${server.url}/api/v1/users/${service ? userId : 'me'}/preferences`, {
      method: 'PUT',
      token,
      body,
    });
  }
  /** A dossier's notifications with their inbox state and data, oldest first. */
  async function stored(dossierId: string) {
    return stack.engine.db.query<{ kind: string; archived_at: Date | null; data: Record<string, unknown> }>(
      'select kind, archived_at, data from notifications where dossier_id = $1 order by id',
      [dossierId],
    );
  }
  return { put, stored };
}

/** The real local clock in Paris, `minutes` from now, as `HH:mm`. */
export const parisClock = (minutes: number): string =>
  DateTime.now().setZone(PARIS).plus({ minutes }).toFormat('HH:mm');
