/** The bell page's elements (web/page/index.html), found once: a missing one fails at load. */

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

export const ui = {
  status: byId('connection-status'),
  statusText: byId('connection-text'),
  bell: byId<HTMLButtonElement>('bell-button'),
  badge: byId('bell-badge'),
  panel: byId('bell-panel'),
  list: byId<HTMLUListElement>('bell-list'),
  empty: byId('bell-empty'),
  markAll: byId<HTMLButtonElement>('mark-all-read'),
  loadMore: byId<HTMLButtonElement>('load-more'),
  newCount: byId('new-count'),
  viewInbox: byId<HTMLButtonElement>('view-inbox'),
  viewArchive: byId<HTMLButtonElement>('view-archive'),
  archiveCount: byId('archive-count'),
  archiveList: byId<HTMLUListElement>('archive-list'),
  archiveEmpty: byId('archive-empty'),
  archiveMore: byId<HTMLButtonElement>('archive-more'),
  browserNotifications: byId<HTMLButtonElement>('browser-notifications'),
  settingsButton: byId<HTMLButtonElement>('settings-button'),
  settings: byId<HTMLFormElement>('settings'),
  settingsKinds: byId<HTMLTableSectionElement>('settings-kinds'),
  reminderTime: byId<HTMLInputElement>('settings-reminder-time'),
  quietOn: byId<HTMLInputElement>('settings-quiet-on'),
  quietFrom: byId<HTMLInputElement>('settings-quiet-from'),
  quietTo: byId<HTMLInputElement>('settings-quiet-to'),
  settingsSave: byId<HTMLButtonElement>('settings-save'),
  settingsStatus: byId('settings-status'),
  pageError: byId('page-error'),
  announcer: byId('announcer'),
};
