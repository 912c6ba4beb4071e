"""
Every call written once, without I/O: a generator that yields what to do (send a request, sleep)
and is sent back the reply, or thrown the network error. The sync and async clients only run
these steps; the event ids, the retries and the decoding of replies are here.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, TypeVar, Union
from urllib.parse import quote

import httpx

from .errors import NotifyConnectionError, NotifyError, api_error
from .models import (
    Accepted,
    BulkItem,
    BulkResult,
    Dossier,
    DueAt,
    DueDate,
    OwnerProfile,
    ReminderPlan,
    deadline_json,
)
from .preferences import (
    KindSetting,
    Preferences,
    QuietHours,
    Unset,
    preferences_change_json,
)
from .retry import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Union[Send, Sleep]
#: Yields steps; is sent the ``httpx.Response`` of a ``Send`` (None after a ``Sleep``),
#: or thrown its ``httpx.TransportError``.
Call = Generator[Step, Any, T]

DOSSIERS = "/api/v1/dossiers"
USERS = "/api/v1/users"


def _segment(value: str) -> str:
    return quote(value, safe="")


def _new_event_id(event_id: str | None) -> str:
    return str(uuid.uuid4()) if event_id is None else event_id


@dataclass(frozen=True)
class _Context:
    """What an error of the call carries."""

    event_id: str | None = None
    event_ids: Sequence[str] | None = None


def _exchange(
    request: Callable[[], Send],
    policy: RetryPolicy,
    context: _Context,
    *,
    retry_reply: Callable[[httpx.Response], bool] | None = None,
) -> Call[httpx.Response]:
    """Sends ``request()`` until a reply is final or the attempts are spent; returns the last reply."""
    attempt = 1
    while True:
        try:
            response: httpx.Response = yield request()
        except httpx.TransportError as error:
            if attempt >= policy.attempts:
                raise NotifyConnectionError(
                    f"No answer from the server after {attempt} attempt(s): {error!r}",
                    event_id=context.event_id,
                    event_ids=context.event_ids,
                ) from error
            yield Sleep(policy.delay(attempt))
        else:
            again = (
                retry_reply(response)
                if retry_reply is not None
                else response.status_code in policy.retry_statuses
            )
            if not again or attempt >= policy.attempts:
                return response
            yield Sleep(policy.delay(attempt, response.headers.get("retry-after")))
        attempt += 1


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _decode(response: httpx.Response, context: _Context) -> Any:
    """The reply's JSON, or the error it reports raised as an exception."""
    body = _body(response)
    if response.is_success and body is not None:
        return body
    if response.is_success:
        raise NotifyError(f"HTTP {response.status_code}: the reply is not JSON", event_id=context.event_id)
    raise api_error(response.status_code, body, event_id=context.event_id, event_ids=context.event_ids)


def event_call(
    method: str, path: str, body: dict[str, Any], event_id: str | None, policy: RetryPolicy
) -> Call[Accepted]:
    """A call that changes something: one event id (given, or new) for all its attempts."""
    context = _Context(event_id=_new_event_id(event_id))
    payload = {**body, "eventId": context.event_id}
    response = yield from _exchange(lambda: Send(method, path, payload), policy, context)
    return Accepted.from_json(_decode(response, context))


def create(dossier: Dossier, event_id: str | None, policy: RetryPolicy) -> Call[Accepted]:
    return event_call("POST", DOSSIERS, dossier.to_json(), event_id, policy)


def update(dossier: Dossier, event_id: str | None, policy: RetryPolicy) -> Call[Accepted]:
    return event_call(
        "PUT", f"{DOSSIERS}/{_segment(dossier.id)}", dossier.to_json(with_id=False), event_id, policy
    )


def action(
    dossier_id: str, name: str, body: dict[str, Any], event_id: str | None, policy: RetryPolicy
) -> Call[Accepted]:
    return event_call("POST", f"{DOSSIERS}/{_segment(dossier_id)}/{name}", body, event_id, policy)


def assign(
    dossier_id: str,
    owner_id: str,
    owner: OwnerProfile | None,
    event_id: str | None,
    policy: RetryPolicy,
) -> Call[Accepted]:
    body: dict[str, Any] = {"ownerId": owner_id}
    if owner is not None:
        body["owner"] = owner.to_json()
    return action(dossier_id, "assign", body, event_id, policy)


def reschedule(
    dossier_id: str,
    due_date: DueDate | None,
    due_at: DueAt | None,
    event_id: str | None,
    policy: RetryPolicy,
) -> Call[Accepted]:
    return action(dossier_id, "reschedule", deadline_json(due_date, due_at), event_id, policy)


