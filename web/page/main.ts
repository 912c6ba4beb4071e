import {
  createNotifyClient,
  fetchNotifications,
  type ConnectionState,
  type NotificationType,
  type NotifyClient,
  type NotifyNotification,
} from '../client/notify-client.js';

/**
 * The bell page: the token comes from the URL fragment (`#token=…`, never sent to a server),
 * the first page of notifications from REST, everything after it from the client's socket.
 */

const TOKEN_KEY = 'normx-notify:page-token';
const RENEW_KEY = 'normx-notify:page-renew';
const BROWSER_NOTIFICATIONS_KEY = 'normx-notify:browser-notifications';
const PAGE_SIZE = 50;

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

const ui = {
  status: byId('connection-status'),
  statusText: byId('connection-text'),
  bell: byId<HTMLButtonElement>('bell-button'),
  badge: byId('bell-badge'),
  panel: byId('bell-panel'),
  list: byId<HTMLUListElement>('bell-list'),
  empty: byId('bell-empty'),
  markAll: byId<HTMLButtonElement>('mark-all-read'),
  loadMore: byId<HTMLButtonElement>('load-more'),
  browserNotifications: byId<HTMLButtonElement>('browser-notifications'),
  pageError: byId('page-error'),
  announcer: byId('announcer'),
};

const STATUS_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connexion…',
  open: 'Connecté',
  reconnecting: 'Reconnexion…',
  closed: 'Déconnecté',
};

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

