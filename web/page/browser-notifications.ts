import type { NotifyNotification } from '../client/notify-client.js';
import { ui } from './dom.js';
import { PopupGrouper, popupText } from './popup-groups.js';

/**
 * The browser's own notifications (popups): off until the user turns them on, on their click.
 * Those that arrive together make one popup (popup-groups.ts), and one tab of the user shows
 * them: the one holding the user's popup lock (Web Locks: the browser grants it to one tab at a
 * time, and to the next when that tab closes). Every tab collects, so the next one is ready; each
 * popup's tag also names its batch, so tabs without Web Locks that group alike show it once.
 */

const BROWSER_NOTIFICATIONS_KEY = 'normx-notify:browser-notifications';

const supportsNotifications = typeof Notification === 'function';
/** Shown only once the user has clicked to allow them on this page, and the browser agrees. */
let browserNotificationsOn =
  supportsNotifications && localStorage.getItem(BROWSER_NOTIFICATIONS_KEY) === 'on';
/** This tab shows the popups: it holds the user's lock, or the browser has no Web Locks. */
let showsPopups = typeof navigator.locks?.request !== 'function';
/** What a click on a popup does: brings its notifications forward (the newest first). */
let onPopupClick: (ids: string[]) => void = () => undefined;

const grouper = new PopupGrouper<NotifyNotification>(show, {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

function showBrowserNotificationsButton(): void {
  const button = ui.browserNotifications;
  button.hidden = !supportsNotifications;
  if (!supportsNotifications) return;
  const permission = Notification.permission;
  button.disabled = permission === 'denied';
  button.setAttribute('aria-pressed', String(browserNotificationsOn && permission === 'granted'));
  button.textContent =
    permission === 'denied'
      ? 'Notifications du navigateur bloquées (réglages du site)'
      : browserNotificationsOn && permission === 'granted'
        ? 'Désactiver les notifications du navigateur'
        : 'Activer les notifications du navigateur';
}

/** Shows the button that turns them on and off; `onClick`: a popup was clicked. */
export function setUpBrowserNotifications({ onClick }: { onClick: (ids: string[]) => void }): void {
  onPopupClick = onClick;
  ui.browserNotifications.addEventListener('click', async () => {
    if (browserNotificationsOn && Notification.permission === 'granted') {
      browserNotificationsOn = false;
    } else {
      // Asked here, on the user's click, never on load.
      browserNotificationsOn = (await Notification.requestPermission()) === 'granted';
    }
    localStorage.setItem(BROWSER_NOTIFICATIONS_KEY, browserNotificationsOn ? 'on' : 'off');
    showBrowserNotificationsButton();
  });
  // Turned on or off in another tab: the tab that shows the popups may be this one.
  window.addEventListener('storage', (event) => {
    if (event.key !== BROWSER_NOTIFICATIONS_KEY) return;
    browserNotificationsOn = supportsNotifications && event.newValue === 'on';
    showBrowserNotificationsButton();
  });
  showBrowserNotificationsButton();
}

/**
 * Asks for the popup lock of `user`'s tabs: held until this tab closes, then the next tab that
 * asked gets it. Without Web Locks, every tab shows (the tags keep a batch to one popup).
 */
export function joinPopupTabs(user: string): void {
  if (typeof navigator.locks?.request !== 'function') return;
  void navigator.locks.request(
    `normx-notify:popups:${user}`,
    () =>
      new Promise<void>(() => {
        showsPopups = true;
      }),
  );
}

/** A new notification: it joins the popup being collected (or pops up alone, see popup-groups.ts). */
export function notifyBrowser(notification: NotifyNotification): void {
  // Popups off when it arrived: it never pops up, not even in a group closed after they are on.
  if (!popupsOn()) return;
  // The user's preferences or quiet hours said no popup (`data.popup`, set when it was stored).
  if (notification.data?.popup === false) return;
  grouper.add(notification);
}

const popupsOn = (): boolean =>
  supportsNotifications && browserNotificationsOn && Notification.permission === 'granted';

function show(batch: NotifyNotification[]): void {
  if (!showsPopups || !popupsOn()) return;
  const { title, body, tag } = popupText(batch);
  const shown = new Notification(title, { body, tag, lang: 'fr' });
  shown.addEventListener('click', () => {
    window.focus();
    onPopupClick(batch.map((notification) => notification.id).reverse());
  });
}
