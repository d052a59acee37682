"""Web sessions and the limit on failed sign-ins, both kept in PostgreSQL.

A session is a random secret in an HttpOnly cookie; only its sha256 is stored, with the
session's CSRF token. It ends on sign-out (the row is deleted), after ``idle`` without a
request, at ``max_age`` after sign-in whatever the activity, when the user's password is
reset, and when the user is deactivated. ``resume`` touches ``last_seen_at`` at most every
``touch_every`` (a quarter of the idle limit, at most a minute), so a busy page does not
turn every read into a write; the idle limit is therefore exact to that step.

Failed sign-ins are counted per user id and per client address in a window of
``lockout`` length; ``max_failures`` (per user) or ``max_failures_per_address`` failures
in one window lock that user id or address for ``lockout``. While locked, no password is
checked. Unknown user ids are counted like known ones, so the answers do not tell which
ids exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from store.auth_models import SignInThrottleRow, UserRow, WebSessionRow
from store.users import Principal, load_principal

log = structlog.get_logger(__name__)

SESSION_PREFIX = "gcs_"


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5
    max_failures_per_address: int = 20
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=12)

    @property
    def touch_every(self) -> timedelta:
        return min(timedelta(minutes=1), self.idle / 4)


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf_token: str
    created_at: datetime
    expires_at: datetime  # absolute end
    idle_until: datetime  # end if no request comes before


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine, policy: SignInPolicy) -> None:
        self.engine = engine
        self.policy = policy

    def start(self, principal: Principal, address: str = "") -> tuple[str, WebSession]:
        """A new session for a principal who just proved his password: (secret, session).
        The secret goes into the cookie and is never stored."""
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            # Ended sessions go when new ones come, so the table holds live ones only.
            conn.execute(delete(WebSessionRow).where(self._ended()))
            row = conn.execute(
                insert(WebSessionRow)
                .values(
                    id_hash=_digest(secret),
                    user_id=principal.user_id,
                    csrf_token=csrf,
                    address=address[:64],
                    expires_at=func.now() + self.policy.max_age,
                )
                .returning(WebSessionRow.created_at, WebSessionRow.expires_at)
            ).one()
        log.info("web_session_started", user_id=principal.user_id, address=address)
        idle_until = min(row.created_at + self.policy.idle, row.expires_at)
        return secret, WebSession(principal, csrf, row.created_at, row.expires_at, idle_until)

    def _ended(self) -> ColumnElement[bool]:
        return or_(
            WebSessionRow.expires_at <= func.now(),
            WebSessionRow.last_seen_at <= func.now() - self.policy.idle,
        )

    def resume(self, secret: str, *, touch: bool = True) -> WebSession | None:
        """The live session behind a cookie's secret, or None (unknown, signed out,
        expired, idle too long, user deactivated). ``touch`` False: a look that is not
        activity (a page's open live stream must not keep an idle session alive)."""
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        hashed = _digest(secret)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(
                    WebSessionRow.id_hash,
                    WebSessionRow.csrf_token,
                    WebSessionRow.created_at,
                    WebSessionRow.expires_at,
                    WebSessionRow.last_seen_at,
                    UserRow.id,
                    UserRow.name,
                    UserRow.role,
                    func.now().label("now"),
                )
                .join(UserRow, UserRow.id == WebSessionRow.user_id)
                .where(
                    WebSessionRow.id_hash == hashed,
                    WebSessionRow.expires_at > func.now(),
                    WebSessionRow.last_seen_at > func.now() - self.policy.idle,
                    UserRow.active.is_(True),
                )
            ).first()
            if row is None or not hmac.compare_digest(row.id_hash, hashed):
                return None
            seen = row.last_seen_at
            if touch and row.now - seen >= self.policy.touch_every:
                conn.execute(
                    update(WebSessionRow)
                    .where(WebSessionRow.id_hash == hashed)
                    .values(last_seen_at=func.now())
                )
                seen = row.now
            principal = load_principal(conn, row.id, row.name, row.role)
        idle_until = min(seen + self.policy.idle, row.expires_at)
        return WebSession(principal, row.csrf_token, row.created_at, row.expires_at, idle_until)

    def end(self, secret: str) -> bool:
        """Sign-out: the session is gone from the database, its cookie worthless."""
        with self.engine.begin() as conn:
            done = conn.execute(
                delete(WebSessionRow).where(WebSessionRow.id_hash == _digest(secret))
            )
        return done.rowcount > 0

    def end_all(self, user_id: str) -> int:
        with self.engine.begin() as conn:
            done = conn.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
        log.info("web_sessions_ended", user_id=user_id, count=done.rowcount)
        return done.rowcount


