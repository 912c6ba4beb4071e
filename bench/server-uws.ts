import { jwtVerify } from 'jose';
import uWS from 'uWebSockets.js';
import { notificationFrame } from '../server/protocol/messages.js';
import { runServerChild } from './server-child.js';
import { BENCH_SECRET } from './shared.js';

/**
 * A reference, not a product: the bare minimum of the same job on uWebSockets.js, to show what
 * the library itself costs under our push path. JWT verified at upgrade (jose, same secret);
 * each notification's frame is encoded once; then either uWS's native topic fan-out
 * (`BENCH_UWS_FANOUT=publish`, the default: one topic per user, one `app.publish` per
 * notification) or a JS loop of `ws.send` over the user's sockets (`send`; `send-string`: the
 * frame built as a string per socket, as our SocketSession does, and encoded by uWS each time).
 */
interface SocketData {
  userId: string;
}

const fanOuts = ['publish', 'send', 'send-string'] as const;
const fanOut = fanOuts.find((mode) => mode === process.env.BENCH_UWS_FANOUT) ?? 'publish';
const topic = (userId: string): string => `user:${userId}`;

await runServerChild(async () => {
  const secret = new TextEncoder().encode(BENCH_SECRET);
  const sockets = new Map<string, Set<uWS.WebSocket<SocketData>>>();
  const app = uWS.App();
  app.ws<SocketData>('/api/v1/ws/:token', {
    maxPayloadLength: 16_384,
    idleTimeout: 60,
    upgrade: (res, req, context) => {
      const token = decodeURIComponent(req.getParameter(0) ?? '');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }).then(
        ({ payload }) => {
          if (aborted) return;
          res.cork(() =>
            res.upgrade<SocketData>({ userId: payload.sub! }, key, protocol, extensions, context),
          );
        },
        () => {
          if (!aborted) res.cork(() => res.writeStatus('401 Unauthorized').end());
        },
      );
    },
    open: (ws) => {
      const { userId } = ws.getUserData();
      if (fanOut === 'publish') ws.subscribe(topic(userId));
      let own = sockets.get(userId);
      if (!own) sockets.set(userId, (own = new Set()));
      own.add(ws);
    },
    close: (ws) => {
      const { userId } = ws.getUserData();
      const own = sockets.get(userId);
      own?.delete(ws);
      if (own?.size === 0) sockets.delete(userId);
    },
  });
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(socket) : reject(new Error('cannot listen')))),
  );
  return {
    port: uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket),
    publish: (userId, _id, json) => {
      if (fanOut === 'publish') {
        app.publish(topic(userId), Buffer.from(notificationFrame(json)), false);
        return;
      }
      const own = sockets.get(userId);
      if (!own) return;
      // send-string: what our SocketSession does, a string frame built per socket, encoded by uWS.
      if (fanOut === 'send-string') {
        for (const ws of own) ws.send(notificationFrame(json), false);
        return;
      }
      const frame = Buffer.from(notificationFrame(json));
      for (const ws of own) ws.send(frame, false);
    },
    usersOnline: () => sockets.size,
    stop: async () => {
      uWS.us_listen_socket_close(listenSocket);
      for (const own of sockets.values()) for (const ws of own) ws.close();
    },
  };
});
