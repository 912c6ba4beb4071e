import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';
import { notificationFrame } from '../server/protocol/messages.js';
import { runServerChild } from './server-child.js';
import { BENCH_SECRET } from './shared.js';

const room = (userId: string): string => `user:${userId}`;

/**
 * The same job with Socket.IO, websocket transport only: the JWT comes in the handshake's
 * `auth.token` and is verified by a middleware (jose, same secret), each socket joins its
 * user's room, and each notification is one `io.to(room).emit` of the frame built once
 * (Socket.IO encodes a broadcast packet once for the whole room).
 */
await runServerChild(async () => {
  const secret = new TextEncoder().encode(BENCH_SECRET);
  const http = createServer((_request, response) => response.writeHead(404).end());
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    maxHttpBufferSize: 16_384,
  });
  const users = new Map<string, number>();

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth.token;
    if (typeof token !== 'string') return next(new Error('unauthorized'));
    jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }).then(
      ({ payload }) => {
        socket.data.userId = payload.sub;
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });
  io.on('connection', (socket) => {
    const userId = socket.data.userId as string;
    void socket.join(room(userId));
    users.set(userId, (users.get(userId) ?? 0) + 1);
    socket.on('disconnect', () => {
      const left = (users.get(userId) ?? 1) - 1;
      if (left === 0) users.delete(userId);
      else users.set(userId, left);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    publish: (userId, _id, json) => {
      io.to(room(userId)).emit('notification', notificationFrame(json));
    },
    usersOnline: () => users.size,
    stop: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  };
});