@dataclass(frozen=True)
class Failure:
    """What a failed sign-in left: attempts left before the user id is locked, and the
    end of a lock-out it started (for the user id or for the address)."""

    remaining: int
    locked_until: datetime | None


_COUNT_FAILURE = text(
    """
    INSERT INTO sign_in_throttle AS t (scope, key, failures, window_started_at)
    VALUES (:scope, :key, 1, now())
    ON CONFLICT (scope, key) DO UPDATE SET
      failures = CASE WHEN t.window_started_at <= now() - :lockout THEN 1
                      ELSE t.failures + 1 END,
      window_started_at = CASE WHEN t.window_started_at <= now() - :lockout THEN now()
                               ELSE t.window_started_at END
    RETURNING failures
    """
)
_LOCK = text(
    """
    UPDATE sign_in_throttle
    SET locked_until = now() + :lockout, failures = 0, window_started_at = now()
    WHERE scope = :scope AND key = :key
    RETURNING locked_until
    """
)


class SignInThrottle:
    def __init__(self, engine: Engine, policy: SignInPolicy) -> None:
        self.engine = engine
        self.policy = policy

    def locked_until(self, user_id: str, address: str) -> datetime | None:
        """The end of a lock-out on this user id or this address, if one is on now."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.max(SignInThrottleRow.locked_until)).where(
                    or_(
                        (SignInThrottleRow.scope == "user") & (SignInThrottleRow.key == user_id),
                        (SignInThrottleRow.scope == "address") & (SignInThrottleRow.key == address),
                    ),
                    SignInThrottleRow.locked_until > func.now(),
                )
            ).scalar_one()

    def record_failure(self, user_id: str, address: str) -> Failure:
        remaining = self.policy.max_failures
        locked: list[datetime] = []
        with self.engine.begin() as conn:
            for scope, key, limit in (
                ("user", user_id, self.policy.max_failures),
                ("address", address, self.policy.max_failures_per_address),
            ):
                count, until = self._count(conn, scope, key, limit)
                if until is not None:
                    locked.append(until)
                if scope == "user":
                    remaining = 0 if until is not None else max(limit - count, 0)
        log.info(
            "sign_in_failed",
            user_id=user_id,
            address=address,
            remaining=remaining,
            locked_until=max(locked) if locked else None,
        )
        return Failure(remaining, max(locked) if locked else None)

    def _count(
        self, conn: Connection, scope: str, key: str, limit: int
    ) -> tuple[int, datetime | None]:
        """One more failure for (scope, key) in the current window; a lock-out when it
        reaches ``limit`` (the count starts again after it). The upsert locks the row, so
        two failures at once both count."""
        params = {"scope": scope, "key": key, "lockout": self.policy.lockout}
        count: int = conn.execute(_COUNT_FAILURE, params).scalar_one()
        if count < limit:
            return count, None
        until: datetime = conn.execute(_LOCK, params).scalar_one()
        log.warning("sign_in_locked", scope=scope, key=key, locked_until=until)
        return count, until

    def clear_user(self, user_id: str) -> None:
        """A good sign-in (or an administrator) wipes the user id's failures and lock."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(SignInThrottleRow).where(
                    SignInThrottleRow.scope == "user", SignInThrottleRow.key == user_id
                )
            )
