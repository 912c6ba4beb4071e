import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderNotification } from '../../activities/notification-texts.js';
import { loadConfig } from '../../config/config.js';
import type { TextInput } from '../../domain/notification-texts-input.js';
import { DEFAULT_CRITICAL_DELAY } from '../../domain/reminder-plan.js';
import type { DossierSnapshot } from '../../workflows/dossier-messages.js';

/** Titles and bodies of every notification kind, in French (the product's language) and English. */

const base = {
  id: 'd1',
  title: 'Bilan 2026 SARL Dupont',
  ownerId: 'u1',
  urgent: false,
  status: 'open' as const,
};
const dossier: DossierSnapshot = { ...base, dueDate: '2027-03-28' };
const T = dossier.title;

// `type` as a string: a type outside the union (a row written by hand) must throw, not render.
const render = (type: string, kind: string, locale: TextInput['locale'], extra: Partial<TextInput> = {}) =>
  renderNotification({
    type: type as TextInput['type'],
    kind,
    locale,
    timeZone: 'Europe/Paris',
    dossier,
    ...extra,
  });

/** [type/kind, French title, French body, English title, English body], due date 2027-03-28. */
const expected: Array<[string, string, string, string, string]> = [
  [
    'dossier_update/created',
    `Nouveau dossier : ${T}`,
    `Le dossier « ${T} » vous est attribué. Échéance : 28 mars 2027.`,
    `New dossier: ${T}`,
    `The dossier "${T}" is assigned to you. Due: 28 March 2027.`,
  ],
  [
    'dossier_update/updated',
    `Dossier mis à jour : ${T}`,
    `Le dossier « ${T} » a été modifié.`,
    `Dossier updated: ${T}`,
    `The dossier "${T}" was changed.`,
  ],
  [
    'dossier_update/rescheduled',
    `Échéance modifiée : ${T}`,
    `La nouvelle échéance du dossier « ${T} » est le 28 mars 2027.`,
    `Due date changed: ${T}`,
    `The dossier "${T}" is now due on 28 March 2027.`,
  ],
  [
    'dossier_update/assigned',
    `Dossier attribué : ${T}`,
    `Le dossier « ${T} » vous a été attribué. Échéance : 28 mars 2027.`,
    `Dossier assigned: ${T}`,
    `The dossier "${T}" was assigned to you. Due: 28 March 2027.`,
  ],
  [
    'dossier_update/completed',
    `Dossier terminé : ${T}`,
    `Le dossier « ${T} » est terminé. Plus aucun rappel ne sera envoyé.`,
    `Dossier completed: ${T}`,
    `The dossier "${T}" is completed. No more reminders will be sent.`,
  ],
  [
    'dossier_update/reopened',
    `Dossier rouvert : ${T}`,
    `Le dossier « ${T} » a été rouvert. Échéance : 28 mars 2027.`,
    `Dossier reopened: ${T}`,
    `The dossier "${T}" was reopened. Due: 28 March 2027.`,
  ],
  [
    'new_alert/urgent',
    `Dossier urgent : ${T}`,
    `Le dossier « ${T} » est marqué urgent. Échéance : 28 mars 2027.`,
    `Urgent dossier: ${T}`,
    `The dossier "${T}" is marked urgent. Due: 28 March 2027.`,
  ],
  [
    'new_alert/overdue',
    `Dossier en retard : ${T}`,
    `Le dossier « ${T} » a dépassé son échéance du 28 mars 2027.`,
    `Overdue dossier: ${T}`,
    `The dossier "${T}" is past its due date (28 March 2027).`,
  ],
  [
    'new_alert/overdue_critical',
    `Retard critique : ${T}`,
    `Le dossier « ${T} » est en retard depuis plus de 3 jours (échéance du 28 mars 2027).`,
    `Critically overdue: ${T}`,
    `The dossier "${T}" has been overdue for more than 3 days (due 28 March 2027).`,
  ],
  [
    'deadline_reminder/j-7',
    `Échéance dans 7 jours : ${T}`,
    `Le dossier « ${T} » arrive à échéance le 28 mars 2027.`,
    `Due in 7 days: ${T}`,
    `The dossier "${T}" is due on 28 March 2027.`,
  ],
  [
    'deadline_reminder/j-1',
    `Échéance demain : ${T}`,
    `Le dossier « ${T} » arrive à échéance demain.`,
    `Due tomorrow: ${T}`,
    `The dossier "${T}" is due tomorrow.`,
  ],
  [
    'deadline_reminder/j-0',
    `Échéance aujourd'hui : ${T}`,
    `Le dossier « ${T} » arrive à échéance aujourd'hui.`,
    `Due today: ${T}`,
    `The dossier "${T}" is due today.`,
  ],
];

