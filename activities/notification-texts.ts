import { DateTime } from 'luxon';
import type { DossierSnapshot, Locale } from '../workflows/dossier-messages.js';

/** Notification titles and bodies, French by default, English supported. */

export interface DailyReportContent {
  overdue: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
  dueToday: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
  urgent: Array<Pick<DossierSnapshot, 'id' | 'title'>>;
}

export interface TextInput {
  type: string;
  kind: string;
  locale: Locale;
  timeZone: string;
  dossier?: DossierSnapshot;
  report?: DailyReportContent;
}

type Texts = Record<
  string,
  (input: TextInput & { due: string; t: string }) => { title: string; body: string }
>;

const fr: Texts = {
  'dossier_update/created': ({ t, due }) => ({
    title: `Nouveau dossier : ${t}`,
    body: `Le dossier « ${t} » vous est attribué. Échéance : ${due}.`,
  }),
  'dossier_update/updated': ({ t }) => ({
    title: `Dossier mis à jour : ${t}`,
    body: `Le dossier « ${t} » a été modifié.`,
  }),
  'dossier_update/rescheduled': ({ t, due }) => ({
    title: `Échéance modifiée : ${t}`,
    body: `La nouvelle échéance du dossier « ${t} » est le ${due}.`,
  }),
  'dossier_update/assigned': ({ t, due }) => ({
    title: `Dossier attribué : ${t}`,
    body: `Le dossier « ${t} » vous a été attribué. Échéance : ${due}.`,
  }),
  'dossier_update/completed': ({ t }) => ({
    title: `Dossier terminé : ${t}`,
    body: `Le dossier « ${t} » est terminé. Plus aucun rappel ne sera envoyé.`,
  }),
  'dossier_update/reopened': ({ t, due }) => ({
    title: `Dossier rouvert : ${t}`,
    body: `Le dossier « ${t} » a été rouvert. Échéance : ${due}.`,
  }),
  'new_alert/urgent': ({ t, due }) => ({
    title: `Dossier urgent : ${t}`,
    body: `Le dossier « ${t} » est marqué urgent. Échéance : ${due}.`,
  }),
  'new_alert/overdue': ({ t, due }) => ({
    title: `Dossier en retard : ${t}`,
    body: `Le dossier « ${t} » a dépassé son échéance du ${due}.`,
  }),
  'new_alert/overdue_critical': ({ t, due }) => ({
    title: `Retard critique : ${t}`,
    body: `Le dossier « ${t} » est en retard depuis plus de 3 jours (échéance du ${due}).`,
  }),
  'deadline_reminder/j-0': ({ t }) => ({
    title: `Échéance aujourd'hui : ${t}`,
    body: `Le dossier « ${t} » arrive à échéance aujourd'hui.`,
  }),
  'deadline_reminder/j-1': ({ t }) => ({
    title: `Échéance demain : ${t}`,
    body: `Le dossier « ${t} » arrive à échéance demain.`,
  }),
};

const en: Texts = {
  'dossier_update/created': ({ t, due }) => ({
    title: `New dossier: ${t}`,
    body: `The dossier "${t}" is assigned to you. Due: ${due}.`,
  }),
  'dossier_update/updated': ({ t }) => ({
    title: `Dossier updated: ${t}`,
    body: `The dossier "${t}" was changed.`,
  }),
  'dossier_update/rescheduled': ({ t, due }) => ({
    title: `Due date changed: ${t}`,
    body: `The dossier "${t}" is now due on ${due}.`,
  }),
  'dossier_update/assigned': ({ t, due }) => ({
    title: `Dossier assigned: ${t}`,
    body: `The dossier "${t}" was assigned to you. Due: ${due}.`,
  }),
  'dossier_update/completed': ({ t }) => ({
    title: `Dossier completed: ${t}`,
    body: `The dossier "${t}" is completed. No more reminders will be sent.`,
  }),
  'dossier_update/reopened': ({ t, due }) => ({
    title: `Dossier reopened: ${t}`,
    body: `The dossier "${t}" was reopened. Due: ${due}.`,
  }),
  'new_alert/urgent': ({ t, due }) => ({
    title: `Urgent dossier: ${t}`,
    body: `The dossier "${t}" is marked urgent. Due: ${due}.`,
  }),
  'new_alert/overdue': ({ t, due }) => ({
    title: `Overdue dossier: ${t}`,
    body: `The dossier "${t}" is past its due date (${due}).`,
  }),
  'new_alert/overdue_critical': ({ t, due }) => ({
    title: `Critically overdue: ${t}`,
    body: `The dossier "${t}" has been overdue for more than 3 days (due ${due}).`,
  }),
  'deadline_reminder/j-0': ({ t }) => ({
    title: `Due today: ${t}`,
    body: `The dossier "${t}" is due today.`,
  }),
  'deadline_reminder/j-1': ({ t }) => ({
    title: `Due tomorrow: ${t}`,
    body: `The dossier "${t}" is due tomorrow.`,
  }),
};

const catalog: Record<Locale, Texts> = { fr, en };

export function renderNotification(input: TextInput): { title: string; body: string } {
  if (input.type === 'daily_report')
    return renderReport(input.locale, input.report ?? { overdue: [], dueToday: [], urgent: [] });
  const dossier = input.dossier;
  const t = dossier?.title ?? '';
  const due = dossier ? formatDue(dossier, input.locale, input.timeZone) : '';
  const template = catalog[input.locale][`${input.type}/${input.kind}`];
  if (template) return template({ ...input, t, due });
  const days = /^j-(\d+)$/.exec(input.kind)?.[1];
  if (input.type === 'deadline_reminder' && days) {
    return input.locale === 'fr'
      ? {
          title: `Échéance dans ${days} jours : ${t}`,
          body: `Le dossier « ${t} » arrive à échéance le ${due}.`,
        }
      : { title: `Due in ${days} days: ${t}`, body: `The dossier "${t}" is due on ${due}.` };
  }
  throw new Error(`No text for notification ${input.type}/${input.kind}`);
}

function renderReport(locale: Locale, report: DailyReportContent): { title: string; body: string } {
  const { overdue, dueToday, urgent } = report;
  const list = (items: DailyReportContent['overdue']): string => items.map((item) => item.title).join(', ');
  if (locale === 'en') {
    const parts = [
      overdue.length ? `${overdue.length} overdue (${list(overdue)})` : '',
      dueToday.length ? `${dueToday.length} due today (${list(dueToday)})` : '',
      urgent.length ? `${urgent.length} urgent (${list(urgent)})` : '',
    ].filter(Boolean);
    return { title: 'Daily report', body: `${parts.join('; ')}.` };
  }
  const parts = [
    overdue.length ? `${overdue.length} en retard (${list(overdue)})` : '',
    dueToday.length ? `${dueToday.length} à traiter aujourd'hui (${list(dueToday)})` : '',
    urgent.length ? `${urgent.length} urgent${urgent.length > 1 ? 's' : ''} (${list(urgent)})` : '',
  ].filter(Boolean);
  return { title: 'Rapport quotidien', body: `${parts.join(' ; ')}.` };
}

function formatDue(dossier: DossierSnapshot, locale: Locale, timeZone: string): string {
  const intlLocale = locale === 'fr' ? 'fr-FR' : 'en-GB';
  if (dossier.dueAt !== undefined) {
    return DateTime.fromISO(dossier.dueAt, { zone: timeZone })
      .setLocale(intlLocale)
      .toLocaleString(DateTime.DATETIME_MED);
  }
  return DateTime.fromISO(dossier.dueDate!).setLocale(intlLocale).toLocaleString(DateTime.DATE_FULL);
}
