import { isReminderType } from '../../domain/notification-types.js';
import type { NotifyNotification } from '../client/wire.js';

/**
 * Grouped popups: the reminders and alerts that reach a user together (the 08:00 herd: every
 * dossier's reminder fires at the same instant, and the worker stores them over a few seconds)
 * make ONE browser popup that names their count ("3 échéances aujourd’hui") and lists their
 * titles; each still has its own row in the list. Pure (no DOM, a clock given), so that the
 * windows are unit-tested on a fake clock (test/unit/popup-groups.test.ts).
 */

/**
 * The window closes this long after the latest arrival: the herd's notifications of one user come
 * within a second or two of each other (one worker storing them in turn; a catch-up after a
 * reconnect sends its backlog in one burst), while a lone one waits only this long for its popup.
 */
export const POPUP_GROUP_QUIET_MS = 2_000;
/**
 * And at the latest this long after the first arrival: a large herd is stored over several
 * seconds (docs/performance.md, 1,000 reminders in about 10 s), but a popup is never held longer.
 */
export const POPUP_GROUP_MAX_MS = 10_000;
/** Titles listed in a group's body: system popups show a few lines and cut the rest. */
export const POPUP_GROUP_TITLES = 4;
/** A title longer than this is cut with "…" in a group's body, so that each keeps its line. */
export const POPUP_TITLE_CHARS = 80;

/** What the 08:00 herd is made of: a dossier's reminders and alerts. Other types pop up at once, alone. */
export const groupable = (notification: Pick<NotifyNotification, 'type'>): boolean =>
  isReminderType(notification.type);

export interface PopupClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Collects the notifications that arrive together: the first arrival opens a window, each
 * arrival keeps it open POPUP_GROUP_QUIET_MS more, up to POPUP_GROUP_MAX_MS after the first; when
 * it closes, `show` gets the batch (in arrival order, one or more). A notification that is not
 * `groupable` is shown at once, alone, and leaves the window as it is.
 */
export class PopupGrouper<T extends Pick<NotifyNotification, 'id' | 'type'>> {
  private batch: T[] = [];
  private openedAt = 0;
  private timer: unknown;

  constructor(
    private readonly show: (batch: T[]) => void,
    private readonly clock: PopupClock,
    private readonly windows = { quietMs: POPUP_GROUP_QUIET_MS, maxMs: POPUP_GROUP_MAX_MS },
  ) {}

  add(notification: T): void {
    if (!groupable(notification)) return this.show([notification]);
    const now = this.clock.now();
    if (this.batch.length === 0) this.openedAt = now;
    this.batch.push(notification);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const closesAt = Math.min(now + this.windows.quietMs, this.openedAt + this.windows.maxMs);
    this.timer = this.clock.setTimeout(() => this.close(), Math.max(0, closesAt - now));
  }

  /** Stops the window without showing it (the page is going away). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.batch = [];
  }

  private close(): void {
    const batch = this.batch;
    this.batch = [];
    this.timer = undefined;
    if (batch.length > 0) this.show(batch);
  }
}

/** A browser popup's text: its title, body and tag. */
export interface PopupText {
  title: string;
  body: string;
  /** The same batch gets the same tag in every tab, so the system shows it once. */
  tag: string;
}

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/** A title cut to POPUP_TITLE_CHARS characters (not halving a surrogate pair), "…" ending a cut one. */
export function shortTitle(title: string): string {
  const characters = [...title];
  if (characters.length <= POPUP_TITLE_CHARS) return title;
  return `${characters
    .slice(0, POPUP_TITLE_CHARS - 1)
    .join('')
    .trimEnd()}…`;
}

/**
 * The popup for a batch: a lone notification as itself (its title and body, as before grouping);
 * several as one summary naming their count by kind, in French ("3 échéances aujourd’hui", "2
 * rappels d’échéance et 1 alerte"), with their titles in the body, POPUP_GROUP_TITLES at most.
 */
export function popupText(batch: readonly NotifyNotification[]): PopupText {
  const [first] = batch;
  if (!first) throw new Error('popupText: an empty batch');
  if (batch.length === 1) return { title: first.title, body: first.body, tag: `normx-notify-${first.id}` };
  const reminders = batch.filter((notification) => notification.type === 'deadline_reminder');
  const alerts = batch.filter((notification) => notification.type !== 'deadline_reminder');
  const parts: string[] = [];
  if (reminders.length > 0)
    parts.push(
      reminders.every((notification) => notification.kind === 'j-0')
        ? `${plural(reminders.length, 'échéance', 'échéances')} aujourd’hui`
        : plural(reminders.length, 'rappel d’échéance', 'rappels d’échéance'),
    );
  if (alerts.length > 0) parts.push(plural(alerts.length, 'alerte', 'alertes'));
  const listed = batch.slice(0, POPUP_GROUP_TITLES).map((notification) => shortTitle(notification.title));
  const rest = batch.length - listed.length;
  if (rest > 0) listed.push(`et ${plural(rest, 'autre', 'autres')}`);
  return {
    title: parts.join(' et '),
    body: listed.join('\n'),
    tag: `normx-notify-${first.id}-${batch.at(-1)!.id}`,
  };
}
