import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * Input schemas of the dossier API, shared by the typed client and the REST layer: one source
 * of truth for validation. Unknown fields are rejected, and each error names its field.
 */

export const dossierId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 characters among letters, digits and . _ : -');
export const userId = z.string().min(1).max(128);

export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a calendar date YYYY-MM-DD')
  .refine((value) => DateTime.fromISO(value).isValid, 'is not a real calendar date');
export const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());
export const timeZone = z
  .string()
  .refine((zone) => IANAZone.isValidZone(zone), 'is not a known IANA time zone');

export const ownerProfile = z.strictObject({
  name: z.string().max(200).optional(),
  locale: z.enum(['fr', 'en']).optional(),
  timezone: timeZone.optional(),
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
  title: z.string().trim().min(1).max(500),
  ownerId: userId,
  dueDate: calendarDate.optional(),
  dueAt: instant.optional(),
  urgent: z.boolean().optional(),
  owner: ownerProfile.optional(),
  eventId: z.string().min(1).max(128).optional(),
});

export const dossierInput = dossierFields.superRefine(exactlyOneDeadline);
/** The body of an update: the dossier without its id (which is in the path). */
export const dossierUpdate = dossierFields.omit({ id: true }).superRefine(exactlyOneDeadline);

export type DossierInput = z.input<typeof dossierInput>;
export type DeadlineInput = z.input<typeof deadline>;
export type OwnerProfileInput = z.input<typeof ownerProfile>;

/** A rejected input: `issues` name each bad field. */
export class ValidationError extends Error {
  constructor(readonly issues: Array<{ field: string; message: string }>) {
    super(`Invalid input: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, field = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.flatMap((issue) => {
      const at = [field, ...issue.path.map(String)];
      // An unknown field is named itself, not its parent.
      const names = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...at, key]) : [at];
      return names.map((path) => ({
        field: path.filter(Boolean).join('.') || '(input)',
        message: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
      }));
    }),
  );
}
