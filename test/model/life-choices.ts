// The raw choices of a random life: its zones, instants and actions as fast-check draws them.
import fc from 'fast-check';
import { DateTime } from 'luxon';

/**
 * What fast-check draws for a life (times as local days and minutes, deadlines relative to the
 * call, which action comes next): life-build.ts turns them into a `Life`, so that fast-check
 * shrinks the choices and the life shrinks with them.
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

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
export const TITLES = ['Bilan 2027', 'Bilan 2027 (v2)', 'Audit'];

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

export interface LocalTime {
  /** Days after the start's local date, in the zone of owner `zoneOf`. */
  day: number;
  minuteOfDay: number;
  zoneOf: number;
}
export type TimeChoice =
  | ({ kind: 'local' } & LocalTime)
  | { kind: 'inOutage'; outage: number; fraction: number }
  | { kind: 'asPrevious' };

export type DeadlineChoice =
  | { kind: 'date'; days: number }
  | { kind: 'atMidnight'; days: number }
  | { kind: 'atLocal'; days: number; minuteOfDay: number }
  | { kind: 'atSoon'; minutes: number }
  | { kind: 'same' }
  | { kind: 'earlierOne'; back: number }
  | { kind: 'shift'; days: number; minutes: number };

export type ActionChoice =
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

export interface RawLife {
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

export function rawLife(options: LifeOptions): fc.Arbitrary<RawLife> {
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
