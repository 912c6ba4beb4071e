import WebSocket from 'ws';
import { sleep, wallClock } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import type { Stack } from './stack-types.js';

/** The owners' browser tabs of bench/herd.ts, bench/herd-embedded.ts and bench/latency.ts: one live socket per user. */

export interface NotificationFrame {
  id: string;
  userId: string;
  type: string;
  kind: string;
  dossierId: string | null;
  title: string;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface OwnerSockets {
  /** Sockets that closed before close() (each with its code). */
  closes: number[];
  /** Frames that were not JSON or had an unexpected shape. */
  badFrames: number;
  close(): Promise<void>;
}

/**
 * One tab per user: a `ws` socket with the user's token in `Sec-WebSocket-Protocol`, live only
 * (no lastId). Resolves once every socket has had its first frame (`unread_count`), so that
 * every one is subscribed. `onNotification` gets each notification frame with its arrival time.
 */
export async function connectOwners(
  stack: Pick<Stack, 'wsUrl' | 'userToken'>,
  userIds: string[],
  onNotification: (notification: NotificationFrame, receivedAt: number) => void,
  { concurrency = 32, timeoutMs = 120_000 } = {},
): Promise<OwnerSockets> {
  const sockets: WebSocket[] = [];
  const state: OwnerSockets = {
    closes: [],
    badFrames: 0,
    close: async () => {
      closing = true;
      await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              socket.once('close', () => resolve());
              socket.close(1000);
              setTimeout(() => {
                socket.terminate();
                resolve();
              }, 3000).unref();
            }),
        ),
      );
    },
  };
  let closing = false;
  const deadline = Date.now() + timeoutMs;
  await mapBounded(userIds, concurrency, async (userId) => {
    const token = await stack.userToken(userId);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const socket = new WebSocket(`${stack.wsUrl}/api/v1/ws`, ['normx-notify', token], {
          perMessageDeflate: false,
        });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no unread_count within 15 s')), 15_000);
          socket.once('error', (error) => {
            clearTimeout(timer);
            reject(error);
          });
          socket.once('message', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        socket.on('error', () => undefined);
        socket.on('close', (code) => {
          if (!closing) state.closes.push(code);
        });
        socket.on('message', (raw: WebSocket.RawData) => {
          const receivedAt = wallClock();
          try {
            const message = JSON.parse(raw.toString()) as { type: string; notification?: NotificationFrame };
            if (message.type === 'notification' && message.notification)
              onNotification(message.notification, receivedAt);
          } catch {
            state.badFrames += 1;
          }
        });
        sockets.push(socket);
        return;
      } catch (error) {
        if (Date.now() > deadline || attempt >= 5)
          throw new Error(`socket of ${userId}: ${String(error)}`, { cause: error });
        await sleep(200 * (attempt + 1));
      }
    }
  });
  return state;
}
