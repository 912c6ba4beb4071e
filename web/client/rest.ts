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

/** The REST address of `path` on the server (`ws:`/`wss:` given for it read as `http:`/`https:`). */
function restUrl(path: string, base: string | undefined): URL {
  const url = new URL(path, base ?? globalThis.location.origin);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  return url;
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
