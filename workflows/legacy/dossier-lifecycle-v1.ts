import { proxyActivities } from '@temporalio/workflow';
import type { DossierActivities } from '../../activities/index.js';
import type {
  CarriedState,
  DossierEvent,
  DossierSnapshot,
  OwnerProfile,
  PendingReminder,
  ReminderPlanView,
  SentReminder,
  UpsertDossierEvent,
} from '../dossier-messages.js';
import type { NotificationRequest } from '../../activities/dossier-activities.js';
import { notificationSummary } from '../dossier-visibility.js';
import { dossierUpdateKey, reminderKey, urgentAlertKey } from '../../domain/idempotency-keys.js';
import { deadlineOf, withDeadline } from '../../domain/deadline.js';
import { deadlineKey, planReminders } from '../../domain/reminder-plan.js';
import { databaseRetryV1 } from '../activity-retry.js';

const { saveDossier, deliverNotification } = proxyActivities<DossierActivities>({
  startToCloseTimeout: '30 seconds',
  // Unlimited attempts: a reminder must not be lost to a database outage; the insert is idempotent.
  retry: databaseRetryV1,
});

/** Sent reminders kept in state (and shown by the plan query); older ones stay in the database. */
const SENT_HISTORY_LIMIT = 50;

export type LifecycleState = Omit<CarriedState, 'queued'>;

/**
 * FROZEN with dossier-workflow-v1.ts (see there): the rules as they were, bugs included, so that
 * runs started before the new engine replay command for command.
 *
 * A dossier's state and the rules that move it: applying an event, arming reminders, firing
 * them. Workflow code (deterministic): time is the workflow clock, I/O goes through activities.
 */
export class DossierLifecycle {
  private constructor(private state: LifecycleState) {}

  /** A dossier created by its first signal: saved, announced to its owner, reminders armed. */
  static async create(dossierId: string, event: UpsertDossierEvent): Promise<DossierLifecycle> {
    const { title, ownerId, urgent } = event.dossier;
    const dossier = withDeadline(
      { id: dossierId, title, ownerId, urgent: false, status: 'open' as const },
      deadlineOf(event.dossier),
    );
    const context = await saveDossier.executeWithOptions(saveSummary(dossierId), [
      { dossier, owner: event.owner },
    ]);
    const lifecycle = new DossierLifecycle({ dossier, context, pending: [], sent: [] });
    lifecycle.rearm();
    await lifecycle.announce('created', event.eventId);
    if (urgent) await lifecycle.markUrgent();
    return lifecycle;
  }

  /** A dossier resumed from its database copy or from continue-as-new. */
  static resume(state: LifecycleState, { rearm }: { rearm: boolean }): DossierLifecycle {
    const lifecycle = new DossierLifecycle(state);
    if (rearm) lifecycle.rearm();
    return lifecycle;
  }

  get dossier(): DossierSnapshot {
    return this.state.dossier;
  }

  get snapshot(): LifecycleState {
    return this.state;
  }

  view(): ReminderPlanView {
    const { dossier, context, sent, pending } = this.state;
    return { dossier, timeZone: context.timeZone, sent, pending };
  }

  /** The next armed reminder, if any. */
  get next(): PendingReminder | undefined {
    return this.state.pending[0];
  }

  async apply(event: DossierEvent): Promise<void> {
    const previous = this.state.dossier;
    switch (event.type) {
      case 'upsert': {
        const { title, ownerId, urgent } = event.dossier;
        const deadline = deadlineOf(event.dossier);
        const deadlineChanged = deadlineKey(deadline) !== deadlineKey(deadlineOf(previous));
        const ownerChanged = ownerId !== previous.ownerId;
        if (!deadlineChanged && !ownerChanged && title === previous.title && !event.owner) {
          if (urgent !== undefined) await this.setUrgency(urgent);
          return;
        }
        this.state.dossier = withDeadline({ ...previous, title, ownerId }, deadline);
        await this.save({
          owner: event.owner,
          rearm: deadlineChanged || ownerChanged || event.owner?.timezone !== undefined,
        });
        await this.announce(
          ownerChanged ? 'assigned' : deadlineChanged ? 'rescheduled' : 'updated',
          event.eventId,
        );
        if (urgent !== undefined) await this.setUrgency(urgent);
        return;
      }
      case 'reschedule':
        if (deadlineKey(event.deadline) === deadlineKey(deadlineOf(previous))) return;
        this.state.dossier = withDeadline(previous, event.deadline);
        await this.save({ rearm: true });
        await this.announce('rescheduled', event.eventId);
        return;
      case 'assign':
        if (event.ownerId === previous.ownerId && !event.owner) return;
        this.state.dossier = { ...previous, ownerId: event.ownerId };
        await this.save({ owner: event.owner, rearm: true });
        await this.announce('assigned', event.eventId);
        return;
      case 'markUrgent':
      case 'unmarkUrgent':
        await this.setUrgency(event.type === 'markUrgent');
        return;
      case 'complete':
      case 'cancel': {
        const status = event.type === 'complete' ? 'done' : 'cancelled';
        if (previous.status === status) return;
        this.state.dossier = { ...previous, status };
        await this.save({ rearm: true });
        if (status === 'done') await this.announce('completed', event.eventId);
        return;
      }
      case 'reopen':
        if (previous.status === 'open') return;
        this.state.dossier = { ...previous, status: 'open' };
        await this.save({ rearm: true });
        await this.announce('reopened', event.eventId);
        return;
      case 'sync':
        return;
    }
  }

