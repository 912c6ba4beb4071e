"""A user's notification preferences through both clients, against the real server: read, change, errors."""

from __future__ import annotations

import unittest

import httpx
from support import (
    FAST_RETRY,
    SERVICE_TOKEN,
    URL,
    USER_TOKEN,
    AsyncFlakyTransport,
    Faults,
    FlakyTransport,
    eventually,
    unique,
)

from normx_notify import (
    AsyncNotifyClient,
    KindPreference,
    KindSetting,
    NotifyClient,
    NotifyForbiddenError,
    NotifyUnavailableError,
    NotifyValidationError,
    Preferences,
    QuietHours,
)

#: The kinds every user is listed, the service's j-N first (nearest the deadline last).
SENT_KINDS = ["j-7", "j-1", "j-0", "overdue", "overdue_critical", "urgent", "report", "created"]
EVENING = QuietHours(from_="20:00", to="08:00")


class PreferencesAssertions(unittest.TestCase):
    def assert_defaults(self, preferences: Preferences) -> None:
        listed = [preference.kind for preference in preferences.kinds]
        self.assertEqual(listed[:3], ["j-7", "j-1", "j-0"])
        for kind in SENT_KINDS:
            self.assertIn(kind, listed)
        for preference in preferences.kinds:
            self.assertEqual((preference.bell, preference.popup), (True, True), preference.kind)
            self.assertEqual(preference.mutable, preference.kind != "overdue_critical", preference.kind)
        self.assertIsNone(preferences.quiet_hours)
        self.assertIsNone(preferences.reminder_time)
        self.assertEqual(preferences.default_reminder_time, "08:00")


class SyncPreferencesTest(PreferencesAssertions):
    def setUp(self) -> None:
        self.notify = NotifyClient(URL, SERVICE_TOKEN)
        self.addCleanup(self.notify.close)

    def recording(self, faults: Faults) -> NotifyClient:
        client = NotifyClient(URL, SERVICE_TOKEN, retry=FAST_RETRY, transport=FlakyTransport(faults))
        self.addCleanup(client.close)
        return client

    def test_a_new_user_has_the_defaults(self) -> None:
        self.assert_defaults(self.notify.preferences(unique("py-pref")))

    def test_changes_are_read_back_a_field_left_out_is_kept_and_none_clears(self) -> None:
        user = unique("py-pref")
        changed = self.notify.update_preferences(
            user,
            kinds={"j-7": KindSetting(popup=False), "report": KindSetting(bell=False, popup=False)},
            quiet_hours=EVENING,
        )
        self.assertEqual(changed.kind("j-7"), KindPreference("j-7", bell=True, popup=False, mutable=True))
        self.assertEqual(
            changed.kind("report"), KindPreference("report", bell=False, popup=False, mutable=True)
        )
        self.assertEqual(changed.kind("j-1").setting, KindSetting())
        self.assertEqual(changed.quiet_hours, EVENING)
        self.assertIsNone(changed.reminder_time)
        self.assertEqual(self.notify.preferences(user), changed)

        # Only the quiet hours sent: the kinds are kept.
        faults = Faults([])
        moved = self.recording(faults).update_preferences(user, quiet_hours=QuietHours("22:30", "06:00"))
        self.assertEqual(faults.bodies, [{"quietHours": {"from": "22:30", "to": "06:00"}}])
        self.assertEqual(moved.kind_settings(), changed.kind_settings())
        self.assertEqual(moved.quiet_hours, QuietHours("22:30", "06:00"))

        # kinds replaces the stored ones as a whole: one more, from the current settings.
        more = self.notify.update_preferences(
            user, kinds={**moved.kind_settings(), "j-1": KindSetting(bell=False, popup=False)}
        )
        self.assertEqual(more.kind("j-1").setting, KindSetting(bell=False, popup=False))
        self.assertEqual(more.kind("j-7").setting, KindSetting(popup=False))
        self.assertEqual(more.quiet_hours, QuietHours("22:30", "06:00"))

        # None sends null: the quiet hours are cleared, the kinds kept.
        faults = Faults([])
        cleared = self.recording(faults).update_preferences(user, quiet_hours=None)
        self.assertEqual(faults.bodies, [{"quietHours": None}])
        self.assertIsNone(cleared.quiet_hours)
        self.assertEqual(cleared.kind_settings(), more.kind_settings())
        self.assertEqual(self.notify.preferences(user), cleared)

    def test_a_new_reminder_hour_is_answered_then_saved_by_the_profile_workflow(self) -> None:
        # One change only: each re-plans the user's dossiers, at most 3 per 10 minutes.
        user = unique("py-pref")
        changed = self.notify.update_preferences(user, reminder_time="07:30")
        self.assertEqual(changed.reminder_time, "07:30")
        self.assertEqual(changed.default_reminder_time, "08:00")
        self.assertIsNone(changed.quiet_hours)
        eventually(
            lambda: self.notify.preferences(user).reminder_time,
            lambda hour: hour == "07:30",
            "the reminder hour saved",
        )

    def test_a_muted_overdue_critical_or_an_unknown_kind_is_refused_naming_it(self) -> None:
        user = unique("py-pref")
        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.update_preferences(
                user, kinds={"overdue_critical": KindSetting(popup=False)}, quiet_hours=EVENING
            )
        error = invalid.exception
        self.assertEqual((error.status, error.code), (400, "validation_failed"))
        self.assertEqual(error.fields, ["kinds.overdue_critical"])
        self.assertIn("cannot be muted", error.issues[0].message)

        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.update_preferences(
                user, kinds={"foo": KindSetting()}, quiet_hours=QuietHours("08:00", "08:00")
            )
        self.assertEqual(invalid.exception.fields, ["kinds.foo", "quietHours.to"])
        with self.assertRaises(NotifyValidationError) as invalid:
            self.notify.update_preferences(user, reminder_time="7h30")
        self.assertEqual(invalid.exception.fields, ["reminderTime"])
        self.assert_defaults(self.notify.preferences(user))  # nothing was changed

    def test_the_user_token_reads_its_own_with_me_and_the_service_token_names_the_user(self) -> None:
        with NotifyClient(URL, USER_TOKEN) as user:
            own = user.preferences("me")
        self.assertEqual(own.kind("overdue_critical").mutable, False)
        with self.assertRaises(NotifyForbiddenError) as forbidden:
            self.notify.preferences("me")
        self.assertEqual((forbidden.exception.status, forbidden.exception.code), (403, "forbidden"))

    def test_a_change_is_retried_after_a_503_and_a_rate_limit_is_raised_at_once(self) -> None:
        user = unique("py-pref")
        faults = Faults(["lost", 503], retry_after="0")
        changed = self.recording(faults).update_preferences(user, kinds={"created": KindSetting(popup=False)})
        self.assertEqual(faults.bodies, [{"kinds": {"created": {"bell": True, "popup": False}}}] * 3)
        self.assertEqual(changed.kind("created").setting, KindSetting(popup=False))

        requests: list[httpx.Request] = []

        def limited(request: httpx.Request) -> httpx.Response:
            requests.append(request)
            body = {"error": {"code": "rate_limited", "message": "At most 3 reminder hour changes"}}
            return httpx.Response(429, json=body)

        with NotifyClient(URL, SERVICE_TOKEN, transport=httpx.MockTransport(limited)) as client:
            with self.assertRaises(NotifyUnavailableError) as refused:
                client.update_preferences(user, reminder_time="09:00")
        self.assertEqual((refused.exception.status, refused.exception.code), (429, "rate_limited"))
        self.assertEqual(len(requests), 1, "a rate limit of minutes is not retried")


