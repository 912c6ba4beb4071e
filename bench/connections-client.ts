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
  /** Connections per source address; connection `i` connects from address `floor(i / perAddress)`. */
  perAddress: number;
  /** First two octets after 127: `127.<a>.<b>.<1 + k>` for the first connections, `<a+1>` for the reconnects. */
  addressOctet: number;
  concurrency: number;
  connectTimeoutMs: number;
}

export type ClientCommand =
  | InitCommand
  | { cmd: 'connect'; upTo: number }
  | { cmd: 'arm' }
  | { cmd: 'report' }
  | { cmd: 'disconnect'; stormUsers: number }
  | { cmd: 'reconnect'; expected: Map<number, string[]> };

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
  /** Tabs that could not reconnect (after retries). */
  failed: number;
  retried: number;
  firstError: string | undefined;
  /** Per complete tab: from its `new WebSocket` to its `resumed` frame (all its missed notifications in), in ms. */
  catchUpMs: Float64Array;
  /** Per complete tab: from its `new WebSocket` to its first frame (`unread_count`), in ms. */
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
      firstError: string | undefined;
      /** From `new WebSocket` to the first frame (`unread_count`), per tab opened in this step, in ms. */
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
  firstError: undefined,
  firstWrong: undefined,
  lastDoneAt: 0,
  firstStartAt: 0,
  lateFrames: 0,
  reported: true,
};

const addressOf = (index: number, reconnect: boolean): string => {
  const block = Math.floor(index / init.perAddress);
  return `127.${init.addressOctet + (reconnect ? 1 : 0)}.${Math.floor(block / 250)}.${1 + (block % 250)}`;
};

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
        localAddress: addressOf(tab.index, options.reconnect),
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
      fail(new Error(`upgrade refused: HTTP ${response.statusCode}`)),
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
    firstError: storm.firstError,
    catchUpMs: Float64Array.from(complete, (tab) => tab.doneAt - tab.startAt),
    openMs: Float64Array.from(complete, (tab) => tab.openAt - tab.startAt),
    firstStartAt: storm.firstStartAt,
    lastDoneAt: storm.lastDoneAt,
    lateFrames: storm.lateFrames,
  };
}

/** Opens `list` with `concurrency` in flight, each tried up to `tries` times. */
async function openAll(
  list: Tab[],
  concurrency: number,
  options: { reconnect: boolean; tries: number; withLastId: boolean },
): Promise<{ failed: number; retried: number; firstError: string | undefined }> {
  let next = 0;
  let failed = 0;
  let retried = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const tab = list[next++]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await openTab(tab, {
            reconnect: options.reconnect,
            lastId: options.withLastId ? tab.lastId : undefined,
          });
          break;
        } catch (error) {
          firstError ??= (error as Error).message;
          if (attempt >= options.tries) {
            failed += 1;
            break;
          }
          retried += 1;
          // Jittered backoff, as the client library does (it starts at 0.5 s).
          await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 500));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return { failed, retried, firstError };
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
        tries: 3,
        withLastId: false,
      });
      send({
        ev: 'connected',
        open: tabs.filter((tab) => tab.ready).length,
        ...result,
        connectMs: Float64Array.from(
          batch.filter((tab) => tab.ready),
          (tab) => tab.openAt - tab.startAt,
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
      const result = await openAll(list, list.length, { reconnect: true, tries: 5, withLastId: true });
      storm.failed = result.failed;
      storm.retried = result.retried;
      storm.firstError = result.firstError;
      for (let k = 0; k < result.failed; k++) stormSettled();
      return;
    }
  }
}

process.on('message', (command: ClientCommand) => {
  handle(command).catch((error: Error) => send({ ev: 'failed', message: error.stack ?? error.message }));
});
