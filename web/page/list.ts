import type { NotificationType, NotifyNotification } from '../client/notify-client.js';
import { ui } from './dom.js';
import { SNOOZE_PRESETS, snoozedFrom, type SnoozePreset } from './snooze.js';
import { absolute, relativeTime } from './time.js';

/** The bell's lists (inbox and archive): one item per notification, newest first, unread ones marked. */

const TYPE_LABEL: Record<NotificationType, string> = {
  dossier_update: 'Dossier',
  new_alert: 'Alerte',
  deadline_reminder: 'Échéance',
  daily_report: 'Récapitulatif',
};

/** 24×24 outline icons, one per type. */
const TYPE_ICON: Record<NotificationType, string> = {
  dossier_update:
    'M3 6.5A1.5 1.5 0 0 1 4.5 5h5l2 2h8A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5Z',
  new_alert: 'M12 3.5 2.5 20h19ZM12 10v4.5M12 17.2v.3',
  deadline_reminder: 'M12 21a8.5 8.5 0 1 0 0-17 8.5 8.5 0 0 0 0 17ZM12 7.5V12l3 2',
  daily_report: 'M8 4h8v3H8ZM6 5.5H4.5V21h15V5.5H18M8 11h8M8 14.5h8M8 18h5',
};

const compareIds = (a: string, b: string): number =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

/** What an item's side button does: archive it (the inbox) or bring it back (the archive). */
export type ItemAction = 'archive' | 'unarchive';

const ACTION_LABEL: Record<ItemAction, string> = { archive: 'Archiver', unarchive: 'Désarchiver' };

/** What the page does with an item: mark it read, archive or unarchive it, snooze it (the inbox). */
interface ItemOptions {
  action: ItemAction;
  /** A click on an unread item (the page marks it read over the socket). */
  read(id: string): void;
  /** Its side button: archive or unarchive it. */
  act(id: string): void;
  /**
   * Its "Reporter" menu, on a dossier's reminders and alerts (the inbox only): resolves once the
   * server has the snooze, rejects with the reason it was refused.
   */
  snooze?(id: string, preset: SnoozePreset): Promise<void>;
}

/** What the server lets a user snooze: a dossier's reminders and alerts. */
const snoozable = (notification: NotifyNotification): boolean =>
  (notification.type === 'deadline_reminder' || notification.type === 'new_alert') &&
  notification.dossierId !== null;

/**
 * One list of the bell (the inbox, or the archive): one item per notification, newest first,
 * unread ones marked, each with its archive or unarchive button, and a "Nouveau" marker on the
 * ones newer than the user's seen mark when the panel was opened (`showNewAbove`).
 */
export class NotificationList {
  private readonly items = new Map<string, { notification: NotifyNotification; element: HTMLLIElement }>();
  /** Items above this id are marked new (null: none is). */
  private newAbove: bigint | null = null;

  constructor(
    private readonly elements: { list: HTMLUListElement; empty: HTMLElement },
    private readonly options: ItemOptions,
  ) {}

