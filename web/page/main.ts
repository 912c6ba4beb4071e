import {
  createNotifyClient,
  fetchNotifications,
  type InboxChange,
  type InboxCounts,
  type NotifyClient,
  type NotifyNotification,
  type ReadMark,
  subjectOf,
} from '../client/notify-client.js';
import { joinPopupTabs, notifyBrowser, setUpBrowserNotifications } from './browser-notifications.js';
import { ui } from './dom.js';
import { NotificationList } from './list.js';
import { isOpen, openPanel, setUpPanel } from './panel.js';
import { currentToken, takeToken } from './session.js';
import { setUpSettings } from './settings.js';
import { snooze } from './snooze.js';
import {
  showConnection,
  showCount,
  showError,
  showInboxCounts,
  showNewInList,
  showSessionExpired,
  showState,
} from './status.js';

/**
 * The bell page: the token comes from the URL fragment (`#token=…`, never sent to a server),
 * the first page of notifications from REST, everything after it from the client's socket.
 * Its parts: the lists (`list.ts`: the inbox and the archive), the panel around them (`panel.ts`),
 * the badge and status (`status.ts`), the token and its renewal (`session.ts`), the browser's
 * popups (`browser-notifications.ts`, grouped by `popup-groups.ts`), the snooze menu's calls
 * (`snooze.ts`), the settings panel (`settings.ts`: preferences, reminder hour, quiet hours).
 *
 * Inbox states (docs/protocol.md, "The bell page"): opening the panel marks what it shows seen;
 * the items that came since the user last looked carry a "Nouveau" marker while it stays open
 * (the seen mark as it was when it opened). Archive and unarchive move items between the two
 * lists, here and in the user's other tabs (`inboxChanges$`); the counts come from the server.
 */

const PAGE_SIZE = 50;

let client: NotifyClient | undefined;

const inbox = new NotificationList(
  { list: ui.list, empty: ui.empty },
  {
    action: 'archive',
    read: (id) => client?.markRead([id]),
    act: (id) => client?.archive([id]),
    snooze: async (id, preset) => {
      await snooze(id, preset);
      // The server marked it read; the counts follow on the socket, but not which item: this
      // tab and the others show it read (the mark sent with it changes nothing on the server).
      client?.markRead([id]);
    },
  },
);
const archive = new NotificationList(
  { list: ui.archiveList, empty: ui.archiveEmpty },
  { action: 'unarchive', read: (id) => client?.markRead([id]), act: (id) => client?.unarchive([id]) },
);
/** The inbox's next page (`before`; null: no older one). */
let inboxCursor: string | null = null;
/** The archive's next page (`before`), once its first page is loaded. */
let archiveCursor: string | null = null;
let archiveLoaded = false;
/** Notifications archived while the archive was not loaded: an unarchive brings them back. */
const setAside = new Map<string, NotifyNotification>();
/** Unarchived in another tab and never listed here: read from the server once it has them. */
let unarchivedElsewhere: string[] = [];
/** Items newer than this were new when the panel opened (null: unknown, none marked). */
let newAbove: string | null = null;

async function start(): Promise<void> {
  setUpPanel({
    markAllRead: () => client?.markAllRead(),
    opened: panelOpened,
    closed: () => undefined,
  });
  ui.viewInbox.addEventListener('click', () => void showView('inbox'));
  ui.viewArchive.addEventListener('click', () => void showView('archived'));
  ui.archiveMore.addEventListener('click', () => void loadArchive({ more: true }));
  setUpBrowserNotifications({
    // A popup was clicked: the list opens on its newest notification.
    onClick: (ids) => {
      void showView('inbox');
      openPanel();
      if (ids[0] !== undefined) inbox.focus(ids[0]);
    },
  });
  const token = takeToken();
  if (!token) {
    showState('closed', 'jeton manquant');
    showError('Aucun jeton : ouvrez l’adresse affichée par « npm start » (elle se termine par #token=…).');
    return;
  }
  setUpSettings();
  // One tab of the user shows the popups (a token without a subject is refused by the server).
  const user = subjectOf(token);
  if (user !== undefined) joinPopupTabs(user);
  let newest: string | undefined;
  try {
    const page = await fetchNotifications({ token, limit: PAGE_SIZE });
    for (const notification of page.items) inbox.add(notification);
    inboxCursor = page.nextCursor;
    newest = page.items[0]?.id;
  } catch (error) {
    showState('closed');
    showError(`Impossible de charger les notifications : ${(error as Error).message}`);
    return;
  }
  ui.empty.hidden = inbox.size > 0;
  ui.loadMore.hidden = inboxCursor === null;
  ui.loadMore.addEventListener('click', async () => {
    if (inboxCursor === null) return;
    const page = await fetchNotifications({
      token: await currentToken(),
      limit: PAGE_SIZE,
      before: inboxCursor,
    });
    for (const notification of page.items) inbox.add(notification);
    inboxCursor = page.nextCursor;
    ui.loadMore.hidden = inboxCursor === null;
  });

  // Resume right after the newest one listed: nothing committed since the REST read is missed.
  // The tab's token store is the source: the renewal address, or whatever else renews the token, writes it there.
  const notify = createNotifyClient({ getToken: currentToken, lastId: newest ?? '0' });
  client = notify;
  notify.connectionState$.subscribe(showConnection);
  notify.unreadCount$.subscribe(showCount);
  notify.counts$.subscribe(countsChanged);
  notify.notifications$.subscribe((notification) => {
    // Stored archived (a kind the user keeps out of the bell): the archive only, no popup.
    if (notification.archivedAt) {
      if (archiveLoaded) archive.add(notification);
      else setAside.set(notification.id, notification);
      return;
    }
    if (!inbox.add(notification)) return;
    ui.announcer.textContent = `Nouvelle notification : ${notification.title}`;
    // The list is open: the user sees it arrive (it stays marked new until the panel closes).
    if (isOpen()) {
      showNewInList(inbox.countNewAbove(newAbove));
      markSeen();
    }
    notifyBrowser(notification);
  });
  notify.reads$.subscribe(showRead);
  notify.inboxChanges$.subscribe(inboxChanged);
  notify.errors$.subscribe((error) => {
    if (error.code === 'session_expired') return showSessionExpired();
    if (error.fatal) {
      showState('closed', error.message);
      showError(`Connexion refusée : ${error.message}`);
    }
  });
  setInterval(() => {
    inbox.refreshTimes();
    archive.refreshTimes();
  }, 30_000);
}

