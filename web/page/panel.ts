import { ui } from './dom.js';
import { itemButtons } from './list.js';

/** The bell's panel: opened and closed by the bell, Escape or a click outside; the keyboard moves through it. */

export const isOpen = (): boolean => ui.bell.getAttribute('aria-expanded') === 'true';

/** What the page does when the panel opens (shows the new ones, marks them seen) and closes. */
let hooks: { opened(): void; closed(): void } = { opened: () => {}, closed: () => {} };

export function openPanel(): void {
  if (isOpen()) return;
  ui.bell.setAttribute('aria-expanded', 'true');
  ui.panel.hidden = false;
  hooks.opened();
}

/** `focusBell`: the focus goes back to the bell (Escape), not left where it was (a click elsewhere). */
export function closePanel({ focusBell = false }: { focusBell?: boolean } = {}): void {
  ui.bell.setAttribute('aria-expanded', 'false');
  ui.panel.hidden = true;
  if (focusBell) ui.bell.focus();
  hooks.closed();
}

/**
 * Listens to the bell, the keyboard and the clicks; `markAllRead` is the panel's button,
 * `opened` and `closed` are told when the panel opens and closes.
 */
export function setUpPanel(options: { markAllRead: () => void; opened(): void; closed(): void }): void {
  const { markAllRead } = options;
  hooks = options;
  ui.bell.addEventListener('click', () => (isOpen() ? closePanel() : openPanel()));
  ui.bell.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown') return;
    event.preventDefault();
    openPanel();
    itemButtons()[0]?.focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen()) {
      event.preventDefault();
      closePanel({ focusBell: true });
    }
  });
  document.addEventListener('click', (event) => {
    // The path as dispatched: an item archived by this click has left the panel since.
    const path = event.composedPath();
    if (isOpen() && !path.includes(ui.panel) && !path.includes(ui.bell)) closePanel();
  });
  // Arrow keys, Home and End move between items.
  const move = (event: KeyboardEvent): void => {
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
  };
  ui.list.addEventListener('keydown', move);
  ui.archiveList.addEventListener('keydown', move);
  ui.markAll.addEventListener('click', markAllRead);
}
