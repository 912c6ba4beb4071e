import { randomBytes } from 'node:crypto';
import { storeNotification } from '../../activities/notification-store.js';
import { openOrm } from '../../db/orm.js';

/**
 * A separate process committing notifications, as a worker would:
 * `commit-notifications.ts <databaseUrl> <userId> <count>`. Prints `committed <id> <epoch ms>`
 * right after each commit.
 */
const [databaseUrl, userId, count] = process.argv.slice(2);
const orm = await openOrm(databaseUrl!, { poolMax: 1 });
await orm.em.fork().execute('insert into users (id) values (?) on conflict do nothing', [userId]);
for (let index = 0; index < Number(count); index += 1) {
  const { id } = await storeNotification(orm.em.fork(), {
    idempotencyKey: randomBytes(8).toString('hex'),
    userId: userId!,
    type: 'deadline_reminder',
    kind: 'j-1',
    dossierId: null,
    title: `From another process ${index}`,
    body: 'body',
    data: {},
    scheduledFor: null,
  });
  console.log(`committed ${id} ${Date.now()}`);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await orm.close();
