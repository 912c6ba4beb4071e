// The fault scenarios that kill or pause a process of the service: workers and delivery servers.
import { sleep, wallClock } from '../../bench/stack.js';
import { waitUntil } from './progress.js';
import { ACTIVITY_TIMEOUT_MS, envSeconds, sinceFault, type Scenario } from './scenario.js';

export const baseline: Scenario = {
  name: 'baseline',
  fault: 'none (reference: the same load with no fault)',
  inject: async () => ({ at: wallClock() }),
};

export const workerSigkill: Scenario = {
  name: 'worker-sigkill',
  fault: 'SIGKILL worker 1 while the alerts fire; start it again',
  watchLogs: (rig) => rig.stack.workers,
  async inject({ rig, measures }) {
    const worker = rig.stack.workers[0]!;
    const at = wallClock();
    await worker.kill();
    await worker.start();
    measures['worker 1 serving again after'] = sinceFault(at);
    return { at };
  },
};

export const serverSigkill: Scenario = {
  name: 'server-sigkill',
  fault: 'SIGKILL delivery server 1 with its tabs connected; start it again; tabs reconnect and resume',
  tabsOnFaulted: ({ load }) => load.tabs.filter((tab) => tab.connected && tab.server === 0).length,
  async inject({ rig, load, measures }) {
    const server = rig.stack.servers[0]!;
    const onIt = load.tabs.filter((tab) => tab.connected && tab.server === 0);
    const openedBefore = new Map(onIt.map((tab) => [tab, tab.opened[0]! + tab.opened[1]!]));
    const at = wallClock();
    await server.kill();
    await server.start();
    measures['server 1 serving again after'] = sinceFault(at);
    await waitUntil(
      `the ${onIt.length} tabs of server 1 to reconnect`,
      () => onIt.every((tab) => tab.connected && tab.opened[0]! + tab.opened[1]! > openedBefore.get(tab)!),
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    measures['its tabs all reconnected after'] = sinceFault(at);
    const movedOver = onIt.filter((tab) => tab.server === 1).length;
    measures['tabs reconnected: to server 2 / to the restarted one'] =
      `${movedOver} / ${onIt.length - movedOver}`;
    const attempts = onIt.reduce((sum, tab) => sum + tab.attempts[0]! + tab.attempts[1]!, 0);
    measures['upgrade attempts per tab (whole life)'] = (attempts / Math.max(1, onIt.length)).toFixed(1);
    return { at };
  },
};

export const workerSigstop: Scenario = {
  name: 'worker-sigstop',
  fault: `SIGSTOP worker 1 past its activity timeout (${ACTIVITY_TIMEOUT_MS / 1000} s), then SIGCONT`,
  watchLogs: (rig) => rig.stack.workers,
  async inject({ rig, measures }) {
    const pauseMs = envSeconds('FAULTS_PAUSE_S', ACTIVITY_TIMEOUT_MS / 1000 + 10);
    const worker = rig.stack.workers[0]!;
    const skippedBefore = await rig.workerCounter('normx_notify_notifications_duplicates_skipped_total');
    const at = wallClock();
    worker.pause();
    await sleep(pauseMs);
    worker.resume();
    measures['worker 1 paused for'] = sinceFault(at);
    return {
      at,
      after: async () => {
        await worker.waitReady(Date.now() + 60_000);
        const skipped =
          (await rig.workerCounter('normx_notify_notifications_duplicates_skipped_total')) - skippedBefore;
        measures['stores skipped by the idempotency key'] = String(skipped);
      },
    };
  },
};
