"""AsyncNotifyClient against the same real server: the same calls, retries and errors, awaited."""

from __future__ import annotations

import asyncio
import unittest
from typing import Callable

from support import (
    FAST_RETRY,
    KINDS,
    SERVICE_TOKEN,
    URL,
    USER,
    AsyncFlakyTransport,
    Faults,
    days_ahead,
    eventually,
    kinds_for,
    unique,
)

from normx_notify import (
    AsyncNotifyClient,
    Dossier,
    DossierState,
    NotifyNotFoundError,
    NotifyValidationError,
    OwnerProfile,
)


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.notify = AsyncNotifyClient(URL, SERVICE_TOKEN)

    async def asyncTearDown(self) -> None:
        await self.notify.close()

    async def state_when(
        self, dossier_id: str, ready: Callable[[DossierState], bool], what: str
    ) -> DossierState:
        for _ in range(100):
            state = (await self.notify.plan(dossier_id)).dossier
            if ready(state):
                return state
            await asyncio.sleep(0.1)
        raise AssertionError(f"{dossier_id}: {what}: not within 10 s; last: {state!r}")

    async def test_creates_dossiers_concurrently_and_plans_them(self) -> None:
        dossiers = [
            Dossier(id=unique(f"PYA-{index}"), title=f"Bilan {index}", owner_id=USER, due_date=days_ahead(10))
            for index in range(5)
        ]
        accepted = await asyncio.gather(*(self.notify.create(dossier) for dossier in dossiers))
        self.assertEqual([item.workflow_id for item in accepted], [f"dossier:{d.id}" for d in dossiers])
        self.assertEqual(len({item.event_id for item in accepted}), 5)
        plans = await asyncio.gather(*(self.notify.plan(dossier.id) for dossier in dossiers))
        for plan in plans:
            self.assertEqual(sorted(reminder.kind for reminder in plan.pending), KINDS)

    async def test_every_call(self) -> None:
        dossier = Dossier(id=unique("PYA-calls"), title="Bilan", owner_id=USER, due_date=days_ahead(10))
        await self.notify.create(dossier)
        await self.notify.update(
            Dossier(id=dossier.id, title="Liasse", owner_id=USER, due_date=days_ahead(10))
        )
        await self.state_when(dossier.id, lambda state: state.title == "Liasse", "updated")
        await self.notify.reschedule(dossier.id, due_date=days_ahead(30))
        await self.state_when(dossier.id, lambda state: state.due_date == days_ahead(30), "rescheduled")
        await self.notify.mark_urgent(dossier.id)
        await self.state_when(dossier.id, lambda state: state.urgent, "urgent")
        await self.notify.unmark_urgent(dossier.id)
        await self.state_when(dossier.id, lambda state: not state.urgent, "not urgent")
        owner = unique("pya-owner")
        await self.notify.assign(dossier.id, owner)
        await self.state_when(dossier.id, lambda state: state.owner_id == owner, "assigned")
        await self.notify.update_user_profile(owner, OwnerProfile(timezone="Pacific/Auckland"))
        for _ in range(100):
            if (await self.notify.plan(dossier.id)).time_zone == "Pacific/Auckland":
                break
            await asyncio.sleep(0.1)
        else:
            self.fail("not re-planned in the owner's new zone")
        await self.notify.complete(dossier.id)
        await self.state_when(dossier.id, lambda state: state.status == "done", "done")
        await self.notify.reopen(dossier.id)
        await self.state_when(dossier.id, lambda state: state.status == "open", "reopened")
        await self.notify.cancel(dossier.id)
        await self.state_when(dossier.id, lambda state: state.status == "cancelled", "cancelled")

        result = await self.notify.create_many(
            [Dossier(id=unique("PYA-bulk"), title="Bilan", owner_id=USER, due_date=days_ahead(8))]
        )
        self.assertEqual(result.sent, 1)
        self.assertEqual(result.not_sent, [])

    async def test_retries_with_one_event_id(self) -> None:
        faults = Faults(["lost", "connect", 503], retry_after="0")
        dossier = Dossier(id=unique("PYA-retry"), title="Bilan", owner_id=USER, due_date=days_ahead(11))
        async with AsyncNotifyClient(
            URL, SERVICE_TOKEN, retry=FAST_RETRY, transport=AsyncFlakyTransport(faults)
        ) as flaky:
            accepted = await flaky.create(dossier)
        self.assertEqual(faults.event_ids(), [accepted.event_id] * 4)
        await self.notify.mark_urgent(dossier.id)
        await asyncio.to_thread(
            eventually, lambda: kinds_for(dossier.id), lambda kinds: "urgent" in kinds, "the urgent alert"
        )
        self.assertEqual(await asyncio.to_thread(kinds_for, dossier.id), ["created", "urgent"])

    async def test_errors(self) -> None:
        with self.assertRaises(NotifyValidationError) as invalid:
            await self.notify.assign(unique("PYA-bad"), "", event_id="e-1")
        self.assertEqual((invalid.exception.status, invalid.exception.fields), (400, ["ownerId"]))
        self.assertEqual(invalid.exception.event_id, "e-1")
        with self.assertRaises(NotifyNotFoundError):
            await self.notify.plan(unique("PYA-never"))


if __name__ == "__main__":
    unittest.main()
