/**
 * The one set of limits on what the service accepts, shared by the input schemas (client API
 * and REST), the table definitions (entities and migrations) and their tests. Anything inside
 * these limits can be stored by PostgreSQL and planned by Temporal; anything outside is refused
 * at the API with a 400 naming the field, never found out by an activity retrying for ever.
 * Pure, no I/O: workflow code may import it.
 */

/** Dossier, user and event ids: `varchar(128)` columns (users.id, dossiers.id, owner and user ids). */
export const ID_MAX_LENGTH = 128;

/**
 * Dossier ids: a business key that also names the workflow (`dossier:<id>`) and leads its
 * notifications' idempotency keys unescaped, so a closed, printable ASCII charset.
 */
export const DOSSIER_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${ID_MAX_LENGTH}}$`);

/** A dossier's title, after trimming (a `text` column: the bound keeps notifications readable). */
export const TITLE_MAX_LENGTH = 500;
/** An owner's display name (`users.name`, `text`). */
export const OWNER_NAME_MAX_LENGTH = 200;
/** `users.timezone`: the longest IANA zone name is far shorter. */
export const TIME_ZONE_MAX_LENGTH = 64;
/** `users.locale`. */
export const LOCALE_MAX_LENGTH = 8;
/** A local time of day, 24-hour `HH:mm` (reminder hours, quiet hours, the daily report's time). */
export const CLOCK_TIME_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;

/** `notifications.type` and `notifications.kind`. */
export const NOTIFICATION_LABEL_MAX_LENGTH = 32;

/**
 * `notifications.idempotency_key`. Keys escape `:` in free components as `%3A`
 * (domain/idempotency-keys.ts), so one made of 128-character ids can reach 545 characters
 * (`urgent:` + dossier id + instant + escaped owner id); the column leaves room for new key shapes.
 * Each character of an escaped component is at most 3 UTF-8 bytes, so keys stay far below the
 * ~2700-byte limit of a B-tree index entry.
 */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 1024;

/**
 * Calendar due dates (`dueDate`), inclusive. PostgreSQL has no year 0 and Temporal caps timers
 * at 100 years: a deadline this century is planned and stored, `0000-01-01` or `9999-12-31` is not.
 */
export const DUE_DATE_MIN = '2000-01-01';
export const DUE_DATE_MAX = '2099-12-31';
/** Exact due instants (`dueAt`): from `DUE_AT_FROM` included to `DUE_AT_UNTIL` excluded. */
export const DUE_AT_FROM = '2000-01-01T00:00:00.000Z';
export const DUE_AT_UNTIL = '2100-01-01T00:00:00.000Z';

// In a `u` regex a well-formed surrogate pair is one code point, so \p{Cs} matches lone halves only.
const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL_CHARACTER = /\p{Cc}/u;

/** A lone UTF-16 surrogate cannot be encoded in UTF-8: PostgreSQL refuses it in JSON, or it turns into U+FFFD. */
export const hasLoneSurrogate = (value: string): boolean => LONE_SURROGATE.test(value);

/** Text PostgreSQL stores as given: no U+0000 (refused in `text` and `jsonb`) and no lone surrogate. */
export const isStorableText = (value: string): boolean =>
  !value.includes('\u0000') && !hasLoneSurrogate(value);

/**
 * User and event ids: free text (the NormX backend's own ids) but storable and printable in
 * keys, logs and the Temporal UI: no control character (U+0000 included), no lone surrogate.
 * The length (1 to `ID_MAX_LENGTH` UTF-16 units, hence at most as many characters) is checked apart.
 */
export const isCleanId = (value: string): boolean =>
  !CONTROL_CHARACTER.test(value) && !hasLoneSurrogate(value);

/** A `YYYY-MM-DD` date inside [DUE_DATE_MIN, DUE_DATE_MAX] (that shape orders as text). */
export const isDueDateInRange = (date: string): boolean => date >= DUE_DATE_MIN && date <= DUE_DATE_MAX;

/** An instant (any ISO form `Date.parse` reads) inside [DUE_AT_FROM, DUE_AT_UNTIL). */
export const isDueAtInRange = (instant: string): boolean => {
  const ms = Date.parse(instant);
  return ms >= Date.parse(DUE_AT_FROM) && ms < Date.parse(DUE_AT_UNTIL);
};

/** Dossiers in one onboarding call (`POST /api/v1/dossiers/bulk`, the client's `createMany`). */
export const BULK_MAX_DOSSIERS = 1000;
/**
 * The body of that call (other routes take 64 KiB). A dossier at the field limits takes ~1.3 KB
 * of JSON, up to ~6 KB when its texts are sent as `\uXXXX` escapes: 1,000 of them fit. Only a
 * service token gets it read (the route checks the token first).
 */
export const BULK_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Notification ids in one mark-read: the socket's `mark_read` and `POST /api/v1/notifications/read`
 * take at most this many, and the browser client sends its marks in batches of this size.
 */
export const MARK_READ_MAX_IDS = 500;

/**
 * Connections in a process's database pool when DATABASE_POOL_MAX is not set: the config's
 * default, db/orm.ts's when it is given none, and what the server sizes its permits from then.
 */
export const DEFAULT_DATABASE_POOL_MAX = 10;
