import { REMINDER_TYPES } from '../domain/notification-types.js';
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import {
  BULK_MAX_DOSSIERS,
  CLOCK_TIME_PATTERN,
  DOSSIER_ID_PATTERN,
  DUE_AT_FROM,
  DUE_AT_UNTIL,
  DUE_DATE_MAX,
  DUE_DATE_MIN,
  ID_MAX_LENGTH,
  NOTIFICATION_LABEL_MAX_LENGTH,
  OWNER_NAME_MAX_LENGTH,
  TIME_ZONE_MAX_LENGTH,
  TITLE_MAX_LENGTH,
  isCleanId,
  isDueAtInRange,
  isDueDateInRange,
  isStorableText,
} from '../domain/limits.js';
import { issuesOf, type FieldIssue } from './input-issues.js';
import { isClosedDaySpec, MAX_CLOSED_DAYS } from '../domain/business-days.js';
import { isKnownCalendar } from './known-calendars.js';
import { SNOOZE_MAX_DAYS, SNOOZE_MIN_MINUTES, SNOOZE_PRESETS } from '../domain/snooze.js';
import { isNotificationId } from '../domain/notification-id.js';

/**
 * Input schemas of the dossier API, shared by the typed client and the REST layer: one source
 * of truth for validation. Unknown fields are rejected, and each error names its field. The
 * bounds come from domain/limits.ts, which the tables follow too: what passes here can be stored.
 * A field gets at most one issue: each check aborts the field's later ones (`abort: true`).
 */

const abort = (message: string) => ({ message, abort: true });

export const dossierId = z
  .string()
  .regex(DOSSIER_ID_PATTERN, `must be 1 to ${ID_MAX_LENGTH} characters among letters, digits and . _ : -`);

/** A free id of the NormX backend (user, event): storable, printable, bounded. */
const freeId = z
  .string()
  .min(1, abort('must not be empty'))
  .max(ID_MAX_LENGTH, abort(`must be at most ${ID_MAX_LENGTH} characters`))
  .refine(isCleanId, 'must not contain control characters (U+0000 included) nor lone surrogates')
  .describe(`1 to ${ID_MAX_LENGTH} characters, no control character (U+0000 included) nor lone surrogate`);
export const userId = freeId;
export const eventId = freeId;

/** Free text stored as given: PostgreSQL refuses U+0000, and a lone surrogate is not UTF-8. */
const text = (max: number) =>
  z
    .string()
    .max(max, abort(`must be at most ${max} characters`))
    .refine(isStorableText, 'must not contain U+0000 nor lone surrogates')
    .describe(`At most ${max} characters, no U+0000 nor lone surrogate`);

export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, abort('must be a calendar date YYYY-MM-DD'))
  .refine((value) => DateTime.fromISO(value).isValid, abort('is not a real calendar date'))
  .refine(isDueDateInRange, `must be between ${DUE_DATE_MIN} and ${DUE_DATE_MAX}`)
  .describe(`A calendar date YYYY-MM-DD from ${DUE_DATE_MIN} to ${DUE_DATE_MAX}`);
export const instant = z.iso
  .datetime({ offset: true, ...abort('must be an ISO 8601 instant with a time zone offset') })
  .refine(isDueAtInRange, `must be from ${DUE_AT_FROM} to before ${DUE_AT_UNTIL}`)
  .describe(`An ISO 8601 instant with its offset, from ${DUE_AT_FROM} to before ${DUE_AT_UNTIL}`)
  .transform((value) => new Date(value).toISOString());
export const timeZone = z
  .string()
  .max(TIME_ZONE_MAX_LENGTH, abort(`must be at most ${TIME_ZONE_MAX_LENGTH} characters`))
  .refine((zone) => IANAZone.isValidZone(zone), 'is not a known IANA time zone');

/** A user's own business calendar (domain/business-days.ts, `UserCalendar`), or `off`; null: the service's. */
export const userCalendar = z.union(
  [
    z.literal('off'),
    z
      .strictObject({
        country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code in capitals, such as FR'),
        region: z
          .string()
          .regex(/^[A-Za-z0-9]{1,8}$/, 'must be a region code of 1 to 8 letters or digits, such as 57')
          .optional(),
        closedDays: z
          .array(z.string().refine(isClosedDaySpec, 'must be yyyy-MM-dd (once) or MM-dd (every year)'))
          .max(MAX_CLOSED_DAYS)
          .optional(),
      })
      .refine((calendar) => isKnownCalendar(calendar.country, calendar.region), {
        message: 'is not a calendar date-holidays knows (a country such as FR, a region such as 57)',
        path: ['country'],
      }),
  ],
  { error: 'must be "off", null (the service\'s calendar) or { country, region?, closedDays? }' },
);

