import type { NotifyNotification } from '../client/notify-client.js';
import { SNOOZE_PRESETS, type SnoozePreset } from './snooze.js';

/**
 * The "Reporter" button and its menu of presets. Choosing one snoozes the item and says so on it
 * ("Reporté à demain 08:00"), or why it could not; the page shows it read once the server has it.
 */
export function snoozeMenu(
  notification: NotifyNotification,
  snooze: (id: string, preset: SnoozePreset) => Promise<void>,
  status: HTMLElement,
): HTMLElement {
  const wrapper = document.createElement('div');
  wrapper.className = 'item-snooze';
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'item-action item-snooze-button';
  toggle.textContent = 'Reporter';
  toggle.setAttribute('aria-label', `Reporter : ${notification.title}`);
  toggle.setAttribute('aria-haspopup', 'menu');
  toggle.setAttribute('aria-expanded', 'false');
  const menu = document.createElement('div');
  menu.className = 'snooze-menu';
  menu.setAttribute('role', 'menu');
  menu.setAttribute('aria-label', `Reporter : ${notification.title}`);
  menu.hidden = true;
  const options = SNOOZE_PRESETS.map(({ preset, label, done }) => {
    const option = document.createElement('button');
    option.type = 'button';
    option.className = 'snooze-option';
    option.dataset.preset = preset;
    option.setAttribute('role', 'menuitem');
    option.tabIndex = -1;
    option.textContent = label;
    option.addEventListener('click', () => {
      close();
      toggle.focus();
      void choose(preset, done);
    });
    return option;
  });
  menu.append(...options);

  const open = (): void => {
    menu.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
    // The list scrolls: the menu of its last item opens below what it shows.
    menu.scrollIntoView({ block: 'nearest' });
    options[0]?.focus();
  };
  const close = (): void => {
    menu.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  };
  const choose = async (preset: SnoozePreset, done: string): Promise<void> => {
    toggle.disabled = true;
    status.hidden = false;
    delete status.dataset.state;
    status.textContent = 'Report en cours…';
    try {
      await snooze(notification.id, preset);
      status.dataset.state = 'done';
      status.textContent = done;
    } catch (error) {
      status.dataset.state = 'error';
      status.textContent = `Report impossible : ${(error as Error).message}`;
    } finally {
      toggle.disabled = false;
    }
  };

  toggle.addEventListener('click', () => (menu.hidden ? open() : close()));
  menu.addEventListener('keydown', (event) => {
    // Escape closes the menu only (not the panel around it); the arrows move through its presets.
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
      toggle.focus();
      return;
    }
    const index = options.indexOf(document.activeElement as HTMLButtonElement);
    const target =
      event.key === 'ArrowDown'
        ? options[(index + 1) % options.length]
        : event.key === 'ArrowUp'
          ? options[(index - 1 + options.length) % options.length]
          : event.key === 'Home'
            ? options[0]
            : event.key === 'End'
              ? options.at(-1)
              : undefined;
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    target.focus();
  });
  // Tabbing or clicking away closes it.
  wrapper.addEventListener('focusout', (event) => {
    if (!wrapper.contains(event.relatedTarget as Node | null)) close();
  });
  wrapper.append(toggle, menu);
  return wrapper;
}
