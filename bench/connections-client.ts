import { SignJWT } from 'jose';
import WebSocket from 'ws';

/**
 * A load-generator child of `bench/connections.ts`: holds its share of the browser tabs (one
 * `ws` client each, as a tab would hold one socket), connects them step by step from its own
 * loopback source addresses, checks what the server sends (`unread_count` first, the pushed
 * notification once, the catch-up after a reconnect exactly once and in id order) and reports
 * timings. Connection `i` of the run belongs to child `i % of` and to user `i % users`.
 */

export interface InitCommand {
  cmd: 'init';
  port: number;
  secret: string;
  childIndex: number;
  of: number;
  connections: number;
  users: number;
  /**
   * Each user is one browser with an address of its own, shared by its tabs: user `u` connects from
   * `127.<addressOctet>.<u / 250>.<1 + u % 250>`, and reconnects from `127.<addressOctet + 1>.…`.
   */
  addressOctet: number;
  concurrency: number;
  connectTimeoutMs: number;
}

export type ClientCommand =
  | InitCommand
  | { cmd: 'connect'; upTo: number; timeoutMs: number }
  | { cmd: 'arm' }
  | { cmd: 'report' }
  | { cmd: 'disconnect'; stormUsers: number }
  | { cmd: 'reconnect'; expected: Map<number, string[]>; timeoutMs: number };

export interface PushReport {
  tabs: number;
  /** Tabs that got exactly one notification. */
  exactlyOne: number;
  /** Tabs that got none yet. */
  missing: number;
  /** Tabs that got more than one. */
  extra: number;
  /** Store call → arrival, in ms, one per frame received. */
  latencies: Float64Array;
  lastAt: number;
  closed: number;
}

export interface StormReport {
  tabs: number;
  /** Tabs that got every missed id, exactly once, in order, then `resumed`. */
  complete: number;
  /** Tabs whose frames did not match (a gap, a duplicate, the wrong order, an extra frame). */
  wrong: number;
  firstWrong: string | undefined;
  /** Tabs that could not reconnect (retrying until the storm's deadline). */
  failed: number;
  retried: number;
  /** Refused upgrades by HTTP status (503 server_busy, 429 too_many_upgrades…). */
  refusals: Record<string, number>;
  firstError: string | undefined;
  /** Per complete tab: from its first reconnect attempt to its `resumed` frame (all its missed notifications in), in ms. */
  catchUpMs: Float64Array;
  /** Per complete tab: from its first reconnect attempt to its first frame (`unread_count`), in ms. */
  openMs: Float64Array;
  firstStartAt: number;
  lastDoneAt: number;
  /** Notification frames that came to a tab after its `resumed` (nothing was committed meanwhile: duplicates). */
  lateFrames: number;
}

export type ClientEvent =
  | { ev: 'inited'; tabs: number; signMs: number }
  | {
      ev: 'connected';
      open: number;
      failed: number;
      retried: number;
      refusals: Record<string, number>;
      firstError: string | undefined;
      /** From the first attempt to the first frame (`unread_count`), per tab opened in this step, in ms. */
      connectMs: Float64Array;
      rssBytes: number;
    }
  | { ev: 'armed'; tabs: number }
  | ({ ev: 'pushed' } & PushReport)
  | ({ ev: 'push-report' } & PushReport)
  | { ev: 'disconnected'; tabs: number }
  | ({ ev: 'reconnected' } & StormReport)
  | ({ ev: 'storm-report' } & StormReport)
  | { ev: 'failed'; message: string };

/** Wall clock in ms with sub-ms resolution, comparable across the processes of one machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export const benchUserId = (user: number): string => `bench-user-${user}`;

const send = (event: ClientEvent): void => {
  process.send?.(event);
};
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the parent decides (it kills its children).
process.on('SIGINT', () => undefined);

type Phase = 'connect' | 'push' | 'storm';

interface Tab {
  index: number;
  user: number;
  socket: WebSocket | undefined;
  ready: boolean;
  /** The newest notification id this tab has seen: its resume cursor. */
  lastId: string;
  /** Notification ids received in the current phase. */
  ids: string[];
  /** The first attempt of the current (re)connection; `startAt` is the current attempt's. */
  firstAttemptAt: number;
  startAt: number;
  openAt: number;
  doneAt: number;
  done: boolean;
  wrong: string | undefined;
}

let init: InitCommand;
let tabs: Tab[] = [];
const tokens = new Map<number, string>();
let phase: Phase = 'connect';

