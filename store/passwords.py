"""Passwords for the web sign-in, hashed with argon2id (argon2-cffi).

argon2-cffi's defaults are RFC 9106's second recommended profile (t=3, 64 MiB, p=4):
about 0.24 s per check on the 2-core development machine, and 64 MiB while it runs. A
hash records its parameters, so ``needs_rehash`` tells when a stored hash is older than
today's profile, and it is rehashed at the next good sign-in.
"""

from __future__ import annotations

from functools import cache

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select, update

from store.auth_models import UserRow, WebSessionRow
from store.users import Principal, UnknownUser, UserError, load_principal

log = structlog.get_logger(__name__)

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()


class PasswordRuleError(ValueError):
    """A password the rules refuse; the message says which rule."""


def check_rules(password: str, user_id: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRuleError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRuleError(f"a password has at most {MAX_LENGTH} characters")
    if not password.strip() or password.strip() != password:
        raise PasswordRuleError("a password neither starts nor ends with white space")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise PasswordRuleError("a password has no control characters")
    if user_id.lower() in password.lower():
        raise PasswordRuleError("a password must not contain the user id")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _stand_in() -> str:
    return _hasher.hash("no password: a hash to spend the same time on")


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; None (no such user, no password set)
    costs the same time as a real check, so the answer's delay tells nothing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _stand_in(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


class Passwords:
    """Users' passwords in the ``users`` table: set by an administrator, checked at sign-in."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set(self, user_id: str, password: str) -> None:
        """Set or reset a password; every web session of the user ends (a reset after a
        leak must shut out whoever used the old one)."""
        try:
            check_rules(password, user_id)
        except PasswordRuleError as exc:
            raise UserError(str(exc)) from None
        hashed = hash_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(password_hash=hashed, password_set_at=func.now())
            )
            if done.rowcount == 0:
                raise UnknownUser(f"no user {user_id!r}")
            ended = conn.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
        log.info("password_set", user_id=user_id, sessions_ended=ended.rowcount)

    def check(self, user_id: str, password: str) -> Principal | None:
        """The principal when ``password`` is the active user's; None otherwise (in the
        same time whether the user exists or not)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(UserRow.name, UserRow.role, UserRow.password_hash).where(
                    UserRow.id == user_id, UserRow.active.is_(True)
                )
            ).first()
        stored = row.password_hash if row is not None else None
        if not verify(stored, password) or row is None or stored is None:
            return None
        with self.engine.begin() as conn:
            if needs_rehash(stored):
                conn.execute(
                    update(UserRow)
                    .where(UserRow.id == user_id, UserRow.password_hash == stored)
                    .values(password_hash=hash_password(password))
                )
            return load_principal(conn, user_id, row.name, row.role)
