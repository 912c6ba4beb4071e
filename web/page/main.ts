import { createNotifyClient, fetchNotifications, type NotifyClient } from '../client/notify-client.js';
import { notifyBrowser, setUpBrowserNotifications } from './browser-notifications.js';
import { ui } from './dom.js';
import { add, focusItem, listSize, onItemClicked, refreshTimes, showRead } from './list.js';
import { openPanel, setUpPanel } from './panel.js';
import { currentToken, takeToken } from './session.js';
import { showConnection, showCount, showError, showSessionExpired, showState } from './status.js';

/**
 * The bell page: the token comes from the URL fragment (`#token=…`, never sent to a server),
 * the first page of notifications from REST, everything after it from the client's socket.
 * Its parts: the list (`list.ts`), the panel around it (`panel.ts`), the badge and status
 * (`status.ts`), the token and its renewal (`session.ts`), the browser's popups
 * (`browser-notifications.ts`).
 */

const PAGE_SIZE = 50;

let client: NotifyClient | undefined;

async function start(): Promise<void> {
  onItemClicked((id) => client?.markRead([id]));
  setUpPanel({ markAllRead: () => client?.markAllRead() });
  setUpBrowserNotifications();
  const token = takeToken();
  if (!token) {
    showState('closed', 'jeton manquant');
    showError('Aucun jeton : ouvrez l’adresse affichée par « npm start » (elle se termine par #token=…).');
    return;
  }
  let nextCursor: string | null = null;
  let newest: string | undefined;
  try {
    const page = await fetchNotifications({ token, limit: PAGE_SIZE });
    for (const notification of page.items) add(notification);
    nextCursor = page.nextCursor;
    newest = page.items[0]?.id;
  } catch (error) {
    showState('closed');
    showError(`Impossible de charger les notifications : ${(error as Error).message}`);
    return;
  }
  ui.empty.hidden = listSize() > 0;
  ui.loadMore.hidden = nextCursor === null;
  ui.loadMore.addEventListener('click', async () => {
    if (nextCursor === null) return;
    const page = await fetchNotifications({
      token: await currentToken(),
      limit: PAGE_SIZE,
      before: nextCursor,
    });
    for (const notification of page.items) add(notification);
    nextCursor = page.nextCursor;
    ui.loadMore.hidden = nextCursor === null;
  });

  // Resume right after the newest one listed: nothing committed since the REST read is missed.
  // The tab's token store is the source: the renewal address, or whatever else renews the token, writes it there.
  const notify = createNotifyClient({ getToken: currentToken, lastId: newest ?? '0' });
  client = notify;
  notify.connectionState$.subscribe(showConnection);
  notify.unreadCount$.subscribe(showCount);
  notify.notifications$.subscribe((notification) => {
    if (!add(notification)) return;
    ui.announcer.textContent = `Nouvelle notification : ${notification.title}`;
    notifyBrowser(notification, {
      onClick: () => {
        openPanel();
        focusItem(notification.id);
      },
    });
  });
  notify.reads$.subscribe(showRead);
  notify.errors$.subscribe((error) => {
    if (error.code === 'session_expired') return showSessionExpired();
    if (error.fatal) {
      showState('closed', error.message);
      showError(`Connexion refusée : ${error.message}`);
    }
  });
  setInterval(refreshTimes, 30_000);
}

void start();
