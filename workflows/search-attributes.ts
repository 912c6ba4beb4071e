import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { matchDeadline, type Deadline } from '../domain/deadline.js';

/**
 * The custom search attributes of a dossier workflow, defined once: the workflow keeps them
 * current, the client sets the first ones at start, the dev server and the compose deployment
 * register them (names and types must match what the Temporal server knows).
 *
 * In the Web UI and the CLI: `DossierId="D-2026-0042"`, `OwnerId="u-17" AND DossierStatus="open"`,
 * `NextReminderAt < "2027-04-01T00:00:00Z"`.
 */
export const DossierIdAttribute = defineSearchAttributeKey('DossierId', SearchAttributeType.KEYWORD);
export const OwnerIdAttribute = defineSearchAttributeKey('OwnerId', SearchAttributeType.KEYWORD);
/** `open`, `done`, `cancelled` (and `unknown` for a call about a dossier the service never saw). */
export const DossierStatusAttribute = defineSearchAttributeKey('DossierStatus', SearchAttributeType.KEYWORD);
/**
 * The deadline: a calendar `dueDate` is stored as that date at 00:00 UTC (zone-free, so that
 * `DueDate = "2027-03-31T00:00:00Z"` finds the dossiers due on the 31st whatever their owner's
 * zone); a `dueAt` is stored as its exact instant.
 */
export const DueDateAttribute = defineSearchAttributeKey('DueDate', SearchAttributeType.DATETIME);
/** When the next armed reminder fires; absent when none is armed (done, cancelled). */
export const NextReminderAtAttribute = defineSearchAttributeKey(
  'NextReminderAt',
  SearchAttributeType.DATETIME,
);

export const dossierSearchAttributes = [
  DossierIdAttribute,
  OwnerIdAttribute,
  DossierStatusAttribute,
  DueDateAttribute,
  NextReminderAtAttribute,
] as const;

/** The type names of the Temporal CLI (`--search-attribute DossierId=Keyword`) and operator API. */
const cliTypeNames: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `Name=Type` pairs, as `temporal server start-dev --search-attribute` and `operator search-attribute create` take them. */
export const searchAttributeCliPairs = (): string[] =>
  dossierSearchAttributes.map((key) => `${key.name}=${cliTypeNames[key.type]}`);

/** A dossier's deadline as the `DueDate` attribute's value (see above). */
export function dueDateAttributeValue(deadline: Deadline): Date {
  return matchDeadline(deadline, {
    instant: (dueAt) => new Date(dueAt),
    date: (dueDate) => new Date(`${dueDate}T00:00:00Z`),
  });
}
