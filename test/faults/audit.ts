// The end of a fault scenario: waiting for the load's full recovery, then the audit of rows and tabs.
import { mapBounded } from '../../domain/bounded-concurrency.js';
import { sleep, wallClock, type Stack } from '../../bench/stack.js';
import { percentile } from '../../support/percentile.js';
import type { Load } from './harness.js';
import { seconds, waitUntil } from './progress.js';

/** One row of the results table, and what the scenario measured besides. */
export interface ScenarioResult {
  scenario: string;
  fault: string;
  dossiers: number;
  expectedRows: number;
  users: number;
  tabs: number;
  /** Tabs connected to the faulted server at the fault, when that is what the fault hit. */
  tabsOnFaulted?: number;
  lostRows: number;
  duplicatedRows: number;
  unexpectedRows: number;
  /** Per tab: expected notifications never delivered, delivered twice, out of order, or not the user's. */
  lostDeliveries: number;
  duplicatedDeliveries: number;
  outOfOrder: number;
  foreignDeliveries: number;
  /** Frames the wire carried twice to a tab (the library drops the repeat). */
  duplicateFrames: number;
  /** Dossiers whose `reminderPlan` disagrees with the expected plan. */
  planMismatches: number;
  /** Fault to the last expected delivery on every tab (undefined: never, timed out). */
  recoveryMs: number | undefined;
  /** `overdue` alerts: created_at − scheduled_for, p50 and max. */
  latenessP50Ms: number;
  latenessMaxMs: number;
  /** What the scenario measured besides, e.g. 'LISTEN lost noticed after': '12.3 s'. */
  measures: Record<string, string>;
  notes: string[];
  /** Examples of what went wrong, for the failure message. */
  examples: string[];
}

/** The load's rows, and whether every expected row is there and every tab has its user's. */
async function loadSnapshot(stack: Stack, load: Load) {
  const rows = await stack.query<{ id: string; user_id: string; dossier_id: string; kind: string }>(
    'select id::text as id, user_id, dossier_id, kind from notifications where dossier_id like $1 order by id',
    [`${load.prefix}-%`],
  );
  const keys = new Set(rows.map((row) => `${row.dossier_id}/${row.kind}`));
  const expectedKeys = load.dossiers.length * 2;
  let rowsComplete = true;
  for (const dossier of load.dossiers) {
    if (!keys.has(`${dossier.id}/created`) || !keys.has(`${dossier.id}/overdue`)) {
      rowsComplete = false;
      break;
    }
  }
  const byUser = new Map<string, string[]>();
  for (const row of rows) {
    const list = byUser.get(row.user_id);
    if (list) list.push(row.id);
    else byUser.set(row.user_id, [row.id]);
  }
  const tabsComplete =
    rowsComplete &&
    load.tabs.every((tab) => (byUser.get(tab.userId) ?? []).every((id) => tab.deliveredAt.has(id)));
  return { rows, byUser, expectedKeys, complete: rowsComplete && tabsComplete };
}

/**
 * Waits for full recovery: every expected row stored and delivered to every tab of its user.
 * Returns the wall-clock instant of the last expected delivery, or undefined at the timeout.
 */
export async function waitForRecovery(
  stack: Stack,
  load: Load,
  timeoutMs: number,
  log: (message: string) => void,
): Promise<number | undefined> {
  const deadline = wallClock() + timeoutMs;
  let lastLog = wallClock();
  for (;;) {
    const snapshot = await loadSnapshot(stack, load);
    if (snapshot.complete) {
      let last = 0;
      for (const tab of load.tabs)
        for (const id of snapshot.byUser.get(tab.userId) ?? [])
          last = Math.max(last, tab.deliveredAt.get(id)!);
      return last;
    }
    if (wallClock() > deadline) return undefined;
    if (wallClock() - lastLog > 10_000) {
      lastLog = wallClock();
      const missingTabs = load.tabs.filter(
        (tab) => !(snapshot.byUser.get(tab.userId) ?? []).every((id) => tab.deliveredAt.has(id)),
      ).length;
      log(
        `${load.name}: ${snapshot.rows.length} of ${snapshot.expectedKeys} rows, ${missingTabs} tabs missing some`,
      );
    }
    await sleep(200);
  }
}

/**
 * The audit. First the workflows must be done with the alerts (each dossier's plan says
 * `overdue` sent, `overdue_critical` pending: no activity of theirs can store anything more),
 * then frames still in flight get `settleMs`; then rows and tabs against the expected set.
 */