let push: { latencies: number[]; lastAt: number; closed: number; reported: boolean } = {
  latencies: [],
  lastAt: 0,
  closed: 0,
  reported: true,
};
let storm: {
  tabs: Tab[];
  expected: Map<number, string[]>;
  pending: number;
  failed: number;
  retried: number;
  refusals: Record<string, number>;
  firstError: string | undefined;
  firstWrong: string | undefined;
  lastDoneAt: number;
  firstStartAt: number;
  lateFrames: number;
  reported: boolean;
} = {
  tabs: [],
  expected: new Map(),
  pending: 0,
  failed: 0,
  retried: 0,
  refusals: {},
  firstError: undefined,
  firstWrong: undefined,
  lastDoneAt: 0,
  firstStartAt: 0,
  lateFrames: 0,
  reported: true,
};

const addressOf = (user: number, reconnect: boolean): string =>
  `127.${init.addressOctet + (reconnect ? 1 : 0)}.${Math.floor(user / 250) % 256}.${1 + (user % 250)}`;

/** An upgrade the server answered with an HTTP error (a cap: 503 server_busy, 429 too_many_upgrades…). */
class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused: HTTP ${status}`);
  }
}

const rssBytes = (): number => process.memoryUsage.rss();

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
      `ws://127.0.0.1:${init.port}/api/v1/ws${query}`,
      ['normx-notify', tokens.get(tab.user)!],
      {
        localAddress: addressOf(tab.user, options.reconnect),
        perMessageDeflate: false,
        handshakeTimeout: init.connectTimeoutMs,
      },
    );
    tab.socket = socket;
    let settled = false;
    let opened = false;
    const timer = setTimeout(
      () => fail(new Error('no unread_count within the connect timeout')),
      init.connectTimeoutMs,
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
      if (phase === 'push') push.closed += 1;
      if (phase === 'storm' && storm.tabs.includes(tab) && !tab.done) markWrong(tab, `closed with ${code}`);
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
    if (phase === 'storm' && tab.done) storm.lateFrames += 1;
    tab.ids.push(id);
    tab.lastId = id;
    if (phase === 'push') {
      push.latencies.push(now - Number(message.notification.data.sentAt));
      push.lastAt = now;
      if (tab.ids.length === 1) checkPushDone();
    }
    return;
  }
  if (message.type === 'resumed' && phase === 'storm' && !tab.done) {
    const expected = storm.expected.get(tab.user) ?? [];
    const got = tab.ids;
    const same = got.length === expected.length && got.every((id, k) => id === expected[k]);
    if (!same)
      return markWrong(tab, `user ${tab.user}: expected [${expected.join(',')}], got [${got.join(',')}]`);
    tab.done = true;
    tab.doneAt = wallClock();
    storm.lastDoneAt = Math.max(storm.lastDoneAt, tab.doneAt);
    stormSettled();
    return;
  }
  if (message.type === 'error')
    console.error(`[client ${init.childIndex}] server error frame: ${JSON.stringify(message)}`);
}

function markWrong(tab: Tab, why: string): void {
  if (tab.done || tab.wrong) return;
  tab.wrong = why;
  storm.firstWrong ??= why;
  stormSettled();
}

function stormSettled(): void {
  storm.pending -= 1;
  if (storm.pending === 0 && !storm.reported) {
    storm.reported = true;
    send({ ev: 'reconnected', ...stormReport() });
  }
}

function pushReport(): PushReport {
  let exactlyOne = 0;
  let missing = 0;
  let extra = 0;
  const open = tabs.filter((tab) => tab.ready);
  for (const tab of open) {
    if (tab.ids.length === 1) exactlyOne += 1;
    else if (tab.ids.length === 0) missing += 1;
    else extra += 1;
  }
  return {
    tabs: open.length,
    exactlyOne,
    missing,
    extra,
    latencies: Float64Array.from(push.latencies),
    lastAt: push.lastAt,
    closed: push.closed,
  };
}

let pushWaiting = 0;
function checkPushDone(): void {
  pushWaiting -= 1;
  if (pushWaiting === 0 && !push.reported) {
    push.reported = true;
    send({ ev: 'pushed', ...pushReport() });
  }
}