def update_user_profile(
    user_id: str, profile: OwnerProfile, event_id: str | None, policy: RetryPolicy
) -> Call[Accepted]:
    return event_call(
        "PUT", f"{USERS}/{_segment(user_id)}/profile", profile.to_json(), event_id, policy
    )


def preferences(user_id: str, policy: RetryPolicy) -> Call[Preferences]:
    context = _Context()
    path = f"{USERS}/{_segment(user_id)}/preferences"
    response = yield from _exchange(lambda: Send("GET", path), policy, context)
    return Preferences.from_json(_decode(response, context))


def update_preferences(
    user_id: str,
    kinds: Mapping[str, KindSetting] | Unset,
    quiet_hours: QuietHours | None | Unset,
    reminder_time: str | None | Unset,
    policy: RetryPolicy,
) -> Call[Preferences]:
    """
    ``PUT …/preferences``: the fields given replace the stored ones. Idempotent (no event id: the
    same body sent again sets the same values), so it is retried like the other calls, but for a
    429 ``rate_limited`` (the reminder hour changed 3 times in 10 minutes): a wait of seconds
    cannot end it, it is raised at once.
    """
    context = _Context()
    path = f"{USERS}/{_segment(user_id)}/preferences"
    body = preferences_change_json(kinds, quiet_hours, reminder_time)

    def again(response: httpx.Response) -> bool:
        if response.status_code == 429 and _error_code(response) == "rate_limited":
            return False
        return response.status_code in policy.retry_statuses

    response = yield from _exchange(lambda: Send("PUT", path, body), policy, context, retry_reply=again)
    return Preferences.from_json(_decode(response, context))


def _error_code(response: httpx.Response) -> str | None:
    body = _body(response)
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def plan(dossier_id: str, policy: RetryPolicy) -> Call[ReminderPlan]:
    context = _Context()
    path = f"{DOSSIERS}/{_segment(dossier_id)}/plan"
    response = yield from _exchange(lambda: Send("GET", path), policy, context)
    return ReminderPlan.from_json(_decode(response, context))


def create_many(
    dossiers: Sequence[Dossier], event_ids: Sequence[str] | None, policy: RetryPolicy
) -> Call[BulkResult]:
    """
    ``POST /api/v1/dossiers/bulk``. Each dossier gets its event id before the first attempt; the
    dossiers the server could not send (a 202 with some ``sent: false``, a 503 with none sent) are
    sent again, with their ids, on the next attempt. Returns every dossier's last result.
    """
    if event_ids is not None and len(event_ids) != len(dossiers):
        raise ValueError(f"{len(event_ids)} event ids for {len(dossiers)} dossiers")
    ids = list(event_ids) if event_ids is not None else [_new_event_id(None) for _ in dossiers]
    bodies = [{**dossier.to_json(), "eventId": event} for dossier, event in zip(dossiers, ids)]
    results: list[BulkItem | None] = [None] * len(bodies)
    todo = list(range(len(bodies)))
    context = _Context(event_ids=ids)

    def settle(response: httpx.Response) -> bool:
        body = _body(response)
        if response.status_code not in (202, 503) or not isinstance(body, dict) or "results" not in body:
            return response.status_code in policy.retry_statuses
        answered = [BulkItem.from_json(item) for item in body["results"]]
        for index, item in zip(todo, answered):
            results[index] = item
        todo[:] = [index for index in todo if not _sent(results[index])]
        return len(todo) > 0

    def request() -> Send:
        return Send("POST", f"{DOSSIERS}/bulk", {"dossiers": [bodies[index] for index in todo]})

    response = yield from _exchange(request, policy, context, retry_reply=settle)
    if response.status_code not in (202, 503) or any(item is None for item in results):
        _decode(response, context)  # raises the error it reports
        raise NotifyError(f"HTTP {response.status_code}: no bulk result", event_ids=ids)
    return BulkResult(results=[item for item in results if item is not None])


def _sent(item: BulkItem | None) -> bool:
    return item is not None and item.sent


#: The plan route waits up to 5 s for a dossier being created, and a bulk create of 1,000 takes a few seconds.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

Token = Union[str, Callable[[], str]]


def headers(token: Token) -> dict[str, str]:
    """Read on every attempt: a callable token may be renewed between retries."""
    return {"authorization": f"Bearer {token() if callable(token) else token}"}
