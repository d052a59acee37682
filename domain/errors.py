"""Named domain errors: each says why a command was refused."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses. ``code`` is stable for machines, the text for people."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongStage(DomainError):
    code = "wrong_stage"


class WrongRole(DomainError):
    code = "wrong_role"


class NotYourCase(DomainError):
    """The actor has the right role but acts for another org unit (department, grid)."""

    code = "not_your_case"


class InvalidCommand(DomainError):
    """A missing or malformed field."""

    code = "invalid_command"


class DeadlineNotReached(DomainError):
    code = "deadline_not_reached"


class DeadlinePassed(DomainError):
    """A step that may only move a deadline that has not passed (an extension), too late."""

    code = "deadline_passed"


class OutOfOrder(DomainError):
    """A command stamped before the case's last event: a case's time never runs backwards."""

    code = "out_of_order"


ERRORS_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        DomainError,
        WrongStage,
        WrongRole,
        NotYourCase,
        InvalidCommand,
        DeadlineNotReached,
        DeadlinePassed,
        OutOfOrder,
    )
}
