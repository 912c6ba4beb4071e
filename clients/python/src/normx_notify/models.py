"""What the calls send and what they return: plain dataclasses, snake_case in Python, camelCase on the wire.

Inputs are not validated here: the server validates every field and its 400 names each bad one
(see :class:`normx_notify.NotifyValidationError`), so the rules live in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

Locale = Literal["fr", "en"]
DossierStatus = Literal["open", "done", "cancelled"]
#: A calendar date in the owner's zone: a ``date`` or ``"YYYY-MM-DD"``.
DueDate = Union[dt.date, str]
#: An exact instant: a timezone-aware ``datetime`` or an ISO 8601 string with its offset.
DueAt = Union[dt.datetime, str]


#: Sent for a profile field to go back to the service's setting (``null`` on the wire).
DEFAULT: Literal["default"] = "default"


@dataclass(frozen=True)
class BusinessCalendar:
    """A user's own business calendar: whose public holidays, and the firm's own closed days."""

    #: A country the service's holiday library knows: ``"FR"``.
    country: str
    #: One of its regions: ``"57"``, ``"67"``, ``"68"`` (Alsace-Moselle), ``"GP"``…
    region: str | None = None
    #: ``"yyyy-MM-dd"`` once, ``"MM-dd"`` every year.
    closed_days: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"country": self.country}
        if self.region is not None:
            body["region"] = self.region
        if self.closed_days:
            body["closedDays"] = list(self.closed_days)
        return body


@dataclass(frozen=True)
class OwnerProfile:
    """A user's profile: their reminders follow its zone, language, calendar and time. Every field is optional."""

    name: str | None = None
    locale: Locale | None = None
    #: An IANA zone, e.g. ``"Europe/Paris"``.
    timezone: str | None = None
    #: Their own calendar, ``"off"`` (reminders on weekends and holidays too), or ``DEFAULT``.
    business_calendar: BusinessCalendar | Literal["off", "default"] | None = None
    #: Local time of their j-N reminders, ``"HH:MM"``, or ``DEFAULT`` (the service's REMINDER_TIME).
    reminder_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": self.name, "locale": self.locale, "timezone": self.timezone}
        body = {key: value for key, value in fields.items() if value is not None}
        calendar = self.business_calendar
        if calendar is not None:
            body["businessCalendar"] = (
                calendar.to_json() if isinstance(calendar, BusinessCalendar) else _or_null(calendar)
            )
        if self.reminder_time is not None:
            body["reminderTime"] = _or_null(self.reminder_time)
        return body


def _or_null(value: str) -> str | None:
    return None if value == DEFAULT else value


@dataclass(frozen=True)
class Dossier:
    """A dossier as the NormX backend knows it. Give exactly one of ``due_date`` or ``due_at``."""

    id: str
    title: str
    owner_id: str
    due_date: DueDate | None = None
    due_at: DueAt | None = None
    urgent: bool | None = None
    #: The owner's profile, saved with the dossier (optional).
    owner: OwnerProfile | None = None

    def to_json(self, *, with_id: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id} if with_id else {}
        body.update(title=self.title, ownerId=self.owner_id)
        if self.due_date is not None:
            body["dueDate"] = _iso(self.due_date)
        if self.due_at is not None:
            body["dueAt"] = _iso(self.due_at)
        if self.urgent is not None:
            body["urgent"] = self.urgent
        if self.owner is not None:
            body["owner"] = self.owner.to_json()
        return body


def deadline_json(due_date: DueDate | None, due_at: DueAt | None) -> dict[str, str]:
    body: dict[str, str] = {}
    if due_date is not None:
        body["dueDate"] = _iso(due_date)
    if due_at is not None:
        body["dueAt"] = _iso(due_at)
    return body


def _iso(value: dt.date | str) -> str:
    # Sent as given: a naive datetime or a datetime as a due date is refused by the server, naming the field.
    return value if isinstance(value, str) else value.isoformat()


@dataclass(frozen=True)
class Accepted:
    """The call reached the dossier's (or the user's) workflow. Retry with ``event_id`` to be stored once."""

    workflow_id: str
    event_id: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Accepted:
        return cls(workflow_id=body["workflowId"], event_id=body["eventId"])


