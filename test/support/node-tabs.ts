import type { Observable } from 'rxjs';
import WebSocket from 'ws';

/**
 * The browser client library (`web/client/notify-client.ts`) run under Node, a "tab" per client:
 * `ws` stands in for the browser's WebSocket. Each tab counts its upgrade attempts, and can be
 * taken offline (its attempts go to a closed port, and its open socket is cut as a lost network
 * cuts it). The library is typed against the DOM, which this project's Node build does not
 * include: it is loaded by a specifier tsc does not follow, and typed here by what the tests use.
 */

export interface TabError {
  code: string;
  message: string;
  closeCode?: number;
  fatal: boolean;
}

export interface ClientLike {
  readonly notifications$: Observable<{ id: string }>;
  readonly errors$: Observable<TabError>;
  readonly connectionState: 'connecting' | 'open' | 'reconnecting' | 'closed';
  readonly lastId: string | undefined;
  markRead(ids: readonly string[]): void;
  markAllRead(): void;
  close(): void;
}

export interface ClientModule {
  createNotifyClient(options: {
    url: string;
    getToken: () => string | Promise<string>;
    storage: null;
    lastId?: string;
    backoff?: { initialMs?: number; maxMs?: number };
    WebSocket: unknown;
  }): ClientLike;
}

/** NOTIFY_CLIENT_MODULE: another build of the library (e.g. an older one, to see a test fail before a fix). */
const CLIENT_MODULE: string = process.env.NOTIFY_CLIENT_MODULE
  ? new URL(process.env.NOTIFY_CLIENT_MODULE, `file://${process.cwd()}/`).href
  : new URL('../../web/client/notify-client.ts', import.meta.url).href;
/** The client library under test (NOTIFY_CLIENT_MODULE or the repository's). */
export const library = (await import(CLIENT_MODULE)) as ClientModule;

export interface NodeTab {
  client: ClientLike;
  /** Sockets the client created (upgrade attempts), offline ones included. */
  attempts: number;
  /** Sockets that opened. */
  opened: number;
  errors: TabError[];
  notificationIds: string[];
  setOffline(offline: boolean): void;
  close(): void;
}

export function openNodeTab(options: {
  url: string;
  getToken: () => string | Promise<string>;
  lastId?: string;
  backoff?: { initialMs?: number; maxMs?: number };
}): NodeTab {
  let offline = false;
  const sockets: WebSocket[] = [];
  const tab = {
    attempts: 0,
    opened: 0,
    errors: [] as TabError[],
    notificationIds: [] as string[],
  };
  class TabWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      // Port 1 on loopback: nothing listens, the attempt fails as it does without a network.
      super(offline ? url.replace(/\/\/[^/]+/, '//127.0.0.1:1') : url, protocols);
      tab.attempts += 1;
      sockets.push(this);
      this.addEventListener('open', () => (tab.opened += 1));
      // A refused upgrade is an `error` then a close with 1006, as in a browser.
      this.on('error', () => undefined);
    }
  }
  const client = library.createNotifyClient({ ...options, storage: null, WebSocket: TabWebSocket });
  client.errors$.subscribe((error) => tab.errors.push(error));
  client.notifications$.subscribe((notification) => tab.notificationIds.push(notification.id));
  return Object.assign(tab, {
    client,
    setOffline(value: boolean) {
      offline = value;
      if (value) sockets.at(-1)?.terminate();
    },
    close: () => client.close(),
  });
}