  /**
   * Sends every armed reminder whose instant has come, in order. A timer fires on time even
   * when no worker was up; its reminder is then sent as soon as one is.
   */
  async fireDueReminders(): Promise<void> {
    for (let reminder = this.next; reminder && Date.parse(reminder.at) <= Date.now(); reminder = this.next) {
      await deliver({
        idempotencyKey: reminder.idempotencyKey,
        userId: this.state.dossier.ownerId,
        type: reminder.type,
        kind: reminder.kind,
        dossier: this.state.dossier,
        scheduledFor: reminder.dueInstant,
      });
      const sent: SentReminder = {
        type: reminder.type,
        kind: reminder.kind,
        idempotencyKey: reminder.idempotencyKey,
        dueInstant: reminder.dueInstant,
        sentAt: new Date().toISOString(),
      };
      this.state.pending = this.state.pending.slice(1);
      this.state.sent = [...this.state.sent, sent].slice(-SENT_HISTORY_LIMIT);
    }
  }

  private async setUrgency(urgent: boolean): Promise<void> {
    if (urgent === this.state.dossier.urgent) return;
    if (urgent) return this.markUrgent();
    const { urgentSince: _cleared, ...rest } = this.state.dossier;
    this.state.dossier = { ...rest, urgent: false };
    await this.save({ rearm: false });
  }

  /** Marks urgent now and alerts the owner at once; the key ties the alert to this marking. */
  private async markUrgent(): Promise<void> {
    const urgentSince = new Date().toISOString();
    this.state.dossier = { ...this.state.dossier, urgent: true, urgentSince };
    await this.save({ rearm: false });
    if (this.state.dossier.status !== 'open') return;
    await deliver({
      idempotencyKey: urgentAlertKey(this.state.dossier.id, urgentSince, this.state.dossier.ownerId),
      userId: this.state.dossier.ownerId,
      type: 'new_alert',
      kind: 'urgent',
      dossier: this.state.dossier,
    });
  }

  /** Saves the dossier row and learns the owner's zone; re-arms when the schedule may have moved. */
  private async save({ owner, rearm }: { owner?: OwnerProfile; rearm: boolean }): Promise<void> {
    this.state.context = await saveDossier.executeWithOptions(saveSummary(this.state.dossier.id), [
      { dossier: this.state.dossier, owner },
    ]);
    if (rearm) this.rearm();
  }

  private async announce(kind: string, eventId: string): Promise<void> {
    await deliver({
      idempotencyKey: dossierUpdateKey(this.state.dossier.id, eventId),
      userId: this.state.dossier.ownerId,
      type: 'dossier_update',
      kind,
      dossier: this.state.dossier,
    });
  }

  /** Plans from now; reminders already sent for this deadline are not armed again. */
  private rearm(): void {
    const { dossier, context, sent } = this.state;
    if (dossier.status !== 'open') {
      this.state.pending = [];
      return;
    }
    const sentKeys = new Set(sent.map((reminder) => reminder.idempotencyKey));
    const deadline = deadlineOf(dossier);
    this.state.pending = planReminders({
      deadline,
      timeZone: context.timeZone,
      policy: context.policy,
      now: Date.now(),
      midnightDueAt: 'same-day',
    })
      .map((planned) => ({
        ...planned,
        idempotencyKey: reminderKey(dossier.id, deadlineKey(deadline), planned.kind),
      }))
      .filter((reminder) => !sentKeys.has(reminder.idempotencyKey));
  }
}

const saveSummary = (dossierId: string) => ({ summary: `save dossier ${dossierId}` });

/** Stores and announces a notification; the event history names it (`j-7 reminder for dossier D-42`). */
function deliver(request: NotificationRequest & { dossier: DossierSnapshot }): Promise<unknown> {
  return deliverNotification.executeWithOptions(
    {
      summary: `${notificationSummary(request.type, request.kind, request.dossier.id)} to ${request.userId}`,
    },
    [request],
  );
}
