"""When a call is tried again, and after how long."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """
    A call is tried again after a network error (refused, reset, timed out: the request may have
    arrived) and after a 429 or 5xx reply, waiting the reply's ``Retry-After`` when it has one,
    else an exponential backoff with jitter. Every attempt of a call carries the same event id,
    so the server stores its effect once.
    """

    #: Attempts in all, the first included (1: never retry).
    attempts: int = 4
    #: The first backoff in seconds; it doubles on each retry, up to ``max_backoff``.
    backoff: float = 0.25
    max_backoff: float = 5.0
    #: A longer ``Retry-After`` is cut to this.
    max_retry_after: float = 30.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds, from delay-seconds or an HTTP date (RFC 9110); None if unreadable."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
