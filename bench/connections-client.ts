import { SignJWT } from 'jose';
import { wallClock } from './common.js';
import { pushReport, send, state, stormReport, stormSettled, tokens } from './connections-client-state.js';
import { benchUserId, type ClientCommand } from './connections-protocol.js';
import { openAll } from './connections-tabs.js';

/**
 * A load-generator child of `bench/connections.ts`: holds its share of the browser tabs (one
 * `ws` client each, as a tab would hold one socket), connects them step by step from its own
 * loopback source addresses, checks what the server sends (`unread_count` first, the pushed
 * notification once, the catch-up after a reconnect exactly once and in id order) and reports
 * timings. Connection `i` of the run belongs to child `i % of` and to user `i % users`.
 */

process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group: the parent decides (it kills its children).
process.on('SIGINT', () => undefined);

const rssBytes = (): number => process.memoryUsage.rss();

async function handle(command: ClientCommand): Promise<void> {
  switch (command.cmd) {
    case 'init': {
      state.init = command;
      const started = performance.now();
      state.tabs = [];
      for (let index = state.init.childIndex; index < state.init.connections; index += state.init.of)
        state.tabs.push({
          index,
          user: index % state.init.users,
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
      const secret = new TextEncoder().encode(state.init.secret);
      for (const tab of state.tabs) {
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
      send({ ev: 'inited', tabs: state.tabs.length, signMs: performance.now() - started });
      return;
    }
    case 'connect': {
      state.phase = 'connect';
      const batch = state.tabs.filter(
        (tab) => tab.index < command.upTo && !tab.ready && tab.socket === undefined,
      );
      const result = await openAll(batch, state.init.concurrency, {
        reconnect: false,
        deadlineAt: wallClock() + command.timeoutMs,
        withLastId: false,
      });
      send({
        ev: 'connected',
        open: state.tabs.filter((tab) => tab.ready).length,
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
      state.phase = 'push';
      for (const tab of state.tabs) tab.ids = [];
      const open = state.tabs.filter((tab) => tab.ready);
      state.push = { latencies: [], lastAt: 0, closed: 0, reported: open.length === 0 };
      state.pushWaiting = open.length;
      send({ ev: 'armed', tabs: open.length });
      return;
    }
    case 'report':
      send(
        state.phase === 'storm'
          ? { ev: 'storm-report', ...stormReport() }
          : { ev: 'push-report', ...pushReport() },
      );
      return;
    case 'disconnect': {
      state.phase = 'connect';
      const leaving = state.tabs.filter((tab) => tab.user < command.stormUsers && tab.ready);
      for (const tab of leaving) {
        const socket = tab.socket;
        tab.socket = undefined;
        tab.ready = false;
        // Like a tab whose network went away: no close handshake, the TCP connection just ends.
        socket?.terminate();
      }
      state.storm.tabs = leaving;
      send({ ev: 'disconnected', tabs: leaving.length });
      return;
    }
    case 'reconnect': {
      state.phase = 'storm';
      const list = state.storm.tabs;
      state.storm = {
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
      state.storm.failed = result.failed;
      state.storm.retried = result.retried;
      state.storm.refusals = result.refusals;
      state.storm.firstError = result.firstError;
      for (let k = 0; k < result.failed; k++) stormSettled();
      return;
    }
  }
}

process.on('message', (command: ClientCommand) => {
  handle(command).catch((error: Error) => send({ ev: 'failed', message: error.stack ?? error.message }));
});