class AsyncPreferencesTest(unittest.IsolatedAsyncioTestCase, PreferencesAssertions):
    async def asyncSetUp(self) -> None:
        self.notify = AsyncNotifyClient(URL, SERVICE_TOKEN)

    async def asyncTearDown(self) -> None:
        await self.notify.close()

    async def test_defaults_changes_a_field_kept_and_none_clears(self) -> None:
        user = unique("pya-pref")
        self.assert_defaults(await self.notify.preferences(user))

        changed = await self.notify.update_preferences(
            user, kinds={"overdue": KindSetting(bell=False, popup=False)}, quiet_hours=EVENING
        )
        self.assertEqual(changed.kind("overdue").setting, KindSetting(bell=False, popup=False))
        self.assertEqual(changed.quiet_hours, EVENING)
        self.assertEqual(await self.notify.preferences(user), changed)

        faults = Faults([])
        async with AsyncNotifyClient(
            URL, SERVICE_TOKEN, retry=FAST_RETRY, transport=AsyncFlakyTransport(faults)
        ) as recording:
            cleared = await recording.update_preferences(user, quiet_hours=None)
            self.assertEqual(faults.bodies, [{"quietHours": None}])
            kept = await recording.update_preferences(user, kinds={"j-0": KindSetting(popup=False)})
            self.assertEqual(faults.bodies[1], {"kinds": {"j-0": {"bell": True, "popup": False}}})
        self.assertIsNone(cleared.quiet_hours)
        self.assertEqual(cleared.kind_settings(), changed.kind_settings())
        self.assertEqual(kept.kind("j-0").setting, KindSetting(popup=False))
        self.assertEqual(kept.kind("overdue").setting, KindSetting(), "kinds replaced as a whole")
        self.assertIsNone(kept.quiet_hours)
        self.assertEqual(await self.notify.preferences(user), kept)

    async def test_a_muted_overdue_critical_is_refused_naming_it(self) -> None:
        user = unique("pya-pref")
        with self.assertRaises(NotifyValidationError) as invalid:
            await self.notify.update_preferences(
                user, kinds={"overdue_critical": KindSetting(bell=False, popup=False)}
            )
        error = invalid.exception
        self.assertEqual((error.status, error.fields), (400, ["kinds.overdue_critical"]))
        self.assert_defaults(await self.notify.preferences(user))


if __name__ == "__main__":
    unittest.main()