/** The panel opened: the items above the seen mark are new, and now seen. */
function panelOpened(): void {
  inbox.refreshTimes();
  archive.refreshTimes();
  newAbove = client?.counts?.lastSeenId ?? null;
  inbox.showNewAbove(newAbove);
  showNewInList(inbox.countNewAbove(newAbove));
  markSeen();
}

/** Everything the inbox shows is seen (sent only when its newest is above the seen mark). */
function markSeen(): void {
  const newest = inbox.newestId;
  const lastSeenId = client?.counts?.lastSeenId;
  if (newest !== undefined && (lastSeenId === undefined || BigInt(newest) > BigInt(lastSeenId)))
    client?.markSeen(newest);
}

function countsChanged(counts: InboxCounts): void {
  showInboxCounts(counts);
  void readUnarchivedElsewhere();
  // Counts came after the panel opened (the socket was not up yet): mark from them.
  if (isOpen() && newAbove === null) {
    newAbove = counts.lastSeenId;
    inbox.showNewAbove(newAbove);
    showNewInList(inbox.countNewAbove(newAbove));
    markSeen();
  }
}

/** Read marks, here or in another tab: `all` is the inbox's (read-all leaves the archive as it is). */
function showRead(mark: ReadMark): void {
  inbox.showRead(mark);
  if (!('all' in mark)) archive.showRead(mark);
}

/** Archived or unarchived here or in another tab: the items move from one list to the other. */
function inboxChanged(change: InboxChange): void {
  if ('archived' in change) {
    for (const id of change.archived) {
      const notification = inbox.remove(id);
      if (notification && archiveLoaded)
        archive.add({ ...notification, archivedAt: new Date().toISOString() });
    }
    showNewInList(inbox.countNewAbove(newAbove));
  } else if ('unarchived' in change) {
    for (const id of change.unarchived) {
      const notification = archive.remove(id) ?? setAside.get(id);
      setAside.delete(id);
      if (notification) inbox.add({ ...notification, archivedAt: null });
      else unarchivedElsewhere.push(id);
    }
  }
}

/**
 * Notifications another tab unarchived that this one never listed: the inbox's first page has
 * them (if recent) once the server stored the unarchive, which the next counts tell.
 */
async function readUnarchivedElsewhere(): Promise<void> {
  if (unarchivedElsewhere.length === 0) return;
  const wanted = unarchivedElsewhere;
  unarchivedElsewhere = [];
  const page = await fetchNotifications({ token: await currentToken(), limit: PAGE_SIZE });
  for (const notification of page.items) if (wanted.includes(notification.id)) inbox.add(notification);
}

/** The inbox, or the archive (its first page read afresh each time it is shown). */
async function showView(view: 'inbox' | 'archived'): Promise<void> {
  const archived = view === 'archived';
  ui.viewInbox.setAttribute('aria-pressed', String(!archived));
  ui.viewArchive.setAttribute('aria-pressed', String(archived));
  ui.list.hidden = archived;
  ui.markAll.hidden = archived;
  ui.empty.hidden = archived || inbox.size > 0;
  ui.loadMore.hidden = archived || inboxCursor === null;
  ui.archiveList.hidden = !archived;
  ui.archiveEmpty.hidden = true;
  ui.archiveMore.hidden = true;
  if (archived) await loadArchive({ more: false });
}

async function loadArchive({ more }: { more: boolean }): Promise<void> {
  if (more && archiveCursor === null) return;
  const page = await fetchNotifications({
    token: await currentToken(),
    limit: PAGE_SIZE,
    state: 'archived',
    ...(more && archiveCursor !== null && { before: archiveCursor }),
  });
  if (!more) archive.clear();
  for (const notification of page.items) archive.add(notification);
  archiveLoaded = true;
  archiveCursor = page.nextCursor;
  ui.archiveEmpty.hidden = archive.size > 0;
  ui.archiveMore.hidden = archiveCursor === null;
}

void start();
