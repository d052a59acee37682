"""The notification outbox: notices are written with the event that causes them (see
``EventStore.append``) and delivered from the same table afterwards, so a notice exists if
and only if its event does, and none is lost when a receiver or a drainer is down.

Drainers ``claim`` due notices with ``FOR UPDATE SKIP LOCKED`` and a lease: several
drainers never hold one notice at the same time, and a drainer that dies mid-batch only
delays its notices until the lease runs out. The delivery policy (what to send, when to
retry, when to give up) belongs to the caller; this module only records what happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import Engine, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.errors import StoreError
from store.models import NotificationRow, WebhookSubscriptionRow

log = structlog.get_logger(__name__)

# Longer than a drainer's whole batch may take (the delivery activity stops starting new
# POSTs well before it), so a live drainer never loses a claim to another one.
DEFAULT_LEASE = timedelta(minutes=2)
UNDELIVERED = ("failed", "no_subscriber")
MAX_ERROR_CHARS = 2000

N = NotificationRow
W = WebhookSubscriptionRow
# A literal, not a bound parameter: the planner can then prove the partial index's
# predicate (status = 'pending') even for a generic prepared plan.
IS_PENDING = N.status == literal_column("'pending'")


class InvalidSubscription(StoreError, ValueError):
    pass


class SubscriptionExists(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"webhook {name!r} already exists; remove it first to replace it")
        self.name = name


class SubscriptionNotFound(StoreError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no webhook {name!r}")
        self.name = name


@dataclass(frozen=True)
class Delivery:
    """A claimed notice: what to send, and what earlier attempts achieved."""

    id: int
    case_id: str
    event_version: int
    kind: str
    audience: str
    message: str
    data: dict[str, Any]
    created_at: datetime
    attempts: int
    delivered_to: tuple[str, ...]  # subscriptions that already acknowledged it


def audience_matches(pattern: str, audience: str) -> bool:
    """Exact match, or a pattern ending in ":*" matches everything under its prefix
    ("department:*" takes "department:sanitation", not "departmental")."""
    if pattern.endswith(":*"):
        return audience.startswith(pattern[:-1])
    return pattern == audience


@dataclass(frozen=True)
class Subscription:
    name: str
    url: str
    secret: str = field(repr=False)  # signs the body; never printed
    audiences: tuple[str, ...]
    active: bool
    created_at: datetime

    def receives(self, audience: str) -> bool:
        return self.active and any(audience_matches(p, audience) for p in self.audiences)


def _delivery(row: NotificationRow) -> Delivery:
    return Delivery(
        id=row.id,
        case_id=row.case_id,
        event_version=row.event_version,
        kind=row.kind,
        audience=row.audience,
        message=row.message,
        data=row.data,
        created_at=row.created_at,
        attempts=row.attempts,
        delivered_to=tuple(row.delivered_to or ()),
    )


def _subscription(row: WebhookSubscriptionRow) -> Subscription:
    return Subscription(
        name=row.name,
        url=row.url,
        secret=row.secret,
        audiences=tuple(row.audiences),
        active=row.active,
        created_at=row.created_at,
    )


def _as_dict(row: NotificationRow) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in N.__table__.columns}


class Outbox:
    def __init__(self, engine: Engine, *, lease: timedelta = DEFAULT_LEASE) -> None:
        self.engine = engine
        self.lease = lease

    # Draining

    def claim(self, limit: int, now: datetime) -> list[Delivery]:
        """Take up to ``limit`` pending notices due at ``now``, oldest due first, and lease
        them: they are not due again until ``now + lease`` unless marked or released."""
        due = (
            select(N.id)
            .where(IS_PENDING, N.next_attempt_at <= now)
            .order_by(N.next_attempt_at, N.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            # Materialized: the locking subquery runs once, so the UPDATE never takes
            # more than ``limit`` rows through a re-scan.
            .cte("due")
            .prefix_with("MATERIALIZED")
        )
        with Session(self.engine) as session, session.begin():
            rows = session.scalars(
                update(N)
                .where(N.id.in_(select(due.c.id)))
                .values(next_attempt_at=now + self.lease)
                .returning(N)
                .execution_options(synchronize_session=False)
            ).all()
            claimed = sorted((_delivery(r) for r in rows), key=lambda d: d.id)
        if claimed:
            log.debug("notices_claimed", ids=[d.id for d in claimed], lease_until=now + self.lease)
        return claimed

    def release(self, ids: Sequence[int], now: datetime) -> None:
        """Give back claimed notices that were not attempted: due again at once."""
        if ids:
            self._mark(ids, next_attempt_at=now)

    def mark_delivered(
        self, notification_id: int, now: datetime, delivered_to: Iterable[str] = ()
    ) -> bool:
        return self._mark(
            [notification_id],
            status="delivered",
            attempts=N.attempts + 1,
            last_attempt_at=now,
            delivered_at=now,
            last_error=None,
            delivered_to=sorted(set(delivered_to)),
        )

    def mark_failed(
        self,
        notification_id: int,
        error: str,
        now: datetime,
        retry_at: datetime | None,
        delivered_to: Iterable[str] = (),
    ) -> bool:
        """Record a failed attempt: due again at ``retry_at``, or, with None, given up
        (status failed; it stays listed until ``retry_failed``)."""
        return self._mark(
            [notification_id],
            status="pending" if retry_at is not None else "failed",
            attempts=N.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=retry_at if retry_at is not None else now,
            last_error=error[:MAX_ERROR_CHARS],
            delivered_to=sorted(set(delivered_to)),
        )

    def mark_no_subscriber(self, notification_id: int, audience: str, now: datetime) -> bool:
        return self._mark(
            [notification_id],
            status="no_subscriber",
            last_attempt_at=now,
            last_error=f"no active webhook takes audience {audience!r}",
        )

    def _mark(self, ids: Sequence[int], **values: Any) -> bool:
        # Only pending rows move: a drainer whose lease ran out cannot overwrite what
        # another drainer recorded since.
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                update(N)
                .where(N.id.in_(list(ids)), IS_PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # Reading and repairing

    def pending_count(self, due_by: datetime | None = None) -> int:
        """Pending notices; with ``due_by``, only those due by then."""
        query = select(func.count()).select_from(N).where(IS_PENDING)
        if due_by is not None:
            query = query.where(N.next_attempt_at <= due_by)
        with Session(self.engine) as session:
            return int(session.scalar(query) or 0)

    def failed(self, limit: int = 100) -> list[dict[str, Any]]:
        """Notices nobody will deliver unless retried: given up (failed) or with no
        subscriber for their audience (no_subscriber); oldest first."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(N).where(N.status.in_(UNDELIVERED)).order_by(N.id).limit(limit)
            )
            return [_as_dict(r) for r in rows]

    def retry_failed(
        self, ids: Sequence[int] | None = None, now: datetime | None = None
    ) -> list[int]:
        """Put failed and no_subscriber notices (those ``ids``, or all with None) back to
        pending, due at ``now`` (the database's clock by default), with a fresh attempt
        budget. The last error is kept until the next attempt. Returns the ids moved."""
        query = update(N).where(N.status.in_(UNDELIVERED))
        if ids is not None:
            query = query.where(N.id.in_(list(ids)))
        with Session(self.engine) as session, session.begin():
            moved = session.scalars(
                query.values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now if now is not None else func.now(),
                )
                .returning(N.id)
                .execution_options(synchronize_session=False)
            ).all()
        log.info("notices_retried", ids=sorted(moved))
        return sorted(moved)

    # Subscriptions

    def add_subscription(
        self, name: str, url: str, secret: str, audiences: Sequence[str]
    ) -> Subscription:
        """Add a webhook; a removed (inactive) one of the same name is replaced."""
        _check_subscription(name, url, secret, audiences)
        values = {"url": url, "secret": secret, "audiences": list(dict.fromkeys(audiences))}
        try:
            with Session(self.engine) as session, session.begin():
                row = session.scalars(select(W).where(W.name == name).with_for_update()).first()
                if row is not None and row.active:
                    raise SubscriptionExists(name)
                if row is None:
                    row = W(name=name, **values)
                    session.add(row)
                else:
                    for key, value in values.items():
                        setattr(row, key, value)
                    row.active = True
                session.flush()
                session.refresh(row)
                added = _subscription(row)
        except IntegrityError:  # the same name added concurrently
            raise SubscriptionExists(name) from None
        log.info("webhook_added", name=name, url=url, audiences=added.audiences)
        return added

    def list_subscriptions(self) -> list[Subscription]:
        with Session(self.engine) as session:
            return [_subscription(r) for r in session.scalars(select(W).order_by(W.name))]

    def active_subscriptions(self) -> list[Subscription]:
        with Session(self.engine) as session:
            rows = session.scalars(select(W).where(W.active).order_by(W.name))
            return [_subscription(r) for r in rows]

    def deactivate(self, name: str) -> None:
        """Stop sending to a webhook. The row stays (names in ``delivered_to`` keep
        meaning something); adding the name again replaces it."""
        with Session(self.engine) as session, session.begin():
            result = session.execute(update(W).where(W.name == name).values(active=False))
            if not result.rowcount:  # type: ignore[attr-defined]
                raise SubscriptionNotFound(name)
        log.info("webhook_removed", name=name)

    def subscribers_for(self, audience: str) -> list[Subscription]:
        return [s for s in self.active_subscriptions() if s.receives(audience)]


def _check_subscription(name: str, url: str, secret: str, audiences: Sequence[str]) -> None:
    if not name.strip():
        raise InvalidSubscription("a webhook needs a name")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidSubscription(f"webhook URL must be http(s)://host/…, got {url!r}")
    if not secret:
        raise InvalidSubscription("a webhook needs a signing secret")
    if not audiences or any(not a.strip() or "*" in a.removesuffix(":*") for a in audiences):
        raise InvalidSubscription(
            "give at least one audience, e.g. supervision, department:sanitation or "
            "department:* ('*' only as a final ':*')"
        )
