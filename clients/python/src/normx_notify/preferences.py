"""A user's notification preferences: what the preferences calls send and return (see models.py for the rest)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from .models import _or_null


class _Unset(enum.Enum):
    UNSET = "UNSET"


#: The default of a keyword that is not sent when left out (``None`` sends ``null``).
UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]


@dataclass(frozen=True)
class KindSetting:
    """What a change of preferences sets for one kind: in the bell or not, browser popup or not."""

    #: Off: its notifications are stored archived (out of the inbox and the unread count), without popup.
    bell: bool = True
    #: Off: they land in the inbox silently.
    popup: bool = True

    def to_json(self) -> dict[str, bool]:
        return {"bell": self.bell, "popup": self.popup}


@dataclass(frozen=True)
class KindPreference:
    """One kind as the server lists it (``j-7``, ``overdue``, ``created``…) and whether it may be muted."""

    kind: str
    bell: bool
    popup: bool
    #: False for ``overdue_critical``, which always comes in the bell and as a popup.
    mutable: bool

    @property
    def setting(self) -> KindSetting:
        return KindSetting(bell=self.bell, popup=self.popup)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> KindPreference:
        return cls(kind=body["kind"], bell=body["bell"], popup=body["popup"], mutable=body["mutable"])


@dataclass(frozen=True)
class QuietHours:
    """
    No popup from ``from_`` (included) to ``to`` (excluded), local ``"HH:MM"`` in the user's zone;
    a ``from_`` later than ``to`` spans midnight: ``QuietHours("20:00", "08:00")``. What comes then
    still lands in the inbox, unread (``overdue_critical`` pops up all the same).
    """

    from_: str
    to: str

    def to_json(self) -> dict[str, str]:
        return {"from": self.from_, "to": self.to}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> QuietHours:
        return cls(from_=body["from"], to=body["to"])


@dataclass(frozen=True)
class Preferences:
    """A user's notification preferences (``GET /api/v1/users/{userId}/preferences``)."""

    #: Every kind the service sends (the j-N first, nearest the deadline last), then any other the user set.
    kinds: list[KindPreference]
    quiet_hours: QuietHours | None
    #: The user's own reminder hour, ``"HH:MM"``; None: the service's, ``default_reminder_time``.
    reminder_time: str | None
    default_reminder_time: str

    def kind(self, kind: str) -> KindPreference:
        """The preference of ``kind``; KeyError if the server did not list it."""
        for preference in self.kinds:
            if preference.kind == kind:
                return preference
        raise KeyError(kind)

    def kind_settings(self) -> dict[str, KindSetting]:
        """
        Every listed kind's setting, to change one and send them all: ``kinds`` replaces the
        stored settings as a whole (a kind left out is back to bell and popup), so
        ``kinds={**prefs.kind_settings(), "j-7": KindSetting(popup=False)}`` keeps the others.
        """
        return {preference.kind: preference.setting for preference in self.kinds}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Preferences:
        quiet = body.get("quietHours")
        return cls(
            kinds=[KindPreference.from_json(item) for item in body["kinds"]],
            quiet_hours=QuietHours.from_json(quiet) if quiet is not None else None,
            reminder_time=body.get("reminderTime"),
            default_reminder_time=body["defaultReminderTime"],
        )


def preferences_change_json(
    kinds: Mapping[str, KindSetting] | Unset,
    quiet_hours: QuietHours | None | Unset,
    reminder_time: str | None | Unset,
) -> dict[str, Any]:
    """The body of a change of preferences: only the fields given, ``None`` as ``null``."""
    body: dict[str, Any] = {}
    if kinds is not UNSET:
        body["kinds"] = {kind: setting.to_json() for kind, setting in kinds.items()}
    if quiet_hours is not UNSET:
        body["quietHours"] = quiet_hours.to_json() if quiet_hours is not None else None
    if reminder_time is not UNSET:
        body["reminderTime"] = None if reminder_time is None else _or_null(reminder_time)
    return body
