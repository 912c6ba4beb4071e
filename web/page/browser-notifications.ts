import type { NotifyNotification } from '../client/notify-client.js';
import { ui } from './dom.js';

/** The browser's own notifications (popups): off until the user turns them on, on their click. */

const BROWSER_NOTIFICATIONS_KEY = 'normx-notify:browser-notifications';

const supportsNotifications = typeof Notification === 'function';
/** Shown only once the user has clicked to allow them on this page, and the browser agrees. */
let browserNotificationsOn =
  supportsNotifications && localStorage.getItem(BROWSER_NOTIFICATIONS_KEY) === 'on';

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

/** Shows the button that turns them on and off. */
export function setUpBrowserNotifications(): void {
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
  showBrowserNotificationsButton();
}

/** A popup for a new notification, when they are on; `onClick` brings its item forward. */
export function notifyBrowser(notification: NotifyNotification, { onClick }: { onClick: () => void }): void {
  if (!browserNotificationsOn || Notification.permission !== 'granted') return;
  // The tag makes the tabs of one user show one system notification, not one each.
  const shown = new Notification(notification.title, {
    body: notification.body,
    tag: `normx-notify-${notification.id}`,
    lang: 'fr',
  });
  shown.addEventListener('click', () => {
    window.focus();
    onClick();
  });
}
