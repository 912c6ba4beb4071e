import type { NotifyNotification } from '../client/notify-client.js';
import { ui } from './dom.js';
import { renderItem, type ItemOptions } from './list-item.js';
import { relativeTime } from './time.js';

/**
 * The bell's lists (inbox and archive): one item per notification, newest first, unread ones
 * marked. An item's elements: list-item.ts; its snooze menu: snooze-menu.ts.
 */

const compareIds = (a: string, b: string): number =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

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
