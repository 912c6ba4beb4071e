// Comparing the workflow's deliveries with the model's, and both lists for a failure report.
import type { Delivery, Life } from './life.js';
import { isReminder, type ObservedDelivery } from './workflow-deliveries.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** How far a reminder's instant may be from the model's: timers fire a few ms late. */
const TIMER_TOLERANCE_MS = 2000;
/** For a reminder at a round's instant (sent at once, or by a timer after the calls): processing time. */
const ROUND_TOLERANCE_MS = 5000;

const line = (d: { at?: number; userId: string; type: string; kind: string }) =>
  `${d.at === undefined ? '(untimed)               ' : iso(d.at)} ${d.userId} ${d.type}/${d.kind}`;

/**
 * The differences between the model's deliveries and the workflow's: notices and urgent alerts as
 * a multiset (their storage instant is not on the workflow clock); reminders one for one, with
 * their instants within a tolerance (a few ms for timers, a few s at a round's instant).
 */
export function differences(life: Life, expected: Delivery[], actual: ObservedDelivery[]): string[] {
  const problems: string[] = [];
  const rounds = new Set(life.steps.map((step) => step.at));
  const key = (d: { userId: string; type: string; kind: string }) => `${d.userId} ${d.type}/${d.kind}`;

  const untimed = (list: Array<{ userId: string; type: string; kind: string }>) =>
    list
      .filter((d) => !isReminder(d))
      .map(key)
      .sort();
  const [want, got] = [untimed(expected), untimed(actual)];
  if (want.join('\n') !== got.join('\n')) {
    problems.push(
      `notices and urgent alerts differ: model [${want.join(', ')}], workflow [${got.join(', ')}]`,
    );
  }

  const groups = new Map<string, { model: number[]; workflow: number[] }>();
  const group = (k: string) => groups.get(k) ?? groups.set(k, { model: [], workflow: [] }).get(k)!;
  for (const d of expected.filter(isReminder)) group(key(d)).model.push(d.at);
  for (const d of actual.filter(isReminder)) group(key(d)).workflow.push(d.at!);
  for (const [k, { model, workflow }] of groups) {
    model.sort((a, b) => a - b);
    workflow.sort((a, b) => a - b);
    if (model.length !== workflow.length) {
      problems.push(
        `${k}: the model sends ${model.length} (${model.map(iso).join(', ')}), ` +
          `the workflow ${workflow.length} (${workflow.map(iso).join(', ')})`,
      );
      continue;
    }
    model.forEach((at, i) => {
      const lag = workflow[i]! - at;
      const ok = rounds.has(at) ? Math.abs(lag) <= ROUND_TOLERANCE_MS : lag >= 0 && lag <= TIMER_TOLERANCE_MS;
      if (!ok) problems.push(`${k}: the model sends it at ${iso(at)}, the workflow at ${iso(workflow[i]!)}`);
    });
  }
  return problems;
}

/** Both lists, for a failure report. */
export function deliveryReport(expected: Delivery[], actual: ObservedDelivery[]): string[] {
  const byTime = (a: string, b: string) => a.localeCompare(b);
  return [
    'model:',
    ...expected
      .map(line)
      .sort(byTime)
      .map((l) => `  ${l}`),
    'workflow:',
    ...actual
      .map(line)
      .sort(byTime)
      .map((l) => `  ${l}`),
  ];
}
