import {
  fetchPreferences,
  savePreferences,
  type Preferences,
  type PreferencesChange,
} from '../client/notify-client.js';
import { ui } from './dom.js';
import { currentToken } from './session.js';

/**
 * The settings panel ("Réglages", in the bell's footer): per kind, in the bell or not and popup or
 * not; the reminder hour; quiet hours. Read from the server when opened, saved in one PUT
 * (docs/api.md, "Preferences"); `overdue_critical` is shown checked and cannot be unchecked.
 */

const KIND_LABELS: Record<string, string> = {
  overdue: 'En retard',
  overdue_critical: 'Retard critique',
  urgent: 'Urgent',
  report: 'Récapitulatif de 18 h',
  created: 'Dossier créé',
  updated: 'Dossier modifié',
  rescheduled: 'Échéance déplacée',
  assigned: 'Dossier attribué',
  completed: 'Dossier terminé',
  reopened: 'Dossier rouvert',
};

/** "J-7", "Jour J", "En retard"… */
export const kindLabel = (kind: string): string =>
  kind === 'j-0' ? 'Jour J' : /^j-\d+$/.test(kind) ? kind.toUpperCase() : (KIND_LABELS[kind] ?? kind);

/** The preferences as loaded: what a save compares with (only a changed hour is sent). */
let loaded: Preferences | undefined;

export function setUpSettings(): void {
  ui.settingsButton.hidden = false;
  ui.settingsButton.addEventListener('click', () => {
    const open = ui.settings.hidden;
    ui.settings.hidden = !open;
    ui.settingsButton.setAttribute('aria-expanded', String(open));
    if (open) void load();
  });
  ui.quietOn.addEventListener('change', () => {
    ui.quietFrom.disabled = ui.quietTo.disabled = !ui.quietOn.checked;
  });
  ui.settings.addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });
}

async function load(): Promise<void> {
  say('Chargement…');
  try {
    show(await fetchPreferences({ token: await currentToken() }));
    say('');
  } catch (error) {
    say(`Réglages indisponibles : ${(error as Error).message}`);
  }
}

function show(preferences: Preferences): void {
  loaded = preferences;
  ui.settingsKinds.replaceChildren(
    ...preferences.kinds.map(({ kind, bell, popup, mutable }) => {
      const row = document.createElement('tr');
      row.dataset.kind = kind;
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = kindLabel(kind);
      row.append(name, checkbox('bell', bell, mutable, kind), checkbox('popup', popup, mutable, kind));
      return row;
    }),
  );
  ui.reminderTime.value = preferences.reminderTime ?? preferences.defaultReminderTime;
  ui.quietOn.checked = preferences.quietHours !== null;
  ui.quietFrom.value = preferences.quietHours?.from ?? '20:00';
  ui.quietTo.value = preferences.quietHours?.to ?? '08:00';
  ui.quietFrom.disabled = ui.quietTo.disabled = !ui.quietOn.checked;
}

function checkbox(field: 'bell' | 'popup', checked: boolean, mutable: boolean, kind: string): HTMLElement {
  const cell = document.createElement('td');
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.name = field;
  input.checked = checked;
  input.disabled = !mutable;
  input.title = mutable ? '' : 'Un retard critique vous parvient toujours';
  input.setAttribute(
    'aria-label',
    `${kindLabel(kind)} : ${field === 'bell' ? 'dans la cloche' : 'fenêtre du navigateur'}`,
  );
  // Out of the bell means no popup either.
  if (field === 'bell')
    input.addEventListener('change', () => {
      const popup = input.closest('tr')?.querySelector<HTMLInputElement>('input[name=popup]');
      if (popup && !input.checked) popup.checked = false;
    });
  cell.append(input);
  return cell;
}

/** The form as a change: every kind that differs from the default, the quiet hours, a new hour. */
function changeOf(): PreferencesChange {
  const kinds: Record<string, { bell: boolean; popup: boolean }> = {};
  for (const row of ui.settingsKinds.querySelectorAll<HTMLTableRowElement>('tr[data-kind]')) {
    const value = (name: string) =>
      row.querySelector<HTMLInputElement>(`input[name=${name}]`)?.checked ?? true;
    const [bell, popup] = [value('bell'), value('popup')];
    if (!bell || !popup) kinds[row.dataset.kind!] = { bell, popup: bell && popup };
  }
  const hour = ui.reminderTime.value;
  const currentHour = loaded?.reminderTime ?? loaded?.defaultReminderTime;
  return {
    kinds,
    quietHours: ui.quietOn.checked ? { from: ui.quietFrom.value, to: ui.quietTo.value } : null,
    ...(hour && hour !== currentHour && { reminderTime: hour === loaded?.defaultReminderTime ? null : hour }),
  };
}

/**
 * One save at a time: a second submit while the first is under way (a double-click, Enter again)
 * would send the same change again, and a new reminder hour twice: two of the 3 changes the
 * server allows in 10 minutes, and every open dossier re-planned twice (the server cannot tell,
 * as the profile workflow saves the hour a moment after the reply).
 */
let saving = false;

async function save(): Promise<void> {
  if (saving) return;
  saving = true;
  ui.settingsSave.disabled = true;
  say('Enregistrement…');
  try {
    show(await savePreferences({ token: await currentToken(), change: changeOf() }));
    say('Réglages enregistrés');
  } catch (error) {
    say(`Non enregistré : ${(error as Error).message}`);
  } finally {
    saving = false;
    ui.settingsSave.disabled = false;
  }
}

function say(text: string): void {
  ui.settingsStatus.textContent = text;
}