  get size(): number {
    return this.items.size;
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  /** The notification as listed, if it is. */
  get(id: string): NotifyNotification | undefined {
    return this.items.get(id)?.notification;
  }

  /** The newest id listed. */
  get newestId(): string | undefined {
    return (this.elements.list.firstElementChild as HTMLElement | null)?.dataset.id;
  }

  /** Adds a notification in its place (newest first): false when it is listed already. */
  add(notification: NotifyNotification): boolean {
    if (this.items.has(notification.id)) return false;
    const element = renderItem(notification, this.options);
    if (notification.readAt === null) element.classList.add('unread');
    this.items.set(notification.id, { notification, element });
    this.markNew(notification.id, element);
    // Newest first: insert before the first older item.
    const next = [...this.elements.list.children].find(
      (child) => compareIds((child as HTMLElement).dataset.id ?? '0', notification.id) < 0,
    );
    this.elements.list.insertBefore(element, next ?? null);
    this.elements.empty.hidden = this.items.size > 0;
    return true;
  }

  /** Takes a notification out of the list (archived or unarchived): it, or undefined when not listed. */
  remove(id: string): NotifyNotification | undefined {
    const entry = this.items.get(id);
    if (!entry) return undefined;
    entry.element.remove();
    this.items.delete(id);
    this.elements.empty.hidden = this.items.size > 0;
    return entry.notification;
  }

  clear(): void {
    for (const id of [...this.items.keys()]) this.remove(id);
  }

  /** Shows these notifications read (`all`: every one listed). */
  showRead(mark: { ids: string[] } | { all: true }): void {
    for (const id of 'all' in mark ? [...this.items.keys()] : mark.ids) {
      const entry = this.items.get(id);
      if (!entry || entry.notification.readAt !== null) continue;
      entry.notification.readAt = new Date().toISOString();
      entry.element.classList.remove('unread');
    }
  }

  /** Marks the items above `lastSeenId` new ("new since you last looked"); null: none. */
  showNewAbove(lastSeenId: string | null): void {
    this.newAbove = lastSeenId === null ? null : BigInt(lastSeenId);
    for (const [id, { element }] of this.items) this.markNew(id, element);
  }

  /** How many listed items are above `lastSeenId` (null: none is new). */
  countNewAbove(lastSeenId: string | null): number {
    if (lastSeenId === null) return 0;
    const above = BigInt(lastSeenId);
    return [...this.items.keys()].filter((id) => BigInt(id) > above).length;
  }

  refreshTimes(): void {
    for (const { notification, element } of this.items.values()) {
      const time = element.querySelector('time');
      if (time) time.textContent = relativeTime(new Date(notification.createdAt));
    }
  }

  /** Moves the focus to the notification's item, when it is listed. */
  focus(id: string): void {
    this.items.get(id)?.element.querySelector<HTMLButtonElement>('.item-button')?.focus();
  }

  private markNew(id: string, element: HTMLLIElement): void {
    const isNew = this.newAbove !== null && BigInt(id) > this.newAbove;
    if (isNew) element.dataset.new = 'true';
    else delete element.dataset.new;
  }
}

/** The items' buttons of the visible list, in list order (the keyboard moves between them). */
export function itemButtons(): HTMLButtonElement[] {
  const list = ui.list.hidden ? ui.archiveList : ui.list;
  return [...list.querySelectorAll<HTMLButtonElement>('.item-button')];
}

function renderItem(notification: NotifyNotification, options: ItemOptions): HTMLLIElement {
  const item = document.createElement('li');
  item.className = `item type-${notification.type}`;
  item.dataset.id = notification.id;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'item-button';

  const icon = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('class', 'item-icon');
  icon.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', TYPE_ICON[notification.type] ?? TYPE_ICON.dossier_update);
  icon.append(path);

  const text = document.createElement('span');
  text.className = 'item-text';
  const newMark = document.createElement('span');
  newMark.className = 'item-new-label';
  newMark.textContent = 'Nouveau';
  const unreadMark = document.createElement('span');
  unreadMark.className = 'visually-hidden item-unread-label';
  unreadMark.textContent = 'Non lue : ';
  const type = document.createElement('span');
  type.className = 'visually-hidden';
  type.textContent = `${TYPE_LABEL[notification.type] ?? notification.type}. `;
  const title = document.createElement('span');
  title.className = 'item-title';
  title.textContent = notification.title;
  const body = document.createElement('span');
  body.className = 'item-body';
  body.textContent = notification.body;
  const time = document.createElement('time');
  time.className = 'item-time';
  time.dateTime = notification.createdAt;
  time.title = absolute.format(new Date(notification.createdAt));
  time.textContent = relativeTime(new Date(notification.createdAt));
  // The spaces keep words apart in the button's accessible name.
  text.append(newMark, unreadMark, type);
  if (snoozedFrom(notification.data) !== undefined) {
    // A snoozed reminder come back: a new notification that refers to the first.
    const snoozedMark = document.createElement('span');
    snoozedMark.className = 'item-snoozed-label';
    snoozedMark.textContent = 'reporté';
    text.append(snoozedMark, ' ');
  }
  text.append(title, ' ', body, ' ', time);

  const dot = document.createElement('span');
  dot.className = 'item-dot';
  dot.setAttribute('aria-hidden', 'true');
  button.append(icon, text, dot);
  // A click on an unread item marks it read (its `reads$` then shows it read).
  button.addEventListener('click', () => {
    if (notification.readAt === null) options.read(notification.id);
  });
  const action = document.createElement('button');
  action.type = 'button';
  action.className = `item-action item-${options.action}`;
  action.textContent = ACTION_LABEL[options.action];
  action.setAttribute('aria-label', `${ACTION_LABEL[options.action]} : ${notification.title}`);
  action.addEventListener('click', () => options.act(notification.id));
  const actions = document.createElement('div');
  actions.className = 'item-actions';
  item.append(button, actions);
  if (options.snooze && snoozable(notification)) {
    item.classList.add('snoozable');
    const status = document.createElement('p');
    status.className = 'item-snooze-status';
    status.setAttribute('role', 'status');
    status.hidden = true;
    actions.append(snoozeMenu(notification, options.snooze, status));
    item.append(status);
  }
  actions.append(action);
  return item;
}

/**
 * The "Reporter" button and its menu of presets. Choosing one snoozes the item and says so on it
 * ("Reporté à demain 08:00"), or why it could not; the page shows it read once the server has it.
 */
function snoozeMenu(
  notification: NotifyNotification,
  snooze: NonNullable<ItemOptions['snooze']>,
  status: HTMLElement,
): HTMLElement {
  const wrapper = document.createElement('div');
  wrapper.className = 'item-snooze';
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'item-action item-snooze-button';
  toggle.textContent = 'Reporter';
  toggle.setAttribute('aria-label', `Reporter : ${notification.title}`);
  toggle.setAttribute('aria-haspopup', 'menu');
  toggle.setAttribute('aria-expanded', 'false');
  const menu = document.createElement('div');
  menu.className = 'snooze-menu';
  menu.setAttribute('role', 'menu');
  menu.setAttribute('aria-label', `Reporter : ${notification.title}`);
  menu.hidden = true;
  const options = SNOOZE_PRESETS.map(({ preset, label, done }) => {
    const option = document.createElement('button');
    option.type = 'button';
    option.className = 'snooze-option';
    option.dataset.preset = preset;
    option.setAttribute('role', 'menuitem');
    option.tabIndex = -1;
    option.textContent = label;
    option.addEventListener('click', () => {
      close();
      toggle.focus();
      void choose(preset, done);
    });
    return option;
  });
  menu.append(...options);

  const open = (): void => {
    menu.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    // The list scrolls: the menu of its last item opens below what it shows.
    menu.scrollIntoView({ block: 'nearest' });
    options[0]?.focus();
  };
  const close = (): void => {
    menu.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  };
  const choose = async (preset: SnoozePreset, done: string): Promise<void> => {
    toggle.disabled = true;
    status.hidden = false;
    delete status.dataset.state;
    status.textContent = 'Report en cours…';
    try {
      await snooze(notification.id, preset);
      status.dataset.state = 'done';
      status.textContent = done;
    } catch (error) {
      status.dataset.state = 'error';
      status.textContent = `Report impossible : ${(error as Error).message}`;
    } finally {
      toggle.disabled = false;
    }
  };

  toggle.addEventListener('click', () => (menu.hidden ? open() : close()));
  menu.addEventListener('keydown', (event) => {
    // Escape closes the menu only (not the panel around it); the arrows move through its presets.
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
      toggle.focus();
      return;
    }
    const index = options.indexOf(document.activeElement as HTMLButtonElement);
    const target =
      event.key === 'ArrowDown'
        ? options[(index + 1) % options.length]
        : event.key === 'ArrowUp'
          ? options[(index - 1 + options.length) % options.length]
          : event.key === 'Home'
            ? options[0]
            : event.key === 'End'
              ? options.at(-1)
              : undefined;
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    target.focus();
  });
  // Tabbing or clicking away closes it.
  wrapper.addEventListener('focusout', (event) => {
    if (!wrapper.contains(event.relatedTarget as Node | null)) close();
  });
  wrapper.append(toggle, menu);
  return wrapper;
}
