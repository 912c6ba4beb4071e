import { isSnoozable } from '../../domain/notification-types.js';
import type { NotificationType, NotifyNotification } from '../client/notify-client.js';
import { snoozedFrom, type SnoozePreset } from './snooze.js';
import { snoozeMenu } from './snooze-menu.js';
import { absolute, relativeTime } from './time.js';

/** One item of the bell's lists (list.ts): its icon and texts, its read click, its buttons. */

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

/** What an item's side button does: archive it (the inbox) or bring it back (the archive). */
export type ItemAction = 'archive' | 'unarchive';

const ACTION_LABEL: Record<ItemAction, string> = { archive: 'Archiver', unarchive: 'Désarchiver' };

/** What the page does with an item: mark it read, archive or unarchive it, snooze it (the inbox). */
export interface ItemOptions {
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

export function renderItem(notification: NotifyNotification, options: ItemOptions): HTMLLIElement {
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
  if (options.snooze && isSnoozable(notification)) {
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
