import type { NotificationType, NotifyNotification } from '../client/notify-client.js';
import { ui } from './dom.js';
import { absolute, relativeTime } from './time.js';

/** The bell's list: one item per notification, newest first, unread ones marked. */

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

const items = new Map<string, { notification: NotifyNotification; element: HTMLLIElement }>();
/** What a click on an unread item does (the page sets it: mark it read over the socket). */
let markOnServer: ((id: string) => void) | undefined;

/** A click on an unread item asks this of the server (its `reads$` then shows it read). */
export function onItemClicked(markRead: (id: string) => void): void {
  markOnServer = markRead;
}

export const listSize = (): number => items.size;

/** Adds a notification in its place (newest first): false when it is listed already. */
export function add(notification: NotifyNotification): boolean {
  if (items.has(notification.id)) return false;
  const element = renderItem(notification);
  if (notification.readAt === null) element.classList.add('unread');
  items.set(notification.id, { notification, element });
  // Newest first: insert before the first older item.
  const next = [...ui.list.children].find(
    (child) => compareIds((child as HTMLElement).dataset.id ?? '0', notification.id) < 0,
  );
  ui.list.insertBefore(element, next ?? null);
  ui.empty.hidden = items.size > 0;
  return true;
}

/** Shows these notifications read (`all`: every one listed). */
export function showRead(mark: { ids: string[] } | { all: true }): void {
  for (const id of 'all' in mark ? [...items.keys()] : mark.ids) setRead(id);
}

export function refreshTimes(): void {
  for (const { notification, element } of items.values()) {
    const time = element.querySelector('time');
    if (time) time.textContent = relativeTime(new Date(notification.createdAt));
  }
}

/** Moves the focus to the notification's item, when it is listed. */
export function focusItem(id: string): void {
  items.get(id)?.element.querySelector('button')?.focus();
}

/** The items' buttons, in list order (the keyboard moves between them). */
export function itemButtons(): HTMLButtonElement[] {
  return [...ui.list.querySelectorAll<HTMLButtonElement>('.item-button')];
}

function setRead(id: string): void {
  const entry = items.get(id);
  if (!entry || entry.notification.readAt !== null) return;
  entry.notification.readAt = new Date().toISOString();
  entry.element.classList.remove('unread');
}

function clicked(id: string): void {
  const entry = items.get(id);
  if (!entry || entry.notification.readAt !== null) return;
  markOnServer?.(id);
}

function renderItem(notification: NotifyNotification): HTMLLIElement {
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
  text.append(unreadMark, type, title, ' ', body, ' ', time);

  const dot = document.createElement('span');
  dot.className = 'item-dot';
  dot.setAttribute('aria-hidden', 'true');
  button.append(icon, text, dot);
  button.addEventListener('click', () => clicked(notification.id));
  item.append(button);
  return item;
}