export async function auditLoad(
  stack: Stack,
  load: Load,
  fault: { scenario: string; fault: string; at: number; recoveredAt: number | undefined },
  settleMs = 1000,
): Promise<ScenarioResult> {
  const client = await stack.dossierClient();
  let planMismatches = 0;
  const examples: string[] = [];
  await mapBounded(load.dossiers, 8, async (dossier) => {
    let detail: string | undefined;
    try {
      // The last activity of a run that was interrupted may still be retrying: wait for it.
      await waitUntil(
        `the plan of ${dossier.id}`,
        async () => {
          const plan = await client.plan(dossier.id);
          const sent = plan.sent.map((s) => s.kind).join(',');
          const pending = plan.pending.map((p) => p.kind).join(',');
          detail = `sent [${sent}], pending [${pending}]`;
          return sent === 'overdue' && pending === 'overdue_critical';
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    } catch {
      planMismatches += 1;
      if (examples.length < 5) examples.push(`plan of ${dossier.id}: ${detail ?? 'unreadable'}`);
    }
  });
  await sleep(settleMs);

  const { rows, byUser } = await loadSnapshot(stack, load);
  const perKey = new Map<string, number>();
  for (const row of rows)
    perKey.set(`${row.dossier_id}/${row.kind}`, (perKey.get(`${row.dossier_id}/${row.kind}`) ?? 0) + 1);
  let lostRows = 0;
  let duplicatedRows = 0;
  const expected = new Set<string>();
  for (const dossier of load.dossiers) {
    for (const kind of ['created', 'overdue']) {
      const key = `${dossier.id}/${kind}`;
      expected.add(key);
      const n = perKey.get(key) ?? 0;
      if (n === 0) {
        lostRows += 1;
        if (examples.length < 10) examples.push(`no row for ${key}`);
      }
      if (n > 1) {
        duplicatedRows += n - 1;
        if (examples.length < 10) examples.push(`${n} rows for ${key}`);
      }
    }
  }
  const unexpected = [...perKey.keys()].filter((key) => !expected.has(key));
  for (const key of unexpected.slice(0, 3)) examples.push(`unexpected row ${key}`);
  const ownerOf = new Map(load.dossiers.map((d) => [d.id, d.ownerId]));
  for (const row of rows) {
    if (ownerOf.get(row.dossier_id) !== row.user_id && examples.length < 10)
      examples.push(`row ${row.id} of ${row.dossier_id} went to ${row.user_id}`);
  }

  let lostDeliveries = 0;
  let duplicatedDeliveries = 0;
  let outOfOrder = 0;
  let foreignDeliveries = 0;
  let duplicateFrames = 0;
  for (const tab of load.tabs) {
    const own = byUser.get(tab.userId) ?? [];
    const ownSet = new Set(own);
    const seen = new Map<string, number>();
    let previous = -1n;
    for (const id of tab.delivered) {
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (BigInt(id) <= previous) outOfOrder += 1;
      previous = BigInt(id);
      if (!ownSet.has(id)) foreignDeliveries += 1;
    }
    for (const id of own) {
      const n = seen.get(id) ?? 0;
      if (n === 0) {
        lostDeliveries += 1;
        if (examples.length < 10)
          examples.push(
            `tab of ${tab.userId} (home server ${tab.home + 1}, ${tab.policy}, now on ${tab.server + 1}) never got ${id}`,
          );
      }
      if (n > 1) duplicatedDeliveries += n - 1;
    }
    const frames = new Map<string, number>();
    for (const id of tab.frames) frames.set(id, (frames.get(id) ?? 0) + 1);
    for (const n of frames.values()) if (n > 1) duplicateFrames += n - 1;
  }

  const lateness = await stack.query<{ ms: number }>(
    `select extract(epoch from created_at - scheduled_for)::float8 * 1000 as ms
       from notifications where kind = 'overdue' and dossier_id like $1 order by 1`,
    [`${load.prefix}-%`],
  );
  const latenessMs = lateness.map((row) => row.ms);
  return {
    scenario: fault.scenario,
    fault: fault.fault,
    dossiers: load.dossiers.length,
    expectedRows: expected.size,
    users: load.users.length,
    tabs: load.tabs.length,
    lostRows,
    duplicatedRows,
    unexpectedRows: unexpected.length,
    lostDeliveries,
    duplicatedDeliveries,
    outOfOrder,
    foreignDeliveries,
    duplicateFrames,
    planMismatches,
    recoveryMs: fault.recoveredAt === undefined ? undefined : Math.max(0, fault.recoveredAt - fault.at),
    latenessP50Ms: percentile(latenessMs, 50),
    latenessMaxMs: latenessMs.at(-1) ?? NaN,
    measures: {},
    notes:
      load.overranMs > 0
        ? [`the creation ended ${seconds(load.overranMs)} after the first alert fell due`]
        : [],
    examples,
  };
}

/** Lost and duplicated in one number each, for assertions. */
export const lostOf = (r: ScenarioResult): number => r.lostRows + r.lostDeliveries;
export const duplicatedOf = (r: ScenarioResult): number =>
  r.duplicatedRows + r.duplicatedDeliveries + r.duplicateFrames;