@dataclass(frozen=True)
class BulkItem:
    """One dossier of a bulk create: sent (``workflow_id``), or not (``error``): resend with ``event_id``."""

    id: str
    sent: bool
    event_id: str
    workflow_id: str | None = None
    error: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BulkItem:
        return cls(
            id=body["id"],
            sent=body["sent"],
            event_id=body["eventId"],
            workflow_id=body.get("workflowId"),
            error=body.get("error"),
        )


@dataclass(frozen=True)
class BulkResult:
    """One item per dossier, in the order given."""

    results: list[BulkItem]

    @property
    def sent(self) -> int:
        return sum(1 for item in self.results if item.sent)

    @property
    def not_sent(self) -> list[BulkItem]:
        return [item for item in self.results if not item.sent]


@dataclass(frozen=True)
class DossierState:
    """The dossier as its workflow holds it."""

    id: str
    title: str
    owner_id: str
    urgent: bool
    status: DossierStatus
    due_date: dt.date | None = None
    due_at: dt.datetime | None = None
    urgent_since: dt.datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> DossierState:
        return cls(
            id=body["id"],
            title=body["title"],
            owner_id=body["ownerId"],
            urgent=body["urgent"],
            status=body["status"],
            due_date=dt.date.fromisoformat(body["dueDate"]) if "dueDate" in body else None,
            due_at=_instant(body["dueAt"]) if "dueAt" in body else None,
            urgent_since=_instant(body["urgentSince"]) if "urgentSince" in body else None,
        )


@dataclass(frozen=True)
class SentReminder:
    type: str
    #: ``j-7``, ``j-1``, ``j-0``, ``overdue``, ``overdue_critical``…
    kind: str
    idempotency_key: str
    due_instant: dt.datetime
    sent_at: dt.datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SentReminder:
        return cls(
            type=body["type"],
            kind=body["kind"],
            idempotency_key=body["idempotencyKey"],
            due_instant=_instant(body["dueInstant"]),
            sent_at=_instant(body["sentAt"]),
        )


@dataclass(frozen=True)
class PendingReminder:
    type: str
    kind: str
    idempotency_key: str
    #: When it fires.
    at: dt.datetime
    #: When the rules want it (``at`` is later for an alert planned late).
    due_instant: dt.datetime
    #: A j-N moved off a closed day: ``{"date": "2027-03-29", "reason": "Lundi de Pâques"}``.
    moved_from: Mapping[str, str] | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PendingReminder:
        return cls(
            type=body["type"],
            kind=body["kind"],
            idempotency_key=body["idempotencyKey"],
            at=_instant(body["at"]),
            due_instant=_instant(body["dueInstant"]),
            moved_from=body.get("movedFrom"),
        )


@dataclass(frozen=True)
class RejectedEvent:
    """An event or reminder the database refused (data it cannot store): recorded, not retried."""

    what: str
    reason: str
    at: dt.datetime
    event_id: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RejectedEvent:
        return cls(
            what=body["what"], reason=body["reason"], at=_instant(body["at"]), event_id=body.get("eventId")
        )


@dataclass(frozen=True)
class ReminderPlan:
    """A dossier's reminders, sent and pending, with their instants (``GET /api/v1/dossiers/{id}/plan``)."""

    dossier: DossierState
    #: The zone the reminders are planned in (the owner's).
    time_zone: str
    sent: list[SentReminder]
    pending: list[PendingReminder]
    rejected: list[RejectedEvent]
    #: Events received and not applied yet.
    queued: int

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ReminderPlan:
        return cls(
            dossier=DossierState.from_json(body["dossier"]),
            time_zone=body["timeZone"],
            sent=[SentReminder.from_json(item) for item in body["sent"]],
            pending=[PendingReminder.from_json(item) for item in body["pending"]],
            rejected=[RejectedEvent.from_json(item) for item in body.get("rejected", [])],
            queued=body.get("queued", 0),
        )


def _instant(value: str) -> dt.datetime:
    # Python < 3.11 does not read the "Z" that JavaScript writes.
    return dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