function stormReport(): StormReport {
  const complete = storm.tabs.filter((tab) => tab.done);
  return {
    tabs: storm.tabs.length,
    complete: complete.length,
    wrong: storm.tabs.filter((tab) => tab.wrong !== undefined).length,
    firstWrong: storm.firstWrong,
    failed: storm.failed,
    retried: storm.retried,
    refusals: storm.refusals,
    firstError: storm.firstError,
    catchUpMs: Float64Array.from(complete, (tab) => tab.doneAt - tab.firstAttemptAt),
    openMs: Float64Array.from(complete, (tab) => tab.openAt - tab.firstAttemptAt),
    firstStartAt: storm.firstStartAt,
    lastDoneAt: storm.lastDoneAt,
    lateFrames: storm.lateFrames,
  };
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
async function openAll(
  list: Tab[],
  concurrency: number,
  options: { reconnect: boolean; deadlineAt: number; withLastId: boolean },
): Promise<{
  failed: number;
  retried: number;
  refusals: Record<string, number>;
  firstError: string | undefined;
}> {
  let next = 0;
  let failed = 0;
  let retried = 0;
  const refusals: Record<string, number> = {};
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const tab = list[next++]!;
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
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return { failed, retried, refusals, firstError };
}

async function handle(command: ClientCommand): Promise<void> {
  switch (command.cmd) {
    case 'init': {
      init = command;
      const started = performance.now();
      tabs = [];
      for (let index = init.childIndex; index < init.connections; index += init.of)
        tabs.push({
          index,
          user: index % init.users,
          socket: undefined,
          ready: false,
          lastId: '0',
          ids: [],
          firstAttemptAt: 0,
          startAt: 0,
          openAt: 0,
          doneAt: 0,
          done: false,
          wrong: undefined,
        });
      const secret = new TextEncoder().encode(init.secret);
      for (const tab of tabs) {
        if (tokens.has(tab.user)) continue;
        tokens.set(
          tab.user,
          await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject(benchUserId(tab.user))
            .setIssuedAt()
            .setExpirationTime('2h')
            .sign(secret),
        );
      }
      send({ ev: 'inited', tabs: tabs.length, signMs: performance.now() - started });
      return;
    }
    case 'connect': {
      phase = 'connect';
      const batch = tabs.filter((tab) => tab.index < command.upTo && !tab.ready && tab.socket === undefined);
      const result = await openAll(batch, init.concurrency, {
        reconnect: false,
        deadlineAt: wallClock() + command.timeoutMs,
        withLastId: false,
      });
      send({
        ev: 'connected',
        open: tabs.filter((tab) => tab.ready).length,
        ...result,
        connectMs: Float64Array.from(
          batch.filter((tab) => tab.ready),
          (tab) => tab.openAt - tab.firstAttemptAt,
        ),
        rssBytes: rssBytes(),
      });
      return;
    }
    case 'arm': {
      phase = 'push';
      for (const tab of tabs) tab.ids = [];
      const open = tabs.filter((tab) => tab.ready);
      push = { latencies: [], lastAt: 0, closed: 0, reported: open.length === 0 };
      pushWaiting = open.length;
      send({ ev: 'armed', tabs: open.length });
      return;
    }
    case 'report':
      send(
        phase === 'storm' ? { ev: 'storm-report', ...stormReport() } : { ev: 'push-report', ...pushReport() },
      );
      return;
    case 'disconnect': {
      phase = 'connect';
      const leaving = tabs.filter((tab) => tab.user < command.stormUsers && tab.ready);
      for (const tab of leaving) {
        const socket = tab.socket;
        tab.socket = undefined;
        tab.ready = false;
        // Like a tab whose network went away: no close handshake, the TCP connection just ends.
        socket?.terminate();
      }
      storm.tabs = leaving;
      send({ ev: 'disconnected', tabs: leaving.length });
      return;
    }
    case 'reconnect': {
      phase = 'storm';
      const list = storm.tabs;
      storm = {
        tabs: list,
        expected: command.expected,
        pending: list.length,
        failed: 0,
        retried: 0,
        refusals: {},
        firstError: undefined,
        firstWrong: undefined,
        lastDoneAt: 0,
        firstStartAt: wallClock(),
        lateFrames: 0,
        reported: list.length === 0,
      };
      for (const tab of list) {
        tab.ids = [];
        tab.doneAt = 0;
        tab.done = false;
        tab.wrong = undefined;
      }
      // Every tab at once: one socket each, opened in the same turn of the event loop.
      const result = await openAll(list, list.length, {
        reconnect: true,
        deadlineAt: wallClock() + command.timeoutMs,
        withLastId: true,
      });
      storm.failed = result.failed;
      storm.retried = result.retried;
      storm.refusals = result.refusals;
      storm.firstError = result.firstError;
      for (let k = 0; k < result.failed; k++) stormSettled();
      return;
    }
  }
}

process.on('message', (command: ClientCommand) => {
  handle(command).catch((error: Error) => send({ ev: 'failed', message: error.stack ?? error.message }));
});
