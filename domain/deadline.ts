/**
 * A dossier's deadline, and the one place its union is unpacked: everything else reads it through
 * these helpers (the rules, the workflows, the texts, the search attributes, the database rows).
 */

/** A deadline is a calendar date in the owner's zone, or an exact instant. */
export type Deadline = { dueDate: string; dueAt?: undefined } | { dueAt: string; dueDate?: undefined };

/** What carries a deadline, possibly unchecked: a request, a snapshot, a row's two nullable columns. */
export interface DeadlineFields {
  dueDate?: string | null;
  dueAt?: string | null;
}

/** The deadline a value carries: its `dueAt` when it has one, else its `dueDate`. */
export function deadlineOf(value: DeadlineFields): Deadline {
  return value.dueAt !== undefined && value.dueAt !== null
    ? { dueAt: value.dueAt }
    : { dueDate: value.dueDate ?? '' };
}

/** Replaces the deadline, so that a value never carries both a date and an instant. */
export function withDeadline<T extends object>(
  value: T,
  deadline: Deadline,
): Omit<T, 'dueDate' | 'dueAt'> & Deadline {
  const { dueDate: _date, dueAt: _at, ...rest } = value as T & DeadlineFields;
  return deadline.dueAt !== undefined
    ? { ...rest, dueAt: deadline.dueAt }
    : { ...rest, dueDate: deadline.dueDate };
}

/** One answer per kind of deadline: `date` for a calendar `dueDate`, `instant` for a `dueAt`. */
export function matchDeadline<R>(
  deadline: Deadline,
  on: { date: (dueDate: string) => R; instant: (dueAt: string) => R },
): R {
  return deadline.dueAt !== undefined ? on.instant(deadline.dueAt) : on.date(deadline.dueDate);
}

/** The deadline as the database's two nullable columns: exactly one is set. */
export function deadlineColumns(deadline: Deadline): { dueDate: string | null; dueAt: string | null } {
  return { dueDate: deadline.dueDate ?? null, dueAt: deadline.dueAt ?? null };
}
