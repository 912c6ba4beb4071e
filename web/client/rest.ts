import type { NotifyNotification } from './types.js';

/** One page of a user's notifications over REST, newest first. */
export async function fetchNotifications(options: {
  url?: string;
  token: string;
  limit?: number;
  /** The previous page's `nextCursor`. */
  before?: string;
  unreadOnly?: boolean;
}): Promise<{ items: NotifyNotification[]; nextCursor: string | null }> {
  const url = new URL('/api/v1/users/me/notifications', options.url ?? globalThis.location.origin);
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  if (options.limit !== undefined) url.searchParams.set('limit', String(options.limit));
  if (options.before !== undefined) url.searchParams.set('before', options.before);
  if (options.unreadOnly) url.searchParams.set('unread', 'true');
  const response = await fetch(url, { headers: { authorization: `Bearer ${options.token}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as
      { error?: { message?: string } } | undefined;
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as { items: NotifyNotification[]; nextCursor: string | null };
}
