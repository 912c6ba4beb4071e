import { DateTime, Duration, type DurationUnit } from 'luxon';
import { deadlineOf, matchDeadline } from '../domain/deadline.js';
import type { DossierSnapshot, Locale } from '../domain/dossier.js';
import type { DailyReportContent, TextInput } from '../domain/notification-texts-input.js';
import { DEFAULT_CRITICAL_DELAY, localDueDate } from '../domain/reminder-plan.js';

/** Notification titles and bodies, French by default, English supported. */

type Texts = Record<
  string,
  (input: TextInput & { due: string; t: string; delay: string }) => { title: string; body: string }
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
  'new_alert/overdue_critical': ({ t, due, delay }) => ({
    title: `Retard critique : ${t}`,
    body: `Le dossier « ${t} » est en retard depuis plus de ${delay} (échéance du ${due}).`,
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
  'new_alert/overdue_critical': ({ t, due, delay }) => ({
    title: `Critically overdue: ${t}`,
    body: `The dossier "${t}" has been overdue for more than ${delay} (due ${due}).`,
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
  const kind = input.type === 'deadline_reminder' ? reminderWords(input) : input.kind;
  // A reminder that comes after its deadline (snoozed past it) says the dossier is late.
  const template = catalog[input.locale][kind === 'overdue' ? 'new_alert/overdue' : `${input.type}/${kind}`];
  if (template) {
    // Only the critical alert states the delay: other kinds never fail on it.
    const delay =
      input.kind === 'overdue_critical'
        ? formatDelay(input.criticalDelay ?? DEFAULT_CRITICAL_DELAY, input.locale)
        : '';
    return template({ ...input, t, due, delay });
  }
  const days = /^j-(\d+)$/.exec(kind)?.[1];
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

/**
 * `j-<days left>` from the day the reminder comes to its due day, `overdue` when it comes after
 * it, or its kind when either is unknown.
 */
function reminderWords({ kind, dossier, firesAt, timeZone }: TextInput): string {
  if (!dossier || !firesAt || !/^j-\d+$/.test(kind)) return kind;
  const dueDay = localDueDate(deadlineOf(dossier), timeZone);
  const firingDay = DateTime.fromISO(firesAt, { zone: timeZone }).startOf('day');
  const daysLeft = Math.round(dueDay.diff(firingDay, 'days').days);
  return daysLeft >= 0 ? `j-${daysLeft}` : 'overdue';
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
  return matchDeadline(dossier, {
    instant: (dueAt) =>
      DateTime.fromISO(dueAt, { zone: timeZone }).setLocale(intlLocale).toLocaleString(DateTime.DATETIME_MED),
    date: (dueDate) => DateTime.fromISO(dueDate).setLocale(intlLocale).toLocaleString(DateTime.DATE_FULL),
  });
}

/** Unit words, [singular, plural], largest first: the units of an ISO 8601 duration. */
const delayWords: Record<Locale, Array<[unit: DurationUnit, one: string, many: string]>> = {
  fr: [
    ['years', 'an', 'ans'],
    ['months', 'mois', 'mois'],
    ['weeks', 'semaine', 'semaines'],
    ['days', 'jour', 'jours'],
    ['hours', 'heure', 'heures'],
    ['minutes', 'minute', 'minutes'],
    ['seconds', 'seconde', 'secondes'],
  ],
  en: [
    ['years', 'year', 'years'],
    ['months', 'month', 'months'],
    ['weeks', 'week', 'weeks'],
    ['days', 'day', 'days'],
    ['hours', 'hour', 'hours'],
    ['minutes', 'minute', 'minutes'],
    ['seconds', 'second', 'seconds'],
  ],
};

/**
 * An ISO 8601 duration in words, each unit as configured (PT36H stays "36 heures": it is the
 * setting, read back): "3 jours", "1 jour et 12 heures", "1 day and 12 hours". Own word lists
 * rather than Intl's unit formats, whose spaces (U+00A0 in French) and wording vary with ICU.
 */
function formatDelay(iso: string, locale: Locale): string {
  const duration = Duration.fromISO(iso);
  if (!duration.isValid) throw new Error(`The critical delay ${iso} is not an ISO 8601 duration`);
  const parts = delayWords[locale]
    .map(([unit, one, many]) => [duration.get(unit), one, many] as const)
    .filter(([count]) => count !== 0)
    .map(([count, one, many]) => {
      // French takes the singular below 2 (« 1,5 heure »), English only for exactly 1.
      const singular = locale === 'fr' ? Math.abs(count) < 2 : Math.abs(count) === 1;
      const number = locale === 'fr' ? String(count).replace('.', ',') : String(count);
      return `${number} ${singular ? one : many}`;
    });
  if (parts.length === 0) return locale === 'fr' ? '0 seconde' : '0 seconds';
  const last = parts.pop()!;
  return parts.length === 0 ? last : `${parts.join(', ')} ${locale === 'fr' ? 'et' : 'and'} ${last}`;
}