describe('renderNotification', () => {
  for (const [typeKind, frTitle, frBody, enTitle, enBody] of expected) {
    const [type, kind] = typeKind.split('/') as [string, string];
    it(`renders ${typeKind} in French and English`, () => {
      const french = render(type, kind, 'fr');
      const english = render(type, kind, 'en');
      assert.deepEqual(french, { title: frTitle, body: frBody });
      assert.deepEqual(english, { title: enTitle, body: enBody });
      for (const text of [french, english]) {
        assert.ok(text.title.includes(T) && text.body.includes(T), `names the dossier: ${text.body}`);
      }
    });
  }

  it('states the configured critical delay (OVERDUE_CRITICAL_DELAY) in overdue_critical, in both languages', () => {
    /** [ISO delay, French wording, English wording]. */
    const delays: Array<[string | undefined, string, string]> = [
      [undefined, '3 jours', '3 days'],
      ['P3D', '3 jours', '3 days'],
      ['P5D', '5 jours', '5 days'],
      ['P1D', '1 jour', '1 day'],
      ['PT36H', '36 heures', '36 hours'],
      ['P1DT12H', '1 jour et 12 heures', '1 day and 12 hours'],
      ['P2W', '2 semaines', '2 weeks'],
      ['P1M', '1 mois', '1 month'],
      ['PT90M', '90 minutes', '90 minutes'],
      ['PT4S', '4 secondes', '4 seconds'],
      ['P1Y', '1 an', '1 year'],
      ['PT1.5H', '1,5 heure', '1.5 hours'],
      ['P1DT2H30M', '1 jour, 2 heures et 30 minutes', '1 day, 2 hours and 30 minutes'],
    ];
    for (const [criticalDelay, french, english] of delays) {
      const extra = criticalDelay === undefined ? {} : { criticalDelay };
      assert.deepEqual(render('new_alert', 'overdue_critical', 'fr', extra), {
        title: `Retard critique : ${T}`,
        body: `Le dossier « ${T} » est en retard depuis plus de ${french} (échéance du 28 mars 2027).`,
      });
      assert.deepEqual(render('new_alert', 'overdue_critical', 'en', extra), {
        title: `Critically overdue: ${T}`,
        body: `The dossier "${T}" has been overdue for more than ${english} (due 28 March 2027).`,
      });
    }
  });

  it("defaults to the policy's default delay, and refuses a delay that is not an ISO duration", () => {
    assert.equal(DEFAULT_CRITICAL_DELAY, loadConfig({}).reminderPolicy.criticalDelay);
    assert.throws(
      () => render('new_alert', 'overdue_critical', 'fr', { criticalDelay: 'three days' }),
      /three days/,
    );
  });

  it('renders any j-N offset from the policy, not only 7', () => {
    assert.deepEqual(render('deadline_reminder', 'j-30', 'fr'), {
      title: `Échéance dans 30 jours : ${T}`,
      body: `Le dossier « ${T} » arrive à échéance le 28 mars 2027.`,
    });
    assert.equal(render('deadline_reminder', 'j-3', 'en').title, `Due in 3 days: ${T}`);
  });

  it('a reminder moved to an earlier business day counts the days left from the day it comes', () => {
    // Due Monday 5 April 2027: its j-1 (Sunday) and its j-0 moved to a Friday would lie.
    const monday: Partial<TextInput> = { dossier: { ...base, dueDate: '2027-04-05' } };
    assert.deepEqual(
      render('deadline_reminder', 'j-1', 'fr', { ...monday, firesAt: '2027-04-02T06:00:00Z' }),
      {
        title: `Échéance dans 3 jours : ${T}`,
        body: `Le dossier « ${T} » arrive à échéance le 5 avril 2027.`,
      },
    );
    assert.equal(
      render('deadline_reminder', 'j-0', 'en', { ...monday, firesAt: '2027-04-02T06:00:00Z' }).title,
      `Due in 3 days: ${T}`,
    );
    // Snoozed past the deadline: it says the dossier is late.
    assert.equal(
      render('deadline_reminder', 'j-1', 'fr', { ...monday, firesAt: '2027-04-07T06:00:00Z' }).title,
      `Dossier en retard : ${T}`,
    );
    // Not moved: the kind's own words.
    assert.equal(
      render('deadline_reminder', 'j-1', 'fr', { ...monday, firesAt: '2027-04-04T06:00:00Z' }).title,
      `Échéance demain : ${T}`,
    );
    assert.equal(
      render('deadline_reminder', 'j-7', 'fr', { ...monday, firesAt: '2027-03-26T07:00:00Z' }).title,
      `Échéance dans 10 jours : ${T}`,
    );
  });

  it("formats an exact dueAt as date and time in the owner's zone", () => {
    const exact: DossierSnapshot = { ...base, dueAt: '2027-03-28T12:30:00Z' };
    const paris = render('new_alert', 'urgent', 'fr', { dossier: exact });
    assert.ok(paris.body.includes('28 mars 2027') && paris.body.includes('14:30'), paris.body);
    // 02:30 UTC is still the evening of the 27th in New York.
    const newYork = render('new_alert', 'urgent', 'en', {
      dossier: { ...exact, dueAt: '2027-03-28T02:30:00Z' },
      timeZone: 'America/New_York',
    });
    assert.ok(newYork.body.includes('27 Mar 2027') && newYork.body.includes('22:30'), newYork.body);
  });

  it('throws an Error naming an unknown type or kind', () => {
    assert.throws(() => render('new_alert', 'exploded', 'fr'), {
      name: 'Error',
      message: /new_alert\/exploded/,
    });
    assert.throws(() => render('carrier_pigeon', 'urgent', 'en'), /carrier_pigeon\/urgent/);
    // The generic j-N wording is for deadline reminders only.
    assert.throws(() => render('dossier_update', 'j-7', 'fr'), /dossier_update\/j-7/);
    assert.throws(() => render('deadline_reminder', 'j-x', 'fr'), /deadline_reminder\/j-x/);
  });

  describe('daily report', () => {
    const report = {
      overdue: [
        { id: 'a', title: 'TVA janvier' },
        { id: 'b', title: 'Liasse fiscale' },
      ],
      dueToday: [{ id: 'c', title: 'DSN mars' }],
      urgent: [
        { id: 'd', title: 'Bilan Martin' },
        { id: 'b', title: 'Liasse fiscale' },
      ],
    };

    it('lists counts and titles, in French', () => {
      assert.deepEqual(
        renderNotification({
          type: 'daily_report',
          kind: 'report',
          locale: 'fr',
          timeZone: 'Europe/Paris',
          report,
        }),
        {
          title: 'Rapport quotidien',
          body:
            "2 en retard (TVA janvier, Liasse fiscale) ; 1 à traiter aujourd'hui (DSN mars) ; " +
            '2 urgents (Bilan Martin, Liasse fiscale).',
        },
      );
    });

    it('lists counts and titles, in English', () => {
      assert.deepEqual(
        renderNotification({
          type: 'daily_report',
          kind: 'report',
          locale: 'en',
          timeZone: 'Europe/Paris',
          report,
        }),
        {
          title: 'Daily report',
          body: '2 overdue (TVA janvier, Liasse fiscale); 1 due today (DSN mars); 2 urgent (Bilan Martin, Liasse fiscale).',
        },
      );
    });

    it('leaves out empty sections and keeps "urgent" singular for one', () => {
      const onlyUrgent = { overdue: [], dueToday: [], urgent: [{ id: 'd', title: 'Bilan Martin' }] };
      assert.equal(
        renderNotification({
          type: 'daily_report',
          kind: 'report',
          locale: 'fr',
          timeZone: 'Europe/Paris',
          report: onlyUrgent,
        }).body,
        '1 urgent (Bilan Martin).',
      );
    });
  });
});
