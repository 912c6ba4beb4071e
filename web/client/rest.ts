import type { InboxCounts, NotifyNotification } from './types.js';

/** One page of a user's notifications over REST, newest first: the inbox, or the archive. */
export async function fetchNotifications(options: {
  url?: string;
  token: string;
  limit?: number;
  /** The previous page's `nextCursor`. */
  before?: string;
  unreadOnly?: boolean;
  /** `inbox` (default): not archived; `archived`: the archive. */
  state?: 'inbox' | 'archived';
}): Promise<{ items: NotifyNotification[]; nextCursor: string | null }> {
  const url = restUrl('/api/v1/users/me/notifications', options.url);
  if (options.limit !== undefined) url.searchParams.set('limit', String(options.limit));
  if (options.before !== undefined) url.searchParams.set('before', options.before);
  if (options.unreadOnly) url.searchParams.set('unread', 'true');
  if (options.state !== undefined) url.searchParams.set('state', options.state);
  return getJson(url, options.token);
}

/** The user's counts per inbox state, and when they last opened the list (`seenAt`). */
export function fetchCounts(options: {
  url?: string;
  token: string;
}): Promise<InboxCounts & { seenAt: string | null }> {
  return getJson(restUrl('/api/v1/users/me/notifications/counts', options.url), options.token);
}

/** How a snooze ends: a preset the user's dossier places in their zone, or an instant (ISO). */
export type SnoozeWhen = { preset: 'tomorrow' | 'in-2-hours' | 'next-business-day' } | { until: string };

/**
 * Snoozes one of the user's reminders or alerts (`POST …/notifications/{id}/snooze`, docs/api.md):
 * the server marks it read and the dossier sends it again then, as a new notification. Pass the
 * same `eventId` when retrying a call whose answer was lost: the dossier snoozes it once.
 */
export function snoozeNotification(options: {
  url?: string;
  token: string;
  id: string;
  when: SnoozeWhen;
  eventId?: string;
}): Promise<{ workflowId: string; eventId: string }> {
  const url = restUrl(`/api/v1/users/me/notifications/${encodeURIComponent(options.id)}/snooze`, options.url);
  const body = { ...options.when, ...(options.eventId !== undefined && { eventId: options.eventId }) };
  return sendJson(url, options.token, { method: 'POST', body: JSON.stringify(body) });
}

/** One kind's preference, as the server lists it (`mutable`: false for `overdue_critical`). */
export interface KindPreference {
  kind: string;
  bell: boolean;
  popup: boolean;
  mutable: boolean;
}

/** A user's notification preferences (`GET …/preferences`, docs/api.md). */
export interface Preferences {
  kinds: KindPreference[];
  quietHours: { from: string; to: string } | null;
  /** The user's own reminder hour (`HH:mm`); null: the service's, `defaultReminderTime`. */
  reminderTime: string | null;
  defaultReminderTime: string;
}

/** A change of preferences: a field given replaces the stored one (`kinds` whole), one left out is kept. */
export interface PreferencesChange {
  kinds?: Record<string, { bell: boolean; popup: boolean }>;
  quietHours?: { from: string; to: string } | null;
  reminderTime?: string | null;
}

/** The user's notification preferences. */
export function fetchPreferences(options: { url?: string; token: string }): Promise<Preferences> {
  return getJson(restUrl('/api/v1/users/me/preferences', options.url), options.token);
}

/**
 * Changes the user's preferences; the answer is the preferences after the change. A new reminder
 * hour re-plans the user's open dossiers (refused with 429 past 3 changes in 10 minutes).
 */
export function savePreferences(options: {
  url?: string;
  token: string;
  change: PreferencesChange;
}): Promise<Preferences> {
  const url = restUrl('/api/v1/users/me/preferences', options.url);
  return sendJson(url, options.token, { method: 'PUT', body: JSON.stringify(options.change) });
}

/** A refused REST call: the HTTP status (0: no answer) and the server's error code and message. */
export class RestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RestError';
  }
}

/** The REST address of `path` on the server (`ws:`/`wss:` given for it read as `http:`/`https:`). */
function restUrl(path: string, base: string | undefined): URL {
  const url = new URL(path, base ?? globalThis.location.origin);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  return url;
}

async function sendJson<T>(
  url: URL,
  token: string,
  init: { method: 'POST' | 'PUT'; body: string },
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  } catch (error) {
    throw new RestError((error as Error).message, 0);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      { error?: { code?: string; message?: string } } | undefined;
    throw new RestError(
      body?.error?.message ?? `HTTP ${response.status}`,
      response.status,
      body?.error?.code,
    );
  }
  return (await response.json()) as T;
}

async function getJson<T>(url: URL, token: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      { error?: { message?: string } } | undefined;
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}
