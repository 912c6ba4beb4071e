"""NotifyClient against a real server, Temporal and worker: every call, retries, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import unittest
from typing import Callable

from support import (
    FAST_RETRY,
    KINDS,
    SERVICE_TOKEN,
    URL,
    USER,
    USER_TOKEN,
    Faults,
    FlakyTransport,
    days_ahead,
    eventually,
    kinds_for,
    unique,
)

from normx_notify import (
    DEFAULT,
    BusinessCalendar,
    Dossier,
    NotifyAuthError,
    NotifyClient,
    NotifyConnectionError,
    NotifyForbiddenError,
    NotifyNotFoundError,
    NotifyUnavailableError,
    NotifyValidationError,
    OwnerProfile,
    ReminderPlan,
    RetryPolicy,
)

PARIS = OwnerProfile(name="Léa Martin", locale="fr", timezone="Europe/Paris")


class SyncClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.notify = NotifyClient(URL, SERVICE_TOKEN)
        self.addCleanup(self.notify.close)

    def flaky(self, faults: Faults, retry: RetryPolicy = FAST_RETRY) -> NotifyClient:
        client = NotifyClient(URL, lambda: SERVICE_TOKEN, retry=retry, transport=FlakyTransport(faults))
        self.addCleanup(client.close)
        return client

    def plan_when(self, dossier_id: str, ready: Callable[[ReminderPlan], bool], what: str) -> ReminderPlan:
        return eventually(lambda: self.notify.plan(dossier_id), ready, f"{dossier_id}: {what}")

    def test_create_then_plan_shows_the_reminders(self) -> None:
        # The counterpart of the Celery task notify_dossier_created.delay(user_id, dossier_data).
        due = days_ahead(10)
        dossier = Dossier(
            id=unique("PY-1"), title="Bilan 2026 SARL Dupont", owner_id=USER, due_date=due, owner=PARIS
        )
        accepted = self.notify.create(dossier)
        self.assertEqual(accepted.workflow_id, f"dossier:{dossier.id}")
        self.assertTrue(accepted.event_id)

        plan = self.notify.plan(dossier.id)  # the server waits for a dossier being created
        self.assertEqual(plan.dossier.id, dossier.id)
        self.assertEqual(plan.dossier.title, "Bilan 2026 SARL Dupont")
        self.assertEqual(plan.dossier.owner_id, USER)
        self.assertEqual(plan.dossier.due_date, due)
        self.assertEqual(plan.dossier.status, "open")
        self.assertEqual(plan.time_zone, "Europe/Paris")
        self.assertEqual(sorted(reminder.kind for reminder in plan.pending), KINDS)
        j0 = next(reminder for reminder in plan.pending if reminder.kind == "j-0")
        self.assertEqual(j0.at.astimezone(dt.timezone.utc).date(), due)  # 08:00 in Paris
        self.assertEqual(plan.sent, [])
        eventually(
            lambda: kinds_for(dossier.id), lambda kinds: kinds == ["created"], "the owner's notification"
        )

    def test_a_create_retried_after_a_lost_reply_reuses_its_event_id_and_notifies_once(self) -> None:
        faults = Faults(["lost"])
        dossier = Dossier(id=unique("PY-2"), title="Liasse fiscale", owner_id=USER, due_date=days_ahead(12))
        accepted = self.flaky(faults).create(dossier)

        self.assertEqual(len(faults.bodies), 2, "the lost reply was retried")
        self.assertEqual(faults.event_ids(), [accepted.event_id, accepted.event_id])
        # A later call to the same dossier is applied after both creates: then count.
        self.notify.mark_urgent(dossier.id)
        eventually(lambda: kinds_for(dossier.id), lambda kinds: "urgent" in kinds, "the urgent alert")
        self.assertEqual(kinds_for(dossier.id), ["created", "urgent"])

        # The caller's own event id, sent twice (a retry of the backend's task): one create.
        again = Dossier(id=unique("PY-2b"), title="TVA", owner_id=USER, due_date=days_ahead(12))
        first = self.notify.create(again, event_id=f"normx-event-{again.id}")
        second = self.notify.create(again, event_id=f"normx-event-{again.id}")
        self.assertEqual(first.event_id, f"normx-event-{again.id}")
        self.assertEqual(second, first)
        self.notify.mark_urgent(again.id)
        eventually(lambda: kinds_for(again.id), lambda kinds: "urgent" in kinds, "the urgent alert")
        self.assertEqual(kinds_for(again.id), ["created", "urgent"])

    def test_retries_a_refused_connection_a_500_and_a_503_with_retry_after_with_one_event_id(self) -> None:
        faults = Faults(["connect", 500, 503], retry_after="1")
        dossier = Dossier(id=unique("PY-3"), title="Bilan", owner_id=USER, due_date=days_ahead(15))
        started = time.monotonic()
        accepted = self.flaky(faults).create(dossier)
        self.assertGreaterEqual(time.monotonic() - started, 1.0, "it waited the Retry-After")
        self.assertEqual(faults.event_ids(), [accepted.event_id] * 4)
        self.assertEqual(self.notify.plan(dossier.id).dossier.id, dossier.id)

    def test_gives_up_after_its_attempts_with_the_event_id_to_retry_with(self) -> None:
        faults = Faults(["connect"] * 3)
        dossier = Dossier(id=unique("PY-4"), title="Bilan", owner_id=USER, due_date=days_ahead(15))
        with self.assertRaises(NotifyConnectionError) as refused:
            self.flaky(faults, RetryPolicy(attempts=3, backoff=0.01)).create(dossier)
        self.assertIsNotNone(refused.exception.event_id)
        self.assertEqual(faults.event_ids(), [refused.exception.event_id] * 3)
        with self.assertRaises(NotifyNotFoundError):
            self.notify.plan(dossier.id)  # never sent

        busy = Faults([503] * 2, retry_after="0")
        with self.assertRaises(NotifyUnavailableError) as unavailable:
            self.flaky(busy, RetryPolicy(attempts=2)).complete(dossier.id, event_id="e-complete-1")
        self.assertEqual((unavailable.exception.status, unavailable.exception.code), (503, "unavailable"))
        self.assertEqual(unavailable.exception.event_id, "e-complete-1")

        # Then the caller retries with it, and it goes through.
        accepted = self.notify.create(dossier, event_id=refused.exception.event_id)
        self.assertEqual(accepted.event_id, refused.exception.event_id)

    def test_every_call_reaches_the_dossier(self) -> None:
        dossier = Dossier(
            id=unique("PY-5"), title="Bilan", owner_id=USER, due_date=days_ahead(10), owner=PARIS
        )
        self.notify.create(dossier)

        self.notify.update(dataclasses.replace(dossier, title="Bilan et liasse"))
        self.plan_when(dossier.id, lambda plan: plan.dossier.title == "Bilan et liasse", "updated")

        moved = self.notify.reschedule(dossier.id, due_date=days_ahead(20), event_id=unique("reschedule"))
        self.assertTrue(moved.event_id.startswith("reschedule"))
        plan = self.plan_when(dossier.id, lambda plan: plan.dossier.due_date == days_ahead(20), "rescheduled")
        self.assertEqual(len(plan.pending), 5)
        due_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=25)
        self.notify.reschedule(dossier.id, due_at=due_at)
        plan = self.plan_when(dossier.id, lambda plan: plan.dossier.due_at == due_at, "due at an instant")
        self.assertIsNone(plan.dossier.due_date)

        self.notify.mark_urgent(dossier.id)
        self.plan_when(dossier.id, lambda plan: plan.dossier.urgent, "urgent")
        self.notify.unmark_urgent(dossier.id)
        self.plan_when(dossier.id, lambda plan: not plan.dossier.urgent, "not urgent")

        new_owner = unique("py-owner")
        montreal = OwnerProfile(name="Marc", locale="en", timezone="America/Montreal")
        self.notify.assign(dossier.id, new_owner, owner=montreal, event_id=unique("assign"))
        plan = self.plan_when(dossier.id, lambda plan: plan.dossier.owner_id == new_owner, "assigned")
        self.assertEqual(plan.time_zone, "America/Montreal")

        self.notify.update_user_profile(new_owner, OwnerProfile(timezone="Asia/Tokyo"))
        self.plan_when(dossier.id, lambda plan: plan.time_zone == "Asia/Tokyo", "re-planned in the new zone")
        # Their own calendar and reminder time: every j-N at 09:30 Tokyo time (00:30 UTC), on a business day.
        alsace = BusinessCalendar(country="FR", region="67", closed_days=("12-24",))
        self.notify.update_user_profile(new_owner, OwnerProfile(business_calendar=alsace, reminder_time="09:30"))
        plan = self.plan_when(
            dossier.id,
            lambda plan: all(
                (r.at.hour, r.at.minute) == (0, 30) for r in plan.pending if r.type == "deadline_reminder"
            ),
            "re-planned at the owner's own time",
        )
        self.assertTrue(all(r.at.weekday() < 5 for r in plan.pending if r.type == "deadline_reminder"))
        self.notify.update_user_profile(new_owner, OwnerProfile(business_calendar=DEFAULT, reminder_time=DEFAULT))
        before_close = self.plan_when(
            dossier.id,
            lambda plan: all(
                (r.at.hour, r.at.minute) == (23, 0) for r in plan.pending if r.type == "deadline_reminder"
            ),
            "back to the service's 08:00",
        )

        self.notify.complete(dossier.id)
        plan = self.plan_when(dossier.id, lambda plan: plan.dossier.status == "done", "done")
        self.assertEqual(plan.pending, [])
        self.notify.reopen(dossier.id)
        plan = self.plan_when(dossier.id, lambda plan: plan.dossier.status == "open", "reopened")
        # What was armed before the completion, armed again: four or five, as the due instant falls
        # before or after 08:00 on its Tokyo day (the test's time of day decides).
        self.assertEqual([r.kind for r in plan.pending], [r.kind for r in before_close.pending])
        self.assertGreaterEqual(len(plan.pending), 4)
        self.notify.cancel(dossier.id)
        self.plan_when(dossier.id, lambda plan: plan.dossier.status == "cancelled", "cancelled")

    def test_create_many_sends_each_dossier_and_a_resend_with_the_event_ids_changes_nothing(self) -> None:
        dossiers = [
            Dossier(
                id=unique(f"PY-B{index}"),
                title=f"Bilan {index}",
                owner_id=USER,
                due_date=days_ahead(10 + index),
            )
            for index in range(3)
        ]
        result = self.notify.create_many(dossiers)
        self.assertEqual(result.sent, 3)
        self.assertEqual([item.id for item in result.results], [dossier.id for dossier in dossiers])
        for dossier in dossiers:
            self.assertEqual(self.notify.plan(dossier.id).dossier.due_date, dossier.due_date)
        again = self.notify.create_many(dossiers, event_ids=[item.event_id for item in result.results])
        self.assertEqual(again.results, result.results)
        self.notify.mark_urgent(dossiers[0].id)
        eventually(lambda: kinds_for(dossiers[0].id), lambda kinds: "urgent" in kinds, "the urgent alert")
        self.assertEqual(kinds_for(dossiers[0].id), ["created", "urgent"])

    def test_a_bulk_create_answered_503_is_sent_again_with_the_same_event_ids(self) -> None:
        faults = Faults([503], retry_after="0")
        dossiers = [Dossier(id=unique("PY-B503"), title="Bilan", owner_id=USER, due_date=days_ahead(9))]
        result = self.flaky(faults).create_many(dossiers)
        self.assertEqual(result.sent, 1)
        ids = [body["dossiers"][0]["eventId"] for body in faults.bodies]
        self.assertEqual(ids, [result.results[0].event_id] * 2)

    def test_a_validation_error_names_the_field(self) -> None:
        bad_date = Dossier(id=unique("PY-6"), title="Bilan", owner_id=USER, due_date="2027-02-30")
        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.create(bad_date, event_id="e-bad-date")
        error = invalid.exception
        self.assertEqual((error.status, error.code), (400, "validation_failed"))
        self.assertEqual(error.fields, ["dueDate"])
        self.assertIn("real calendar date", error.issues[0].message)
        self.assertIn("dueDate", str(error))
        self.assertEqual(error.event_id, "e-bad-date")

        bad_zone = dataclasses.replace(
            bad_date, due_date=days_ahead(3), owner=OwnerProfile(timezone="Mars/Olympus")
        )
        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.update(bad_zone)
        self.assertEqual(invalid.exception.fields, ["owner.timezone"])

        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.create_many([bad_zone, dataclasses.replace(bad_date, id=unique("PY-7"))])
        self.assertEqual(invalid.exception.fields, ["dossiers.0.owner.timezone", "dossiers.1.dueDate"])
        self.assertEqual(len(invalid.exception.event_ids or []), 2)

        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.update_user_profile(
                USER, OwnerProfile(business_calendar=BusinessCalendar(country="XX"), reminder_time="8h")
            )
        self.assertEqual(invalid.exception.fields, ["businessCalendar.country", "reminderTime"])

        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.reschedule(bad_date.id, due_date=days_ahead(3), due_at="2030-01-01T10:00:00Z")
        self.assertEqual(invalid.exception.fields, ["dueDate"])
        with self.assertRaises(NotifyNotFoundError):
            self.notify.plan(bad_date.id)  # nothing was sent

    def test_auth_errors_and_an_unknown_dossier(self) -> None:
        with NotifyClient(URL, "not-a-token") as anonymous:
            with self.assertRaises(NotifyAuthError) as unauthorized:
                anonymous.complete("PY-x")
        self.assertEqual(unauthorized.exception.status, 401)
        with NotifyClient(URL, USER_TOKEN) as user:
            with self.assertRaises(NotifyForbiddenError) as forbidden:
                user.plan("PY-x")
        self.assertEqual((forbidden.exception.status, forbidden.exception.code), (403, "forbidden"))
        with self.assertRaises(NotifyNotFoundError) as unknown:
            self.notify.plan(unique("PY-never"))
        self.assertEqual((unknown.exception.status, unknown.exception.code), (404, "not_found"))


if __name__ == "__main__":
    unittest.main()
