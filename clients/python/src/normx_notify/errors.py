"""The errors the client raises. Each carries the event id(s) of its call: retry later with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldIssue:
    """One bad field, named as in the JSON body: ``dueDate``, ``owner.timezone``, ``dossiers.3.id``."""

    field: str
    message: str


class NotifyError(Exception):
    """Every error of the client."""

    def __init__(
        self,
        message: str,
        *,
        event_id: str | None = None,
        event_ids: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The event id the call sent (mutating calls): pass it again to retry the same call.
        self.event_id = event_id
        #: The event ids of a bulk create, one per dossier in order.
        self.event_ids = list(event_ids) if event_ids is not None else None


class NotifyConnectionError(NotifyError):
    """No answer on any attempt (refused, reset, timed out); ``__cause__`` is the last httpx error."""


class NotifyApiError(NotifyError):
    """The server answered with an error: its HTTP status, the catalog code and, for a 400, each bad field."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        issues: Sequence[FieldIssue] = (),
        *,
        event_id: str | None = None,
        event_ids: Sequence[str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}", event_id=event_id, event_ids=event_ids)
        self.status = status
        self.code = code
        self.message = message
        self.issues: list[FieldIssue] = list(issues)

    @property
    def fields(self) -> list[str]:
        """The names of the bad fields, e.g. ``["dueDate"]``."""
        return [issue.field for issue in self.issues]


class NotifyValidationError(NotifyApiError):
    """400: invalid input (``validation_failed``: see ``issues``) or malformed (``bad_request``)."""


class NotifyAuthError(NotifyApiError):
    """401: the token is missing, invalid or expired."""


class NotifyForbiddenError(NotifyApiError):
    """403: the token may not do that (dossier calls need the ``notify:service`` scope)."""


class NotifyNotFoundError(NotifyApiError):
    """404: no such dossier (a plan asked for an id never created)."""


class DossierNotReadyError(NotifyApiError):
    """409 ``dossier_not_ready``: the dossier is being created, not loaded by its workflow yet; ask again."""


class NotifyUnavailableError(NotifyApiError):
    """
    429 or 5xx on every attempt: the server or a dependency of it (Temporal, PostgreSQL) is
    unavailable; or 429 ``rate_limited`` at once (a user's reminder hour changed 3 times in 10 minutes).
    """


_BY_STATUS: dict[int, type[NotifyApiError]] = {
    400: NotifyValidationError,
    401: NotifyAuthError,
    403: NotifyForbiddenError,
    404: NotifyNotFoundError,
    409: DossierNotReadyError,
}

#: Every code of the service's error catalog (server/errors.ts) that a REST reply may carry, and
#: the exception it raises: the one of its HTTP status. The codes only a WebSocket meets are not
#: here. test/unit/python-client-errors.test.ts keeps this table in step with the catalog.
ERROR_CODES: dict[str, type[NotifyApiError]] = {
    "bad_request": NotifyValidationError,
    "validation_failed": NotifyValidationError,
    "unauthorized": NotifyAuthError,
    "token_expired": NotifyAuthError,
    "forbidden": NotifyForbiddenError,
    "not_found": NotifyNotFoundError,
    "dossier_not_ready": DossierNotReadyError,
    "payload_too_large": NotifyApiError,
    "rate_limited": NotifyUnavailableError,
    "internal": NotifyUnavailableError,
    "unavailable": NotifyUnavailableError,
}


def _kind_of_status(status: int) -> type[NotifyApiError]:
    return _BY_STATUS.get(
        status, NotifyUnavailableError if status == 429 or status >= 500 else NotifyApiError
    )


def api_error(
    status: int,
    body: Any,
    *,
    event_id: str | None = None,
    event_ids: Sequence[str] | None = None,
) -> NotifyApiError:
    """The exception for ``{"error": {"code", "message", "issues": [{"field", "message"}]}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": "http_error", "message": f"HTTP {status}"}
    issues = [
        FieldIssue(field=str(issue.get("field")), message=str(issue.get("message")))
        for issue in error.get("issues") or []
        if isinstance(issue, dict)
    ]
    code = str(error.get("code"))
    # A known code raises its own exception; any other reply (a proxy's) the one of its status.
    kind = ERROR_CODES.get(code) or _kind_of_status(status)
    return kind(
        status,
        code,
        str(error.get("message")),
        issues,
        event_id=event_id,
        event_ids=event_ids,
    )