const relative = new Intl.RelativeTimeFormat('fr', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('fr', { dateStyle: 'full', timeStyle: 'short' });
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "il y a 5 minutes", "hier", "dans 2 heures": the largest unit that fits. */
function relativeTime(instant: Date, now = Date.now()): string {
  let amount = (instant.getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return absolute.format(instant);
}

/**
 * Reads `#token=…` (and `&renew=…`) once, keeps them for this tab only, and takes them out of
 * the address bar.
 */
function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get('token');
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    const renew = sameOriginPath(fragment.get('renew'));
    if (renew) sessionStorage.setItem(RENEW_KEY, renew);
    else sessionStorage.removeItem(RENEW_KEY);
    history.replaceState(null, '', location.pathname + location.search);
    return fromFragment;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** A path on this origin (`/auth/notify-token`), or undefined: a token is never asked of another site. */
function sameOriginPath(value: string | null): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//')) return undefined;
  const url = new URL(value, location.origin);
  return url.origin === location.origin ? url.pathname + url.search : undefined;
}

/**
 * The client's getToken hook. With a renewal address (`#renew=/path`, the host application's
 * endpoint answering `{ "token": "…" }` with its session cookie), a fresh token is asked there
 * on every connection and on each expiry warning, and kept as the tab's token; without one, or
 * when it fails, the tab's token (the client then reports session_expired at expiry).
 */
async function currentToken(): Promise<string> {
  const stored = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const renew = sessionStorage.getItem(RENEW_KEY);
  if (!renew) return stored;
  try {
    const response = await fetch(renew, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    const body = response.ok ? ((await response.json()) as { token?: unknown }) : undefined;
    if (typeof body?.token === 'string' && body.token !== '') {
      sessionStorage.setItem(TOKEN_KEY, body.token);
      return body.token;
    }
  } catch {
    // The renewal failed (offline, signed out): the stored token is what there is.
  }
  return stored;
}

const compareIds = (a: string, b: string): number =>
  BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

// ---- the list ------------------------------------------------------------------------------

const items = new Map<string, { notification: NotifyNotification; element: HTMLLIElement }>();
let client: NotifyClient | undefined;

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
  button.addEventListener('click', () => markRead(notification.id));
  item.append(button);
  return item;
}

function setRead(id: string): void {
  const entry = items.get(id);
  if (!entry || entry.notification.readAt !== null) return;
  entry.notification.readAt = new Date().toISOString();
  entry.element.classList.remove('unread');
}

function add(notification: NotifyNotification): boolean {
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

function markRead(id: string): void {
  const entry = items.get(id);
  if (!entry || entry.notification.readAt !== null) return;
  client?.markRead([id]);
}

function refreshTimes(): void {
  for (const { notification, element } of items.values()) {
    const time = element.querySelector('time');
    if (time) time.textContent = relativeTime(new Date(notification.createdAt));
  }
}

// ---- badge, status, panel ------------------------------------------------------------------

function showCount(count: number): void {
  ui.badge.dataset.count = String(count);
  ui.badge.textContent = count > 99 ? '99+' : String(count);
  ui.badge.hidden = count === 0;
  ui.bell.setAttribute(
    'aria-label',
    count === 0 ? 'Notifications, aucune non lue' : `Notifications, ${count} non lue${count > 1 ? 's' : ''}`,
  );
}

function showState(state: ConnectionState, detail?: string): void {
  ui.status.dataset.state = state;
  ui.statusText.textContent = detail ? `${STATUS_TEXT[state]} : ${detail}` : STATUS_TEXT[state];
}

function showError(message: string): void {
  ui.pageError.textContent = message;
  ui.pageError.hidden = false;
}

let sessionExpiredShown = false;

/** The token expired and none fresher is available: said once, instead of reconnecting in a loop. */
function showSessionExpired(): void {
  sessionExpiredShown = true;
  ui.status.dataset.state = 'expired';
  ui.statusText.textContent = 'Session expirée';
  showError('Votre session a expiré : rouvrez cette page depuis NormX Docs pour vous reconnecter.');
}

const isOpen = (): boolean => ui.bell.getAttribute('aria-expanded') === 'true';

function setOpen(open: boolean, { focusBell = false } = {}): void {
  ui.bell.setAttribute('aria-expanded', String(open));
  ui.panel.hidden = !open;
  if (open) refreshTimes();
  if (!open && focusBell) ui.bell.focus();
}

function itemButtons(): HTMLButtonElement[] {
  return [...ui.list.querySelectorAll<HTMLButtonElement>('.item-button')];
}

ui.bell.addEventListener('click', () => setOpen(!isOpen()));
ui.bell.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowDown') return;
  event.preventDefault();
  setOpen(true);
  itemButtons()[0]?.focus();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && isOpen()) {
    event.preventDefault();
    setOpen(false, { focusBell: true });
  }
});
document.addEventListener('click', (event) => {
  const target = event.target as Node;
  if (isOpen() && !ui.panel.contains(target) && !ui.bell.contains(target)) setOpen(false);
});
// Arrow keys, Home and End move between items.
ui.list.addEventListener('keydown', (event) => {
  const buttons = itemButtons();
  const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (index < 0) return;
  const target =
    event.key === 'ArrowDown'
      ? buttons[Math.min(index + 1, buttons.length - 1)]
      : event.key === 'ArrowUp'
        ? buttons[Math.max(index - 1, 0)]
        : event.key === 'Home'
          ? buttons[0]
          : event.key === 'End'
            ? buttons[buttons.length - 1]
            : undefined;
  if (!target) return;
  event.preventDefault();
  target.focus();
});
ui.markAll.addEventListener('click', () => client?.markAllRead());

// ---- browser notifications -----------------------------------------------------------------

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

function notifyBrowser(notification: NotifyNotification): void {
  if (!browserNotificationsOn || Notification.permission !== 'granted') return;
  // The tag makes the tabs of one user show one system notification, not one each.
  const shown = new Notification(notification.title, {
    body: notification.body,
    tag: `normx-notify-${notification.id}`,
    lang: 'fr',
  });
  shown.addEventListener('click', () => {
    window.focus();
    setOpen(true);
    items.get(notification.id)?.element.querySelector('button')?.focus();
  });
}

// ---- start ---------------------------------------------------------------------------------

async function start(): Promise<void> {
  showBrowserNotificationsButton();
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
  ui.empty.hidden = items.size > 0;
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
  notify.connectionState$.subscribe((state) => {
    if (state === 'open' && sessionExpiredShown) {
      sessionExpiredShown = false;
      ui.pageError.hidden = true;
    }
    if (!sessionExpiredShown) showState(state);
  });
  notify.unreadCount$.subscribe(showCount);
  notify.notifications$.subscribe((notification) => {
    if (!add(notification)) return;
    ui.announcer.textContent = `Nouvelle notification : ${notification.title}`;
    notifyBrowser(notification);
  });
  notify.reads$.subscribe((mark) => {
    if ('all' in mark) for (const id of items.keys()) setRead(id);
    else for (const id of mark.ids) setRead(id);
  });
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
