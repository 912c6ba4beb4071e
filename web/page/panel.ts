import { ui } from './dom.js';
import { itemButtons, refreshTimes } from './list.js';

/** The bell's panel: opened and closed by the bell, Escape or a click outside; the keyboard moves through it. */

const isOpen = (): boolean => ui.bell.getAttribute('aria-expanded') === 'true';

export function openPanel(): void {
  ui.bell.setAttribute('aria-expanded', 'true');
  ui.panel.hidden = false;
  refreshTimes();
}

/** `focusBell`: the focus goes back to the bell (Escape), not left where it was (a click elsewhere). */
export function closePanel({ focusBell = false }: { focusBell?: boolean } = {}): void {
  ui.bell.setAttribute('aria-expanded', 'false');
  ui.panel.hidden = true;
  if (focusBell) ui.bell.focus();
}

/** Listens to the bell, the keyboard and the clicks; `markAllRead` is the panel's button. */
export function setUpPanel({ markAllRead }: { markAllRead: () => void }): void {
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
    const target = event.target as Node;
    if (isOpen() && !ui.panel.contains(target) && !ui.bell.contains(target)) closePanel();
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
  ui.markAll.addEventListener('click', markAllRead);
}
