import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { notificationFrame } from '../server/protocol/messages.js';
import { runServerChild } from './server-child.js';
import { BENCH_SECRET } from './shared.js';

/**
 * The same job with the `ws` package, written lean: the JWT is verified at upgrade (jose, same
 * secret), sockets are grouped per user, and each notification's frame is built and encoded to
 * bytes once, then written to each of the user's sockets.
 */
await runServerChild(async () => {
  const secret = new TextEncoder().encode(BENCH_SECRET);
  const sockets = new Map<string, Set<WebSocket>>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16_384 });
  const http = createServer((_request, response) => response.writeHead(404).end());

  http.on('upgrade', (request, socket, head) => {
    socket.on('error', () => socket.destroy());
    const match = /^\/api\/v1\/ws\/([^/?]+)/.exec(request.url ?? '');
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (!match) return refuse('404 Not Found');
    jwtVerify(decodeURIComponent(match[1]!), secret, {
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'sub'],
    }).then(
      ({ payload }) => {
        const userId = payload.sub!;
        wss.handleUpgrade(request, socket, head, (ws) => {
          let own = sockets.get(userId);
          if (!own) sockets.set(userId, (own = new Set()));
          own.add(ws);
          ws.on('error', () => ws.terminate());
          ws.on('close', () => {
            own.delete(ws);
            if (own.size === 0 && sockets.get(userId) === own) sockets.delete(userId);
          });
        });
      },
      () => refuse('401 Unauthorized'),
    );
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    publish: (userId, _id, json) => {
      const own = sockets.get(userId);
      if (!own) return;
      const frame = Buffer.from(notificationFrame(json));
      for (const ws of own) ws.send(frame, { binary: false });
    },
    usersOnline: () => sockets.size,
    stop: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
});