/** `HH:mm`, 24-hour. */
export const clockTime = z.string().regex(CLOCK_TIME_PATTERN, 'must be a time HH:mm, such as 08:00');

export const ownerProfile = z.strictObject({
  name: text(OWNER_NAME_MAX_LENGTH).optional(),
  locale: z.enum(['fr', 'en']).optional(),
  timezone: timeZone.optional(),
  businessCalendar: userCalendar.nullable().optional(),
  reminderTime: clockTime.nullable().optional(),
});

const exactlyOneDeadline = (value: { dueDate?: string; dueAt?: string }, ctx: z.RefinementCtx): void => {
  if ((value.dueDate === undefined) === (value.dueAt === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['dueDate'], message: 'give exactly one of dueDate or dueAt' });
  }
};

/** Exactly one of `dueDate` (the owner's calendar date) or `dueAt` (an exact instant). */
export const deadline = z
  .strictObject({ dueDate: calendarDate.optional(), dueAt: instant.optional() })
  .superRefine(exactlyOneDeadline);

/** A dossier's fields, before the one-deadline rule (for schemas derived from it). */
export const dossierFields = z.strictObject({
  id: dossierId,
  title: z
    .string()
    .trim()
    .min(1, abort('must not be empty'))
    .max(TITLE_MAX_LENGTH, abort(`must be at most ${TITLE_MAX_LENGTH} characters after trimming`))
    .refine(isStorableText, 'must not contain U+0000 nor lone surrogates')
    .describe(`1 to ${TITLE_MAX_LENGTH} characters after trimming, no U+0000 nor lone surrogate`),
  ownerId: userId,
  dueDate: calendarDate.optional(),
  dueAt: instant.optional(),
  urgent: z.boolean().optional(),
  owner: ownerProfile.optional(),
  eventId: eventId.optional(),
});

export const dossierInput = dossierFields.superRefine(exactlyOneDeadline);
/** An onboarding batch: distinct dossiers (two calls about one dossier in a batch would race). */
export const dossierBatch = z
  .array(dossierInput)
  .min(1)
  .max(BULK_MAX_DOSSIERS)
  .superRefine((dossiers, ctx) => {
    const seen = new Set<string>();
    dossiers.forEach((dossier, index) => {
      if (seen.has(dossier.id))
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'appears twice in the batch' });
      seen.add(dossier.id);
    });
  });
/** The body of an update: the dossier without its id (which is in the path). */
export const dossierUpdate = dossierFields.omit({ id: true }).superRefine(exactlyOneDeadline);

/**
 * When a snooze ends: an instant from SNOOZE_MIN_MINUTES to SNOOZE_MAX_DAYS ahead, or a preset
 * (domain/snooze.ts) the dossier's workflow places in the owner's zone. Exactly one.
 */
const snoozeFields = {
  until: instant
    .refine(
      (value) => Date.parse(value) >= Date.now() + SNOOZE_MIN_MINUTES * 60_000,
      `must be at least ${SNOOZE_MIN_MINUTES} minutes from now`,
    )
    .refine(
      (value) => Date.parse(value) <= Date.now() + SNOOZE_MAX_DAYS * 86_400_000,
      `must be at most ${SNOOZE_MAX_DAYS} days from now`,
    )
    .optional(),
  preset: z.enum(SNOOZE_PRESETS).optional(),
};
const exactlyOneWhen = (value: { until?: string; preset?: string }, ctx: z.RefinementCtx): void => {
  if ((value.until === undefined) === (value.preset === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['preset'], message: 'give exactly one of until or preset' });
  }
};
export const snoozeWhen = z.strictObject(snoozeFields).superRefine(exactlyOneWhen);

/** A snooze as the client API sends it: which notification, whose, and when it comes again. */
export const snoozeRequest = z
  .strictObject({
    notificationId: z.string().refine(isNotificationId, 'must be a notification id'),
    type: z.enum(REMINDER_TYPES),
    kind: text(NOTIFICATION_LABEL_MAX_LENGTH),
    userId,
    ...snoozeFields,
  })
  .superRefine(exactlyOneWhen);

export type SnoozeInput = z.input<typeof snoozeRequest>;
export type DossierInput = z.input<typeof dossierInput>;
export type DeadlineInput = z.input<typeof deadline>;
export type OwnerProfileInput = z.input<typeof ownerProfile>;

/** A rejected input: `issues` name each bad field (client/input-issues.ts). */
export class ValidationError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(`Invalid input: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, field = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(issuesOf(result.error, { at: field }));
}
