import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback between one process and PostgreSQL, which a test can cut and heal to
 * stand for a network partition. A partition does not close connections: nothing crosses, and
 * nobody is told.
 *
 * - `cut()`: from now on every byte either side sends on an existing connection is dropped
 *   silently (no FIN, no RST: the sockets stay open). New connections are accepted but held:
 *   nothing reaches PostgreSQL until the heal (a SYN retransmitted until the route is back).
 * - `heal()`: a connection that carried nothing during the cut goes on as if nothing happened.
 *   One that did (data lost in the partition, e.g. a NOTIFY towards a LISTEN connection) is
 *   dead, as a long partition leaves it: its PostgreSQL side is closed (the backend gives up and
 *   exits), while its client side stays open and silent for ever, exactly what a client sees
 *   when the peer's FIN was lost in the partition. Held connections then reach PostgreSQL.
 * - `holdNewConnections(ms)`: new connections are held for `ms` without cutting the existing
 *   ones (this process reaches PostgreSQL later than the others after an outage).
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far, and those killed by a heal (dead client sides kept open). */
  readonly stats: { accepted: number; deadAfterHeal: number; droppedBytes: number };
  cut(): void;
  heal(): void;
  holdNewConnections(ms: number): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes were dropped on it during the current cut. */
  dirty: boolean;
  /** Killed by a heal: the client side is kept open and everything it sends is dropped. */
  dead: boolean;
  closed: boolean;
}

export async function startTcpProxy(upstream: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let held: Pair[] = [];
  let cutting = false;
  let holdUntil = 0;
  let holdTimer: NodeJS.Timeout | undefined;
  const stats = { accepted: 0, deadAfterHeal: 0, droppedBytes: 0 };

  const close = (pair: Pair): void => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  /** Forwards one way unless the network is cut (dropped: the pair is then dirty) or the pair dead. */
  const forward = (pair: Pair, from: Socket, to: () => Socket | undefined): void => {
    from.on('data', (chunk: Buffer) => {
      if (pair.dead || cutting) {
        stats.droppedBytes += chunk.length;
        if (cutting) pair.dirty = true;
        return;
      }
      to()?.write(chunk);
    });
  };

  const open = (pair: Pair): void => {
    const socket = connect(upstream.port, upstream.host);
    pair.upstream = socket;
    socket.setNoDelay(true);
    forward(pair, socket, () => pair.client);
    socket.on('error', () => undefined);
    // PostgreSQL closed it: the client is told, unless the pair is dead (the FIN was "lost").
    socket.on('close', () => {
      if (!pair.dead) close(pair);
    });
    pair.client.resume();
  };

  const releaseHeld = (): void => {
    if (cutting || Date.now() < holdUntil) return;
    const waiting = held;
    held = [];
    for (const pair of waiting) if (!pair.closed) open(pair);
  };

  const server: Server = createServer((client) => {
    stats.accepted += 1;
    client.setNoDelay(true);
    const pair: Pair = { client, upstream: undefined, dirty: false, dead: false, closed: false };
    pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => close(pair));
    forward(pair, client, () => pair.upstream);
    if (cutting || Date.now() < holdUntil) {
      // Held: its bytes wait in the socket until the route is back.
      client.pause();
      held.push(pair);
    } else {
      open(pair);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    port,
    stats,
    cut() {
      cutting = true;
      for (const pair of pairs) pair.dirty = false;
    },
    heal() {
      cutting = false;
      for (const pair of pairs) {
        if (!pair.dirty || pair.dead || !pair.upstream) continue;
        pair.dead = true;
        stats.deadAfterHeal += 1;
        pair.upstream.destroy();
      }
      releaseHeld();
    },
    holdNewConnections(ms) {
      holdUntil = Math.max(holdUntil, Date.now() + ms);
      clearTimeout(holdTimer);
      holdTimer = setTimeout(releaseHeld, holdUntil - Date.now() + 1);
    },
    async close() {
      clearTimeout(holdTimer);
      for (const pair of [...pairs]) close(pair);
      for (const pair of held) close(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
