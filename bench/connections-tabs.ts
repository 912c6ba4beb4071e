import WebSocket from 'ws';
import { wallClock } from './common.js';
import { mapBounded } from '../domain/bounded-concurrency.js';
import {
  checkPushDone,
  markWrong,
  state,
  stormSettled,
  tokens,
  type Tab,
} from './connections-client-state.js';

/** How a load-generator child of the connections bench opens its tabs and checks the frames they get. */

const addressOf = (user: number, reconnect: boolean): string =>
  `127.${state.init.addressOctet + (reconnect ? 1 : 0)}.${Math.floor(user / 250) % 256}.${1 + (user % 250)}`;

/** An upgrade the server answered with an HTTP error (a cap: 503 server_busy, 429 too_many_upgrades…). */
class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused: HTTP ${status}`);
  }
}

/**
 * Opens one socket for `tab`: resolves once the server's first frame (`unread_count`) came, i.e.
 * the token was accepted, the session opened and subscribed to the user's stream.
 */
function openTab(tab: Tab, options: { lastId?: string; reconnect: boolean }): Promise<void> {
  const query = options.lastId === undefined ? '' : `?lastId=${options.lastId}`;
  return new Promise((resolve, reject) => {
    tab.startAt = wallClock();
    tab.ready = false;
    const socket = new WebSocket(
      `ws://127.0.0.1:${state.init.port}/api/v1/ws${query}`,
      ['normx-notify', tokens.get(tab.user)!],
      {
        localAddress: addressOf(tab.user, options.reconnect),
        perMessageDeflate: false,
        handshakeTimeout: state.init.connectTimeoutMs,
      },
    );
    tab.socket = socket;
    let settled = false;
    let opened = false;
    const timer = setTimeout(
      () => fail(new Error('no unread_count within the connect timeout')),
      state.init.connectTimeoutMs,
    );
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        type: string;
        notification?: { id: string; data: { sentAt?: number } };
      };
      if (!tab.ready) {
        if (message.type !== 'unread_count') return fail(new Error(`first frame was ${message.type}`));
        tab.ready = true;
        opened = true;
        tab.openAt = wallClock();
        settled = true;
        clearTimeout(timer);
        resolve();
        return;
      }
      onFrame(tab, message);
    });
    socket.on('unexpected-response', (_request, response) =>
      fail(new RefusedError(response.statusCode ?? 0)),
    );
    socket.on('error', (error) => fail(error));
    let upgraded = false;
    socket.on('upgrade', () => {
      upgraded = true;
    });
    socket.on('close', (code) => {
      if (!opened)
        return fail(
          new Error(
            `closed before unread_count (code ${code}, ${upgraded ? 'after' : 'before'} the 101, ` +
              `${Math.round(wallClock() - tab.startAt)} ms after connecting)`,
          ),
        );
      if (tab.socket !== socket) return; // a socket this tab closed on purpose
      tab.socket = undefined;
      if (state.phase === 'push') state.push.closed += 1;
      if (state.phase === 'storm' && state.storm.tabs.includes(tab) && !tab.done)
        markWrong(tab, `closed with ${code}`);
    });
  });
}

function onFrame(
  tab: Tab,
  message: { type: string; notification?: { id: string; data: { sentAt?: number } } },
): void {
  if (message.type === 'notification' && message.notification) {
    const now = wallClock();
    const { id } = message.notification;
    if (state.phase === 'storm' && tab.done) state.storm.lateFrames += 1;
    tab.ids.push(id);
    tab.lastId = id;
    if (state.phase === 'push') {
      state.push.latencies.push(now - Number(message.notification.data.sentAt));
      state.push.lastAt = now;
      if (tab.ids.length === 1) checkPushDone();
    }
    return;
  }
  if (message.type === 'resumed' && state.phase === 'storm' && !tab.done) {
    const expected = state.storm.expected.get(tab.user) ?? [];
    const got = tab.ids;
    const same = got.length === expected.length && got.every((id, k) => id === expected[k]);
    if (!same)
      return markWrong(tab, `user ${tab.user}: expected [${expected.join(',')}], got [${got.join(',')}]`);
    tab.done = true;
    tab.doneAt = wallClock();
    state.storm.lastDoneAt = Math.max(state.storm.lastDoneAt, tab.doneAt);
    stormSettled();
    return;
  }
  if (message.type === 'error')
    console.error(`[client ${state.init.childIndex}] server error frame: ${JSON.stringify(message)}`);
}

/**
 * The client library's reconnection delay after `attempt` failures (web/client/notify-client.ts):
 * drawn in [c/2, c] with c = 0.5 s doubling up to 30 s. A browser cannot read a refused upgrade's
 * status nor its Retry-After (it sees 1006), so neither changes the delay.
 */
const backoffMs = (attempt: number): number => {
  const ceiling = Math.min(30_000, 500 * 2 ** attempt);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
};

/** Opens `list` with `concurrency` in flight; a failed attempt is tried again as the client library would, until `deadlineAt`. */
export async function openAll(
  list: Tab[],
  concurrency: number,
  options: { reconnect: boolean; deadlineAt: number; withLastId: boolean },
): Promise<{
  failed: number;
  retried: number;
  refusals: Record<string, number>;
  firstError: string | undefined;
}> {
  let failed = 0;
  let retried = 0;
  const refusals: Record<string, number> = {};
  let firstError: string | undefined;
  await mapBounded(list, concurrency, async (tab) => {
    tab.firstAttemptAt = wallClock();
    for (let attempt = 1; ; attempt++) {
      try {
        await openTab(tab, {
          reconnect: options.reconnect,
          lastId: options.withLastId ? tab.lastId : undefined,
        });
        break;
      } catch (error) {
        if (error instanceof RefusedError) refusals[error.status] = (refusals[error.status] ?? 0) + 1;
        else firstError ??= (error as Error).message;
        const delay = backoffMs(attempt);
        if (wallClock() + delay > options.deadlineAt) {
          firstError ??= (error as Error).message;
          failed += 1;
          break;
        }
        retried += 1;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  });
  return { failed, retried, refusals, firstError };
}
