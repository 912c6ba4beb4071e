import type { NotificationQueries } from '../notifications/notification-queries.js';
import { archiveBody, listQuery, markReadBody, markSeenBody, readAllBody } from './api-schemas.js';
import type { RestKit } from './rest-kit.js';

/**
 * A user's own notifications, with the user's token: the page (inbox or archive), the counts,
 * the marks (read, read-all, seen, archive, unarchive).
 */
export function registerUserRoutes({ route, userOf, input }: RestKit, queries: NotificationQueries): void {
  route('get', '/api/v1/users/:userId/notifications', async (context) => {
    const userId = await userOf(context);
    const query = input(listQuery, Object.fromEntries(context.query), 'query');
    const page = await queries.list(userId, {
      before: query.before,
      limit: query.limit,
      unreadOnly: query.unread === 'true',
      state: query.state,
    });
    return { status: 200, body: page };
  });
  route('get', '/api/v1/users/:userId/notifications/unread-count', async (context) => {
    const userId = await userOf(context);
    return { status: 200, body: { count: await queries.unreadCount(userId) } };
  });
  route('post', '/api/v1/users/:userId/notifications/read', async (context) => {
    const userId = await userOf(context);
    const { ids } = input(markReadBody, context.body);
    const { updated, counts } = await queries.markRead(userId, ids);
    return { status: 200, body: { updated, unreadCount: counts.unread } };
  });
  route('post', '/api/v1/users/:userId/notifications/read-all', async (context) => {
    const userId = await userOf(context);
    input(readAllBody, context.body);
    const { updated, counts } = await queries.markAllRead(userId);
    return { status: 200, body: { updated, unreadCount: counts.unread } };
  });
  route('get', '/api/v1/users/:userId/notifications/counts', async (context) => {
    const userId = await userOf(context);
    return { status: 200, body: await queries.counts(userId) };
  });
  route('post', '/api/v1/users/:userId/notifications/seen', async (context) => {
    const userId = await userOf(context);
    const { lastId } = input(markSeenBody, context.body);
    const { updated, counts } = await queries.markSeen(userId, lastId);
    return { status: 200, body: { updated, counts } };
  });
  route('post', '/api/v1/users/:userId/notifications/archive', async (context) => {
    const userId = await userOf(context);
    const { ids } = input(archiveBody, context.body);
    const { updated, counts } = await queries.archive(userId, ids);
    return { status: 200, body: { updated, counts } };
  });
  route('post', '/api/v1/users/:userId/notifications/unarchive', async (context) => {
    const userId = await userOf(context);
    const { ids } = input(archiveBody, context.body);
    const { updated, counts } = await queries.unarchive(userId, ids);
    return { status: 200, body: { updated, counts } };
  });
}
