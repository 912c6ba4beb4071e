import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Life, LifeAction, LifeStep } from './life.js';
import type { Deadline } from './reference-model.js';

/**
 * Random dossier lives for the model-based test: fast-check draws raw choices (times as local
 * days and minutes, deadlines relative to the call, which action comes next), then `buildLife`
 * turns them into a `Life` deterministically, so fast-check shrinks the choices and the life
 * shrinks with them.
 */

export const ZONES = [
  'Europe/Paris',
  'America/Montreal',
  'Asia/Bangkok',
  'Asia/Kathmandu',
  'Pacific/Noumea',
  'Australia/Adelaide',
  'UTC',
] as const;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const TITLES = ['Bilan 2027', 'Bilan 2027 (v2)', 'Audit'];

export interface LifeOptions {
  /** Calls after the create and its prelude (default 12). */
  maxSteps?: number;
  /** Worker outages (default 3). */
  maxOutages?: number;
}

/** Instants (to the hour) where Europe/Paris, America/New_York or Australia/Sydney change offset, 2026–2028. */
export const DST_CHANGES: readonly number[] = (() => {
  const changes: number[] = [];
  const offset = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).offset;
  for (const zone of ['Europe/Paris', 'America/New_York', 'Australia/Sydney']) {
    for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2029, 0, 1); day += DAY) {
      if (offset(day, zone) === offset(day + DAY, zone)) continue;
      let hour = day;
      while (offset(hour, zone) === offset(day, zone)) hour += DAY / 24;
      changes.push(hour);
    }
  }
  return changes.sort((a, b) => a - b);
})();

// ---- Raw choices ----

interface LocalTime {
  /** Days after the start's local date, in the zone of owner `zoneOf`. */
  day: number;
  minuteOfDay: number;
  zoneOf: number;
}
type TimeChoice =
  | ({ kind: 'local' } & LocalTime)
  | { kind: 'inOutage'; outage: number; fraction: number }
  | { kind: 'asPrevious' };

type DeadlineChoice =
  | { kind: 'date'; days: number }
  | { kind: 'atMidnight'; days: number }
  | { kind: 'atLocal'; days: number; minuteOfDay: number }
  | { kind: 'atSoon'; minutes: number }
  | { kind: 'same' }
  | { kind: 'earlierOne'; back: number }
  | { kind: 'shift'; days: number; minutes: number };

type ActionChoice =
  | {
      type: 'upsert';
      owner: number | undefined;
      title: number | undefined;
      deadline: DeadlineChoice;
      urgent: boolean | undefined;
      zone: number | undefined;
    }
  | { type: 'reschedule'; deadline: DeadlineChoice }
  | { type: 'assign'; owner: number; zone: number | undefined }
  | { type: 'ownerZone'; owner: number; zone: number }
  | { type: 'markUrgent' | 'unmarkUrgent' | 'complete' | 'cancel' | 'reopen' }
  | { type: 'retry'; back: number };

interface RawLife {
  dossierId: string;
  start: number;
  endMinutes: number;
  ownerZones: number[];
  dueAtStyle: 'utc' | 'local';
  outages: Array<{ from: LocalTime; minutes: number }>;
  prelude: Array<'markUrgent' | 'assign'>;
  created: boolean;
  create: { owner: number; title: number; deadline: DeadlineChoice; urgent: boolean | undefined };
  actions: ActionChoice[];
  times: TimeChoice[];
}

const minuteOfDay = fc.oneof(
  fc.constantFrom(
    0,
    1,
    7 * 60 + 30,
    7 * 60 + 55,
    7 * 60 + 59,
    8 * 60,
    8 * 60 + 1,
    23 * 60 + 30,
    23 * 60 + 59,
  ),
  fc.integer({ min: 0, max: 24 * 60 - 1 }),
);
const localTime = (maxDay: number): fc.Arbitrary<LocalTime> =>
  fc.record({ day: fc.integer({ min: 0, max: maxDay }), minuteOfDay, zoneOf: fc.nat(2) });

const timeChoice: fc.Arbitrary<TimeChoice> = fc.oneof(
  { weight: 6, arbitrary: localTime(20).map((t) => ({ kind: 'local' as const, ...t })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('inOutage' as const),
      outage: fc.nat(2),
      fraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'asPrevious' as const }) },
);

