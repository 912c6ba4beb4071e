"""
What the tests share: the server they run against (from the environment, set by
test/e2e/python-client.test.ts), waiting for a workflow to apply a call, the owner's
notifications, and transports that fail on purpose in front of the real server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from typing import Any, Callable, TypeVar, Union

import httpx

from normx_notify import RetryPolicy

T = TypeVar("T")


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: run these tests through test/e2e/python-client.test.ts, "
            "or set NORMX_NOTIFY_URL, NORMX_NOTIFY_TOKEN (service), NORMX_NOTIFY_USER and "
            "NORMX_NOTIFY_USER_TOKEN"
        )
    return value


URL = env("NORMX_NOTIFY_URL")
SERVICE_TOKEN = env("NORMX_NOTIFY_TOKEN")
#: A user whose notifications the tests read, with a token of theirs.
USER = env("NORMX_NOTIFY_USER")
USER_TOKEN = env("NORMX_NOTIFY_USER_TOKEN")

#: Short waits: a test of retries should not take seconds of backoff.
FAST_RETRY = RetryPolicy(attempts=4, backoff=0.05, max_backoff=0.2)

KINDS = ["j-0", "j-1", "j-7", "overdue", "overdue_critical"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def days_ahead(days: int) -> dt.date:
    return dt.date.today() + dt.timedelta(days=days)


def eventually(probe: Callable[[], T], ready: Callable[[T], bool], what: str, timeout: float = 10.0) -> T:
    """``probe()`` until ``ready`` says yes: the dossier's workflow applies a call soon after its 202."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s; last: {value!r}")
        time.sleep(0.1)


def notifications_of(user_token: str = USER_TOKEN) -> list[dict[str, Any]]:
    """The user's notifications, newest first (the REST API a browser uses, with the user's own token)."""
    reply = httpx.get(
        f"{URL}/api/v1/users/me/notifications",
        params={"limit": 200},
        headers={"authorization": f"Bearer {user_token}"},
    )
    reply.raise_for_status()
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def kinds_for(dossier_id: str) -> list[str]:
    return sorted(item["kind"] for item in notifications_of() if item["dossierId"] == dossier_id)


#: A fault of one attempt: "connect" (refused, never sent), "lost" (sent, reply lost), or a status answered
#: in the server's stead (503 with ``Retry-After``).
Fault = Union[str, int]


class Faults:
    """The script of the first attempts' faults, and the JSON body of every request seen."""

    def __init__(self, faults: list[Fault], retry_after: str = "1") -> None:
        self.faults = list(faults)
        self.retry_after = retry_after
        self.bodies: list[Any] = []

    def next(self, request: httpx.Request) -> Fault | None:
        self.bodies.append(json.loads(request.content) if request.content else None)
        return self.faults.pop(0) if self.faults else None

    def answer(self, fault: int) -> httpx.Response:
        headers = {"retry-after": self.retry_after} if fault == 503 else {}
        body = {
            "error": {
                "code": "unavailable" if fault == 503 else "internal",
                "message": "injected by the test",
            }
        }
        return httpx.Response(fault, headers=headers, json=body)

    def event_ids(self) -> list[str | None]:
        return [body.get("eventId") if isinstance(body, dict) else None for body in self.bodies]


class FlakyTransport(httpx.BaseTransport):
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        fault = self.faults.next(request)
        if fault == "connect":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if isinstance(fault, int):
            return self.faults.answer(fault)
        response = self.inner.handle_request(request)
        if fault == "lost":
            response.read()
            response.close()
            raise httpx.ReadError("connection reset before the reply (injected)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncFlakyTransport(httpx.AsyncBaseTransport):
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        fault = self.faults.next(request)
        if fault == "connect":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if isinstance(fault, int):
            return self.faults.answer(fault)
        response = await self.inner.handle_async_request(request)
        if fault == "lost":
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset before the reply (injected)", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
