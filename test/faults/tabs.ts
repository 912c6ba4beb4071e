import WebSocket from 'ws';
import { library, type ClientLike, type TabError } from '../support/node-tabs.js';

/**
 * Browser tabs for the fault-injection suite: the real client library (`web/client/notify-client.ts`,
 * loaded by test/support/node-tabs.ts) over `ws`, each tab keeping its cursor as the bell does
 * (it starts after the newest id of its first REST page, `0` for a new user) and reconnecting
 * with the library's own backoff. The servers sit behind a stand-in for a load balancer: each
 * attempt goes to the tab's home server; a `failover` tab whose last attempt failed or whose
 * socket was cut tries the next server, a `pinned` tab waits for its home server to come back.
 *
 * Besides what the library delivers (what the bell would show), each tab records every
 * notification frame the wire carried, across all its sockets: a frame the library drops as
 * already seen is a duplicate the server sent.
 */

export type TabPolicy = 'pinned' | 'failover';

export interface FaultTab {
  readonly userId: string;
  readonly policy: TabPolicy;
  readonly home: number;
  readonly client: ClientLike;
  /** Ids the library delivered (notifications$), in order. */
  readonly delivered: string[];
  /** Ids of every notification frame received, in order, all sockets together. */
  readonly frames: string[];
  /** Sockets created (upgrade attempts) and sockets opened, per server index. */
  readonly attempts: number[];
  readonly opened: number[];
  readonly errors: TabError[];
  /** The server index the current or last socket went to. */
  readonly server: number;
  readonly connected: boolean;
  close(): void;
}

export function openFaultTab(options: {
  userId: string;
  /** `ws://127.0.0.1:<port>` of each server. */
  servers: readonly string[];
  home: number;
  policy: TabPolicy;
  getToken: () => string | Promise<string>;
  /** The bell's cursor: the newest id of its first REST page, `0` when it had none. */
  lastId: string;
  backoff?: { initialMs?: number; maxMs?: number };
}): FaultTab {
  const state = {
    server: options.home,
    /** The last socket opened (true), or failed / was cut (false). */
    lastOk: true,
  };
  const tab = {
    userId: options.userId,
    policy: options.policy,
    home: options.home,
    delivered: [] as string[],
    frames: [] as string[],
    attempts: options.servers.map(() => 0),
    opened: options.servers.map(() => 0),
    errors: [] as TabError[],
  };
  class BalancedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      if (!state.lastOk && options.policy === 'failover')
        state.server = (state.server + 1) % options.servers.length;
      else if (options.policy === 'pinned') state.server = options.home;
      const index = state.server;
      const target = new URL(url);
      const base = new URL(options.servers[index]!);
      target.host = base.host;
      super(target.href, protocols, { perMessageDeflate: false });
      tab.attempts[index]! += 1;
      state.lastOk = false;
      this.addEventListener('open', () => {
        tab.opened[index]! += 1;
        state.lastOk = true;
      });
      this.addEventListener('close', (event) => {
        // A socket cut by the network or a dying server (1006), or a server going away (1001).
        if (event.code === 1006 || event.code === 1001 || event.code === 1011) state.lastOk = false;
      });
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string' || !event.data.includes('"notification"')) return;
        try {
          const frame = JSON.parse(event.data) as { type?: string; notification?: { id?: string } };
          if (frame.type === 'notification' && frame.notification?.id) tab.frames.push(frame.notification.id);
        } catch {
          // The library reports bad frames itself.
        }
      });
      // A refused upgrade is an `error` then a close with 1006, as in a browser.
      this.on('error', () => undefined);
    }
  }
  const client = library.createNotifyClient({
    url: options.servers[options.home]!.replace(/^ws/, 'http'),
    getToken: options.getToken,
    storage: null,
    lastId: options.lastId,
    ...(options.backoff && { backoff: options.backoff }),
    WebSocket: BalancedWebSocket,
  });
  client.errors$.subscribe((error) => tab.errors.push(error));
  client.notifications$.subscribe((notification) => tab.delivered.push(notification.id));
  // Getters defined as such: Object.assign would copy their values of this moment.
  return Object.defineProperties(Object.assign(tab, { client, close: () => client.close() }), {
    server: { get: () => state.server, enumerable: true },
    connected: { get: () => client.connectionState === 'open', enumerable: true },
  }) as FaultTab;
}
