// Building a life: the raw choices of life-choices.ts turned, deterministically, into a `Life`.
import { DateTime } from 'luxon';
import {
  DAY,
  MINUTE,
  TITLES,
  ZONES,
  type ActionChoice,
  type DeadlineChoice,
  type LocalTime,
  type RawLife,
  type TimeChoice,
} from './life-choices.js';
import type { Life, LifeAction, LifeStep } from './life.js';
import type { Deadline } from './reference-model.js';

/**
 * The life a set of raw choices stands for: times placed (sorted) first, then the actions in
 * their order (the prelude, the create, the rest), each deadline and owner read at its call.
 */
export function buildLife(raw: RawLife): Life {
  const ownerIds = raw.ownerZones.map((_, i) => `u${i + 1}`);
  const owners = Object.fromEntries(ownerIds.map((id, i) => [id, ZONES[raw.ownerZones[i]!]!]));
  const zones: Record<string, string> = { ...owners };
  const ownerAt = (i: number) => ownerIds[i % ownerIds.length]!;
  const start = raw.start;
  const end = start + raw.endMinutes * MINUTE;
  const inLife = (t: number) => (t < start ? start : t > end ? start + ((t - start) % (end - start + 1)) : t);
  const local = (t: LocalTime) => {
    const day = DateTime.fromMillis(start, { zone: zones[ownerAt(t.zoneOf)]! }).plus({ days: t.day });
    return inLife(day.set({ hour: Math.floor(t.minuteOfDay / 60), minute: t.minuteOfDay % 60 }).toMillis());
  };

  const outages: Life['outages'] = [];
  const windows = raw.outages.map((o) => ({ from: local(o.from), to: local(o.from) + o.minutes * MINUTE }));
  for (const w of windows.sort((a, b) => a.from - b.from)) {
    const last = outages[outages.length - 1];
    if (last !== undefined && w.from <= last.to) last.to = Math.max(last.to, w.to);
    else outages.push({ ...w });
  }

  // Times first (sorted), then the actions in their order: the prelude, the create, the rest.
  const timeOf = (choice: TimeChoice, previous: number | undefined): number => {
    if (choice.kind === 'local') return local(choice);
    if (choice.kind === 'asPrevious') return previous ?? start;
    const outage = outages[choice.outage % Math.max(outages.length, 1)];
    if (outage === undefined) return start;
    const minutes = Math.floor((choice.fraction * (outage.to - outage.from)) / MINUTE);
    return Math.min(end, outage.from + minutes * MINUTE);
  };
  const times: number[] = [];
  for (const choice of raw.times) times.push(timeOf(choice, times[times.length - 1]));
  times.sort((a, b) => a - b);

  // One spelling per instant in a life (UTC, or the first owner's starting zone): equal instants, equal texts.
  const dueAtText = (ms: number) =>
    raw.dueAtStyle === 'utc'
      ? new Date(ms).toISOString()
      : DateTime.fromMillis(ms, { zone: owners.u1! }).toISO()!;
  const deadlines: Deadline[] = [];
  let owner = ownerAt(raw.create.owner);
  let title = TITLES[raw.create.title]!;
  const deadlineFor = (choice: DeadlineChoice, at: number): Deadline => {
    const zone = zones[owner]!;
    const current = deadlines[deadlines.length - 1];
    const callDay = DateTime.fromMillis(at, { zone }).startOf('day');
    switch (choice.kind) {
      case 'date':
        return { dueDate: callDay.plus({ days: choice.days }).toISODate()! };
      case 'atMidnight':
        return { dueAt: dueAtText(callDay.plus({ days: choice.days }).toMillis()) };
      case 'atLocal': {
        const { minuteOfDay: m, days } = choice;
        return {
          dueAt: dueAtText(
            callDay
              .plus({ days })
              .set({ hour: Math.floor(m / 60), minute: m % 60 })
              .toMillis(),
          ),
        };
      }
      case 'atSoon':
        return { dueAt: dueAtText(at + choice.minutes * MINUTE) };
      case 'same':
        return current ?? deadlineFor({ kind: 'date', days: 3 }, at);
      case 'earlierOne':
        return (
          deadlines[Math.max(0, deadlines.length - 1 - choice.back)] ?? deadlineFor({ kind: 'same' }, at)
        );
      case 'shift':
        if (current === undefined) return deadlineFor({ kind: 'date', days: choice.days }, at);
        if (current.dueDate !== undefined) {
          return { dueDate: DateTime.fromISO(current.dueDate).plus({ days: choice.days }).toISODate()! };
        }
        return { dueAt: dueAtText(Date.parse(current.dueAt) + choice.days * DAY + choice.minutes * MINUTE) };
    }
  };

  const choices = raw.prelude.map((type): ActionChoice =>
    type === 'assign' ? { type, owner: raw.create.owner + 1, zone: undefined } : { type },
  );
  if (raw.created) choices.push({ type: 'upsert', ...raw.create, zone: undefined });
  // Without a create, no upsert may come later either: the first upsert is the create.
  choices.push(...raw.actions.filter((a) => raw.created || a.type !== 'upsert'));

  const steps: LifeStep[] = [];
  let eventCount = 0;
  const eventId = () => `evt-${++eventCount}`;
  choices.forEach((choice, i) => {
    const at = times[Math.min(i, times.length - 1)]!;
    const action = actionFor(choice, at);
    if (action.type === 'upsert' || action.type === 'reschedule') deadlines.push(action.deadline);
    if (action.type === 'ownerZone') zones[action.ownerId] = action.timeZone;
    if ('ownerTimeZone' in action && action.ownerTimeZone !== undefined)
      zones[action.ownerId] = action.ownerTimeZone;
    if (action.type === 'upsert' || action.type === 'assign') owner = action.ownerId;
    if (action.type === 'upsert') title = action.title;
    steps.push({ at, action });
  });

  function actionFor(choice: ActionChoice, at: number): LifeAction {
    switch (choice.type) {
      case 'upsert':
        return {
          type: 'upsert',
          eventId: eventId(),
          title: choice.title === undefined ? title : TITLES[choice.title]!,
          ownerId: choice.owner === undefined ? owner : ownerAt(choice.owner),
          deadline: deadlineFor(choice.deadline, at),
          ...(choice.urgent !== undefined ? { urgent: choice.urgent } : {}),
          ...(choice.zone !== undefined ? { ownerTimeZone: ZONES[choice.zone]! } : {}),
        };
      case 'reschedule':
        return { type: 'reschedule', eventId: eventId(), deadline: deadlineFor(choice.deadline, at) };
      case 'assign':
        return {
          type: 'assign',
          eventId: eventId(),
          ownerId: ownerAt(choice.owner),
          ...(choice.zone !== undefined ? { ownerTimeZone: ZONES[choice.zone]! } : {}),
        };
      case 'ownerZone':
        return { type: 'ownerZone', ownerId: ownerAt(choice.owner), timeZone: ZONES[choice.zone]! };
      case 'retry': {
        // A caller's retry: the same call again, eventId included (usually of the call just before).
        const previous = steps.filter((s) => s.action.type !== 'ownerZone');
        const original = previous[Math.max(0, previous.length - 1 - choice.back)];
        return original !== undefined
          ? structuredClone(original.action)
          : { type: 'markUrgent', eventId: eventId() };
      }
      default:
        return { type: choice.type, eventId: eventId() };
    }
  }

  return { label: 'generated', dossierId: raw.dossierId, start, end, owners, steps, outages };
}
