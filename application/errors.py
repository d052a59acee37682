"""The application layer's own refusals, apart from the domain's (``domain.errors``).

Each has a stable ``code`` a client can branch on and a message that says what is wrong;
``extra`` carries structured detail (e.g. the photo ids refused). Front ends word them
their own way: the API as RFC 9457 problems (``api.problems``), the CLI as one line.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """A use case refused or could not be carried out; nothing was changed."""

    code: ClassVar[str] = "service_error"

    def __init__(self, message: str, *, code: str = "", **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code  # type: ignore[misc]
        self.extra = extra


class NotFound(ServiceError):
    """No such thing, or one outside the caller's jurisdiction: the two answer alike, so a
    case's existence does not leak."""

    code = "not_found"


class Forbidden(ServiceError):
    """The caller's role (or unit) may not do this at all."""

    code = "forbidden"


class Invalid(ServiceError):
    """The request is understood but its content cannot be accepted."""

    code = "invalid"


class Duplicate(ServiceError):
    """The id is taken by something different (e.g. a report id by another report)."""

    code = "duplicate"


class Unavailable(ServiceError):
    """A part the use case needs (Temporal, a case's worker) does not answer; try again."""

    code = "unavailable"
