"""Python client of normx-notify (NormX Docs' notifications and reminders service): sync and async."""

from .async_client import AsyncNotifyClient
from .client import NotifyClient
from .errors import (
    DossierNotReadyError,
    FieldIssue,
    NotifyApiError,
    NotifyAuthError,
    NotifyConnectionError,
    NotifyError,
    NotifyForbiddenError,
    NotifyNotFoundError,
    NotifyUnavailableError,
    NotifyValidationError,
)
from .models import (
    DEFAULT,
    Accepted,
    BulkItem,
    BusinessCalendar,
    BulkResult,
    Dossier,
    DossierState,
    OwnerProfile,
    PendingReminder,
    RejectedEvent,
    ReminderPlan,
    SentReminder,
)
from .preferences import (
    KindPreference,
    KindSetting,
    Preferences,
    QuietHours,
)
from .retry import RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "Accepted",
    "AsyncNotifyClient",
    "BulkItem",
    "BulkResult",
    "BusinessCalendar",
    "DEFAULT",
    "Dossier",
    "DossierNotReadyError",
    "DossierState",
    "FieldIssue",
    "KindPreference",
    "KindSetting",
    "NotifyApiError",
    "NotifyAuthError",
    "NotifyClient",
    "NotifyConnectionError",
    "NotifyError",
    "NotifyForbiddenError",
    "NotifyNotFoundError",
    "NotifyUnavailableError",
    "NotifyValidationError",
    "OwnerProfile",
    "PendingReminder",
    "Preferences",
    "QuietHours",
    "RejectedEvent",
    "ReminderPlan",
    "RetryPolicy",
    "SentReminder",
]
