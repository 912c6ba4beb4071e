import type { NotificationQueries } from '../notifications/notification-queries.js';
import { listQuery, markReadBody, readAllBody } from './api-schemas.js';
import type { RestKit } from './rest-kit.js';

/** A user's own notifications, with the user's token: the page, the unread count, the marks. */
export function registerUserRoutes({ route, userOf, input }: RestKit, queries: NotificationQueries): void {
  route('get', '/api/v1/users/:userId/notifications', async (context) => {
    const userId = await userOf(context);
    const query = input(listQuery, Object.fromEntries(context.query), 'query');
    const page = await queries.list(userId, {
      before: query.before,
      limit: query.limit,
      unreadOnly: query.unread === 'true',
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
    const { updated, unread } = await queries.markRead(userId, ids);
    return { status: 200, body: { updated, unreadCount: unread } };
  });
  route('post', '/api/v1/users/:userId/notifications/read-all', async (context) => {
    const userId = await userOf(context);
    input(readAllBody, context.body);
    const { updated, unread } = await queries.markAllRead(userId);
    return { status: 200, body: { updated, unreadCount: unread } };
  });
}
