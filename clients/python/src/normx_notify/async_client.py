"""The asyncio client (a FastAPI route, a background task): the calls of NotifyClient, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TypeVar

import httpx

from . import _calls
from ._calls import DEFAULT_TIMEOUT, Call, Send, Token
from .models import (
    Accepted,
    BulkResult,
    Dossier,
    DueAt,
    DueDate,
    OwnerProfile,
    ReminderPlan,
)
from .preferences import (
    UNSET,
    KindSetting,
    Preferences,
    QuietHours,
    Unset,
)
from .retry import RetryPolicy

T = TypeVar("T")


class AsyncNotifyClient:
    """
    :class:`normx_notify.NotifyClient` for asyncio: the same calls, arguments, retries and
    errors, awaited; ``async with AsyncNotifyClient(...) as notify:`` closes its connections.
    """

    def __init__(
        self,
        base_url: str,
        token: Token,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def create(self, dossier: Dossier, *, event_id: str | None = None) -> Accepted:
        """Creates the dossier (an update if it exists): plans its reminders and notifies its owner."""
        return await self._run(_calls.create(dossier, event_id, self._retry))

    async def update(self, dossier: Dossier, *, event_id: str | None = None) -> Accepted:
        """The whole dossier, as for ``create``; a done or cancelled dossier stays so (see ``reopen``)."""
        return await self._run(_calls.update(dossier, event_id, self._retry))

    async def create_many(
        self, dossiers: Sequence[Dossier], *, event_ids: Sequence[str] | None = None
    ) -> BulkResult:
        """
        Onboarding: up to 1,000 distinct dossiers in one request, validated whole (a 400 names
        ``dossiers.<index>.<field>`` and nothing is sent). Dossiers the server could not send are
        sent again with their event ids on the next attempts; check ``result.not_sent``.
        """
        return await self._run(_calls.create_many(dossiers, event_ids, self._retry))

    async def reschedule(
        self,
        dossier_id: str,
        *,
        due_date: DueDate | None = None,
        due_at: DueAt | None = None,
        event_id: str | None = None,
    ) -> Accepted:
        """
        Moves the deadline (exactly one of ``due_date``, ``due_at``); its attempts share one
        event id (``event_id``, or a new one).
        """
        return await self._run(_calls.reschedule(dossier_id, due_date, due_at, event_id, self._retry))

    async def mark_urgent(self, dossier_id: str, *, event_id: str | None = None) -> Accepted:
        """Flags the dossier urgent: its owner is alerted at once (once per urgent period)."""
        return await self._run(_calls.action(dossier_id, "urgent", {"urgent": True}, event_id, self._retry))

    async def unmark_urgent(self, dossier_id: str, *, event_id: str | None = None) -> Accepted:
        return await self._run(_calls.action(dossier_id, "urgent", {"urgent": False}, event_id, self._retry))

    async def assign(
        self,
        dossier_id: str,
        owner_id: str,
        *,
        owner: OwnerProfile | None = None,
        event_id: str | None = None,
    ) -> Accepted:
        """Gives the dossier to another owner (with their profile, optionally); the reminders follow them."""
        return await self._run(_calls.assign(dossier_id, owner_id, owner, event_id, self._retry))

    async def complete(self, dossier_id: str, *, event_id: str | None = None) -> Accepted:
        return await self._run(_calls.action(dossier_id, "complete", {}, event_id, self._retry))

    async def cancel(self, dossier_id: str, *, event_id: str | None = None) -> Accepted:
        return await self._run(_calls.action(dossier_id, "cancel", {}, event_id, self._retry))

    async def reopen(self, dossier_id: str, *, event_id: str | None = None) -> Accepted:
        return await self._run(_calls.action(dossier_id, "reopen", {}, event_id, self._retry))

    async def update_user_profile(
        self, user_id: str, profile: OwnerProfile, *, event_id: str | None = None
    ) -> Accepted:
        """Changes a user's name, locale or zone: every open dossier of theirs re-plans in the new zone."""
        return await self._run(_calls.update_user_profile(user_id, profile, event_id, self._retry))

    async def plan(self, dossier_id: str) -> ReminderPlan:
        """
        The reminders sent and pending. Right after a create the server waits up to 5 s for the
        dossier, then raises :class:`DossierNotReadyError`; an id never created is
        :class:`NotifyNotFoundError`.
        """
        return await self._run(_calls.plan(dossier_id, self._retry))

    async def preferences(self, user_id: str) -> Preferences:
        """
        A user's notification preferences: every kind (in the bell, popup, ``mutable``), quiet
        hours and reminder hour. ``user_id`` is the user's id with the service token (``"me"``
        with a user's own token).
        """
        return await self._run(_calls.preferences(user_id, self._retry))

    async def update_preferences(
        self,
        user_id: str,
        *,
        kinds: Mapping[str, KindSetting] | Unset = UNSET,
        quiet_hours: QuietHours | None | Unset = UNSET,
        reminder_time: str | None | Unset = UNSET,
    ) -> Preferences:
        """
        Changes the fields given, keeps those left out; returns the preferences after the change.
        ``kinds`` replaces the stored settings as a whole (a kind left out is back to bell and
        popup: start from ``preferences(...).kind_settings()`` to change one);
        ``quiet_hours=None`` clears them; ``reminder_time="07:30"``, or None (or ``DEFAULT``)
        for the service's hour, re-plans the user's open dossiers (at most 3 changes in 10
        minutes, then a :class:`NotifyUnavailableError` with code ``rate_limited``, not
        retried). A muted ``overdue_critical`` or an unknown kind is a
        :class:`NotifyValidationError` naming ``kinds.<kind>``.
        """
        return await self._run(
            _calls.update_preferences(user_id, kinds, quiet_hours, reminder_time, self._retry)
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncNotifyClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(self, call: Call[T]) -> T:
        try:
            step = next(call)
            while True:
                if isinstance(step, Send):
                    try:
                        response = await self._http.request(
                            step.method, step.path, json=step.body, headers=_calls.headers(self._token)
                        )
                    except httpx.TransportError as error:
                        step = call.throw(error)
                    else:
                        step = call.send(response)
                else:
                    await asyncio.sleep(step.seconds)
                    step = call.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
