import type WebSocket from 'ws';
import type { ClientEvent, InitCommand, PushReport, StormReport } from './connections-protocol.js';

/** What a load-generator child of the connections bench holds: its tabs, the phase, the push and storm tallies. */

export const send = (event: ClientEvent): void => {
  process.send?.(event);
};

export type Phase = 'connect' | 'push' | 'storm';

export interface Tab {
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

interface PushTally {
  latencies: number[];
  lastAt: number;
  closed: number;
  reported: boolean;
}

interface StormTally {
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
}

/** The user of each tab's token. */
export const tokens = new Map<number, string>();

export const state: {
  init: InitCommand;
  tabs: Tab[];
  phase: Phase;
  push: PushTally;
  storm: StormTally;
  /** Open tabs still waiting for their pushed notification. */
  pushWaiting: number;
} = {
  init: undefined as unknown as InitCommand,
  tabs: [],
  phase: 'connect',
  push: { latencies: [], lastAt: 0, closed: 0, reported: true },
  storm: {
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
  },
  pushWaiting: 0,
};

export function markWrong(tab: Tab, why: string): void {
  if (tab.done || tab.wrong) return;
  tab.wrong = why;
  state.storm.firstWrong ??= why;
  stormSettled();
}

export function stormSettled(): void {
  state.storm.pending -= 1;
  if (state.storm.pending === 0 && !state.storm.reported) {
    state.storm.reported = true;
    send({ ev: 'reconnected', ...stormReport() });
  }
}

export function pushReport(): PushReport {
  let exactlyOne = 0;
  let missing = 0;
  let extra = 0;
  const open = state.tabs.filter((tab) => tab.ready);
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
    latencies: Float64Array.from(state.push.latencies),
    lastAt: state.push.lastAt,
    closed: state.push.closed,
  };
}

export function checkPushDone(): void {
  state.pushWaiting -= 1;
  if (state.pushWaiting === 0 && !state.push.reported) {
    state.push.reported = true;
    send({ ev: 'pushed', ...pushReport() });
  }
}

export function stormReport(): StormReport {
  const complete = state.storm.tabs.filter((tab) => tab.done);
  return {
    tabs: state.storm.tabs.length,
    complete: complete.length,
    wrong: state.storm.tabs.filter((tab) => tab.wrong !== undefined).length,
    firstWrong: state.storm.firstWrong,
    failed: state.storm.failed,
    retried: state.storm.retried,
    refusals: state.storm.refusals,
    firstError: state.storm.firstError,
    catchUpMs: Float64Array.from(complete, (tab) => tab.doneAt - tab.firstAttemptAt),
    openMs: Float64Array.from(complete, (tab) => tab.openAt - tab.firstAttemptAt),
    firstStartAt: state.storm.firstStartAt,
    lastDoneAt: state.storm.lastDoneAt,
    lateFrames: state.storm.lateFrames,
  };
}
