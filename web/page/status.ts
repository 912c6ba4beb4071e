import type { ConnectionState, InboxCounts } from '../client/notify-client.js';
import { ui } from './dom.js';

/** What the page says about itself: the unread badge, the connection status, its errors. */

const STATUS_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connexion…',
  open: 'Connecté',
  reconnecting: 'Reconnexion…',
  closed: 'Déconnecté',
};

export function showCount(count: number): void {
  ui.badge.dataset.count = String(count);
  ui.badge.textContent = count > 99 ? '99+' : String(count);
  ui.badge.hidden = count === 0;
  ui.bell.setAttribute(
    'aria-label',
    count === 0 ? 'Notifications, aucune non lue' : `Notifications, ${count} non lue${count > 1 ? 's' : ''}`,
  );
}

/**
 * The counts per inbox state: a dot on the bell while something came since the user last looked
 * (`data-new`), the archive's count beside its view.
 */
export function showInboxCounts(counts: InboxCounts): void {
  ui.bell.dataset.unseen = String(counts.unseen);
  ui.archiveCount.textContent = counts.archived > 0 ? `(${counts.archived})` : '';
  ui.archiveCount.dataset.count = String(counts.archived);
}

/** How many listed notifications are new since the user last looked (the panel's header). */
export function showNewInList(count: number): void {
  ui.newCount.hidden = count === 0;
  ui.newCount.textContent = `${count} nouvelle${count > 1 ? 's' : ''}`;
  ui.newCount.dataset.count = String(count);
}

export function showState(state: ConnectionState, detail?: string): void {
  ui.status.dataset.state = state;
  ui.statusText.textContent = detail ? `${STATUS_TEXT[state]} : ${detail}` : STATUS_TEXT[state];
}

export function showError(message: string): void {
  ui.pageError.textContent = message;
  ui.pageError.hidden = false;
}

let sessionExpiredShown = false;

/** The token expired and none fresher is available: said once, instead of reconnecting in a loop. */
export function showSessionExpired(): void {
  sessionExpiredShown = true;
  ui.status.dataset.state = 'expired';
  ui.statusText.textContent = 'Session expirée';
  showError('Votre session a expiré : rouvrez cette page depuis NormX Docs pour vous reconnecter.');
}

/** The client's connection state, unless the expired session is on show (until a socket opens again). */
export function showConnection(state: ConnectionState): void {
  if (state === 'open' && sessionExpiredShown) {
    sessionExpiredShown = false;
    ui.pageError.hidden = true;
  }
  if (!sessionExpiredShown) showState(state);
}