const freshDeadline: fc.Arbitrary<DeadlineChoice> = fc.oneof(
  fc.record({ kind: fc.constant('date' as const), days: fc.integer({ min: -6, max: 15 }) }),
  fc.record({ kind: fc.constant('atMidnight' as const), days: fc.integer({ min: -6, max: 15 }) }),
  fc.record({ kind: fc.constant('atLocal' as const), days: fc.integer({ min: -6, max: 15 }), minuteOfDay }),
  fc.record({ kind: fc.constant('atSoon' as const), minutes: fc.integer({ min: -6 * 60, max: 6 * 60 }) }),
);
const anyDeadline: fc.Arbitrary<DeadlineChoice> = fc.oneof(
  { weight: 4, arbitrary: freshDeadline },
  { weight: 1, arbitrary: fc.constant({ kind: 'same' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('earlierOne' as const), back: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('shift' as const),
      days: fc.integer({ min: -5, max: 5 }),
      minutes: fc.oneof(fc.constant(0), fc.integer({ min: -180, max: 180 })),
    }),
  },
);

const optional = <T>(arb: fc.Arbitrary<T>, freq: number) => fc.option(arb, { nil: undefined, freq });
const urgentField = fc.constantFrom(undefined, undefined, undefined, true, false);

const actionChoice: fc.Arbitrary<ActionChoice> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('upsert' as const),
      owner: optional(fc.nat(2), 2),
      title: optional(fc.nat(TITLES.length - 1), 2),
      deadline: anyDeadline,
      urgent: urgentField,
      zone: optional(fc.nat(ZONES.length - 1), 4),
    }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('reschedule' as const), deadline: anyDeadline }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('assign' as const),
      owner: fc.nat(2),
      zone: optional(fc.nat(ZONES.length - 1), 4),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('ownerZone' as const),
      owner: fc.nat(2),
      zone: fc.nat(ZONES.length - 1),
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      type: fc.constantFrom(
        ...([
          'markUrgent',
          'markUrgent',
          'unmarkUrgent',
          'complete',
          'complete',
          'cancel',
          'reopen',
          'reopen',
        ] as const),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('retry' as const), back: fc.nat(3) }) },
);

const startInstant = fc.oneof(
  fc
    .integer({ min: Date.UTC(2026, 0, 1) / MINUTE, max: Date.UTC(2029, 0, 1) / MINUTE - 1 })
    .map((m) => m * MINUTE),
  fc
    .tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -12 * 24 * 60, max: 3 * 24 * 60 }))
    .map(([change, minutes]) => change + minutes * MINUTE),
);

function rawLife(options: LifeOptions): fc.Arbitrary<RawLife> {
  const maxSteps = options.maxSteps ?? 12;
  return fc.record({
    dossierId: fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/),
    start: startInstant,
    endMinutes: fc.oneof(
      fc.integer({ min: 0, max: 20 * 24 * 60 }),
      fc.integer({ min: 10 * 24 * 60, max: 20 * 24 * 60 }),
    ),
    ownerZones: fc.array(fc.nat(ZONES.length - 1), { minLength: 1, maxLength: 3 }),
    dueAtStyle: fc.constantFrom('utc' as const, 'local' as const),
    outages: fc.array(
      fc.record({
        from: localTime(20),
        minutes: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 2 * 24 * 60 })),
      }),
      { maxLength: options.maxOutages ?? 3 },
    ),
    prelude: fc.oneof(
      { weight: 5, arbitrary: fc.constant<RawLife['prelude']>([]) },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom('markUrgent' as const, 'assign' as const), { maxLength: 2 }),
      },
    ),
    created: fc.oneof(
      { weight: 19, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    create: fc.record({
      owner: fc.nat(2),
      title: fc.nat(TITLES.length - 1),
      deadline: freshDeadline,
      urgent: urgentField,
    }),
    actions: fc.array(actionChoice, { maxLength: maxSteps }),
    times: fc.array(timeChoice, { minLength: maxSteps + 3, maxLength: maxSteps + 3 }),
  });
}

// ---- Building the life ----

function buildLife(raw: RawLife): Life {
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

/** Random lives of one dossier, steps sorted by `at`. */
export function lifeArbitrary(options: LifeOptions = {}): fc.Arbitrary<Life> {
  return rawLife(options).map(buildLife);
}
