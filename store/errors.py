"""Errors of the event store, in the project's own terms (driver errors stay inside store/)."""

from __future__ import annotations


class StoreError(Exception):
    pass


class ConcurrencyConflict(StoreError):
    """The stream moved on since the writer read it, or a version is taken by other content."""

    def __init__(self, case_id: str, expected: int, actual: int, detail: str = "") -> None:
        message = f"case {case_id}: expected version {expected}, the stream is at version {actual}"
        super().__init__(f"{message}; {detail}" if detail else message)
        self.case_id = case_id
        self.expected = expected
        self.actual = actual


class CaseNotFound(StoreError, LookupError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"no case {case_id!r}")
        self.case_id = case_id


class AppendRefused(StoreError):
    """The database refused an append for the connected role: events of a type its side
    does not record (row-level security), or a privilege the role lacks."""

    def __init__(self, case_id: str, types: list[str], role: str, reason: str) -> None:
        super().__init__(
            f"case {case_id}: the database refused to append {', '.join(types)} as role "
            f"{role}: {reason}"
        )
        self.case_id = case_id
        self.types = types
        self.role = role
        self.reason = reason

    @property
    def wrong_side(self) -> bool:
        """Refused by the log's row policy: a type of the other side (or of none), which no
        retry changes; otherwise a missing grant an operator can still add."""
        return "row-level security" in self.reason


class DataRefused(StoreError):
    """PostgreSQL refused a value of the events (a NUL in a text, a number out of range),
    or the domain could not read an event back: the same data would be refused again, so
    the append must not be retried."""
