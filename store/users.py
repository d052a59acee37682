"""Users, the org units they act for, bearer tokens and Open311 API keys.

A token is shown once, when issued ("gc_" + 32 random bytes, urlsafe); only its sha256 is
stored. Every token expires (``DEFAULT_TOKEN_TTL`` unless the issuer says otherwise) and
is replaced by ``rotate_token``. ``authenticate`` looks the hash up, compares it in
constant time, refuses revoked tokens and inactive users, tells an expired token apart
(``TokenExpired``), and touches ``last_used_at`` at most once a minute so a busy client
does not turn every read into a write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError

from domain.errors import WrongRole
from domain.org import InvalidOrgCode, Level, code_level
from domain.roles import Actor, Role
from store.auth_models import USER_ROLES, ApiClientRow, ApiTokenRow, UserRow, UserUnitRow
from store.errors import StoreError
from store.reference import load_taxonomy

log = structlog.get_logger(__name__)

TOKEN_PREFIX = "gc_"
CLIENT_KEY_PREFIX = "gck_"
TOUCH_EVERY = "1 minute"
DEFAULT_TOKEN_TTL = timedelta(days=90)
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

# Roles of the supervision and command centers: they see every case of the district.
CENTER_ROLES = frozenset({"acceptor", "shift_leader", "dispatcher"})
# Roles that see personal data (a reporter's id, grid workers' ids in the timeline).
SUPERVISION_STAFF = frozenset(
    {"acceptor", "shift_leader", "dispatcher", "supervisor", "leader", "admin"}
)
_AREA_LEVELS = {6: Level.DISTRICT, 9: Level.STREET, 12: Level.COMMUNITY}


class UserError(StoreError, ValueError):
    """A user, unit or token the store cannot take; the message says why."""


class UnknownUser(UserError, LookupError):
    pass


class TokenExpired(UserError):
    """A token that was valid and has expired: the caller should get a new one."""

    def __init__(self, token_id: str, expired_at: datetime) -> None:
        super().__init__(f"token {token_id} expired at {expired_at.isoformat()}")
        self.token_id = token_id
        self.expired_at = expired_at


@dataclass(frozen=True)
class Principal:
    """The caller: who, in which role, for which org units.

    The API's callers are registered users (``authenticate``). The CLI acts "as" someone
    (``application.principals``); ``unbounded`` marks such an ad-hoc identity that no
    registration, ``@unit`` or district assignment places anywhere: the operator at the
    console vouches for it, so jurisdiction does not limit it (roles and the domain's rules
    still do). A registered user is never unbounded.
    """

    user_id: str
    role: str
    units: tuple[str, ...] = ()
    name: str = ""
    token_id: str = ""
    unbounded: bool = False
    # The intake channel of a front end of its own (Open311's client apps): its reports
    # take that source (domain.sources), never one a request names.
    channel: str = ""

    @property
    def sees_personal_data(self) -> bool:
        return self.role in SUPERVISION_STAFF

    def actor(self, grid: str = "") -> Actor:
        """The domain's actor for this principal.

        A handler acts for his department (his one unit), which the domain checks against
        the case's department. A grid worker acts for the grid he is in: ``grid`` when it
        is one he patrols (the case's grid), else his first bound grid; the domain does not
        decide on a grid worker's unit, it is recorded so the log shows where he acted.
        Center staff, supervisors and leaders act for no unit. Admins have no domain role.
        """
        if self.role == "admin":
            raise WrongRole("an admin account administers users; it does not act on cases")
        role = Role(self.role)
        unit = ""
        if role is Role.HANDLER:
            unit = self.units[0] if self.units else ""
        elif role is Role.GRID_WORKER:
            if grid in self.units or (self.unbounded and grid):
                unit = grid
            else:
                unit = self.units[0] if self.units else ""
        return Actor(id=self.user_id, role=role, unit=unit)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    active: bool
    units: tuple[str, ...]
    created_at: datetime
    tokens: tuple[TokenInfo, ...] = field(default=())


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True)
class IssuedSecret:
    """A token or API key as issued: ``secret`` is shown once and never stored."""

    id: str
    owner: str
    secret: str
    expires_at: datetime | None = None  # tokens; API keys do not expire


@dataclass(frozen=True)
class ApiClient:
    id: str
    name: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def load_principal(
    conn: Connection, user_id: str, name: str, role: str, *, token_id: str = ""
) -> Principal:
    """The one way a caller becomes a Principal, by token (API) or session (web pages)."""
    units = conn.execute(
        select(UserUnitRow.unit)
        .where(UserUnitRow.user_id == user_id)
        .order_by(UserUnitRow.position)
    ).scalars()
    return Principal(user_id, role, tuple(units), name=name, token_id=token_id)


def _check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0):
        raise UserError("a token's lifetime must be positive")


def _insert_token(conn: Connection, user_id: str, name: str, ttl: timedelta) -> IssuedSecret:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(6)
    expires_at = conn.execute(
        insert(ApiTokenRow)
        .values(
            id=token_id,
            user_id=user_id,
            name=name,
            token_hash=digest(token),
            expires_at=func.now() + ttl,
        )
        .returning(ApiTokenRow.expires_at)
    ).scalar_one()
    return IssuedSecret(id=token_id, owner=user_id, secret=token, expires_at=expires_at)


def _token_info(t: Any) -> TokenInfo:  # a row of api_tokens
    return TokenInfo(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at, t.expires_at)


def check_units(
    role: str, units: Sequence[str], departments: Sequence[str] = ()
) -> tuple[str, ...]:
    """The units a user of ``role`` may be bound to, in order; UserError says what is wrong.

    ``departments`` are the known department codes (from the taxonomy) for a handler.
    """
    if role not in USER_ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(USER_ROLES)}")
    found = tuple(dict.fromkeys(u.strip() for u in units if u.strip()))
    if role == "grid_worker":
        if not found:
            raise UserError("a grid worker needs at least one 15-digit unit grid he patrols")
        for unit in found:
            _expect_level(unit, {Level.GRID}, "a grid worker's unit must be a 15-digit grid code")
    elif role == "handler":
        if len(found) != 1:
            raise UserError("a handler needs exactly one unit: his department's code")
        if departments and found[0] not in departments:
            raise UserError(
                f"unknown department {found[0]!r}; departments: {', '.join(departments)}"
            )
    elif role in ("supervisor", "leader"):
        if not found:
            raise UserError(
                f"a {role} needs at least one area: a 6-digit district, 9-digit street "
                "or 12-digit community code"
            )
        for unit in found:
            _expect_level(
                unit,
                set(_AREA_LEVELS.values()),
                f"a {role}'s unit must be a 6-, 9- or 12-digit district/street/community code",
            )
    else:  # center staff and admins: the district they work for, if given
        for unit in found:
            _expect_level(unit, {Level.DISTRICT}, f"a {role}'s unit must be a 6-digit district")
    return found


def _expect_level(unit: str, levels: set[Level], message: str) -> None:
    try:
        level = code_level(unit)
    except InvalidOrgCode as exc:
        raise UserError(f"{message}: {exc.message}") from None
    if level not in levels:
        raise UserError(f"{message}; {unit!r} is a {level.value} code")


# A token's user and units in one read (authenticate is on every API request).
_UNITS = (
    select(func.array_agg(aggregate_order_by(UserUnitRow.unit, UserUnitRow.position)))
    .where(UserUnitRow.user_id == UserRow.id)
    .scalar_subquery()
)
_TOKEN_LOOKUP = (
    select(
        ApiTokenRow.id.label("token_id"),
        ApiTokenRow.token_hash,
        UserRow.id.label("user_id"),
        UserRow.name,
        UserRow.role,
        ApiTokenRow.expires_at,
        (ApiTokenRow.expires_at <= func.now()).label("expired"),
        or_(
            ApiTokenRow.last_used_at.is_(None),
            ApiTokenRow.last_used_at < func.now() - text(f"interval '{TOUCH_EVERY}'"),
        ).label("touch_due"),
        _UNITS.label("units"),
    )
    .join(UserRow, UserRow.id == ApiTokenRow.user_id)
    .where(
        ApiTokenRow.token_hash == bindparam("hash"),
        ApiTokenRow.revoked_at.is_(None),
        UserRow.active.is_(True),
    )
)
_TOUCH = (
    update(ApiTokenRow)
    .where(ApiTokenRow.id == bindparam("token_id"))
    .values(last_used_at=func.now())
)


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- users ---------------------------------------------------------------------------
    def create_user(self, user_id: str, name: str, role: str, units: Sequence[str]) -> User:
        if not USER_ID.match(user_id):
            raise UserError(
                f"user id {user_id!r}: 1-64 letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit"
            )
        if not name.strip():
            raise UserError("a user needs a name")
        departments: Sequence[str] = ()
        if role == "handler":
            departments = [d.code for d in load_taxonomy(self.engine).departments]
        bound = check_units(role, units, departments)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(UserRow).values(id=user_id, name=name.strip(), role=role))
                if bound:
                    conn.execute(
                        insert(UserUnitRow),
                        [
                            {"user_id": user_id, "unit": u, "position": i}
                            for i, u in enumerate(bound)
                        ],
                    )
        except IntegrityError:
            raise UserError(f"user {user_id!r} already exists") from None
        log.info("user_created", user_id=user_id, role=role, units=list(bound))
        return self.get_user(user_id)

    def get_user(self, user_id: str) -> User:
        for user in self.list_users(ids=[user_id]):
            return user
        raise UnknownUser(f"no user {user_id!r}")

    def list_users(self, *, ids: Sequence[str] | None = None) -> list[User]:
        with self.engine.connect() as conn:
            query = select(UserRow).order_by(UserRow.id)
            if ids is not None:
                query = query.where(UserRow.id.in_(ids))
            users = conn.execute(query).all()
            wanted = [u.id for u in users]
            units: dict[str, list[str]] = {}
            for row in conn.execute(
                select(UserUnitRow)
                .where(UserUnitRow.user_id.in_(wanted))
                .order_by(UserUnitRow.user_id, UserUnitRow.position)
            ):
                units.setdefault(row.user_id, []).append(row.unit)
            tokens: dict[str, list[TokenInfo]] = {}
            for t in conn.execute(
                select(ApiTokenRow)
                .where(ApiTokenRow.user_id.in_(wanted))
                .order_by(ApiTokenRow.created_at)
            ):
                tokens.setdefault(t.user_id, []).append(_token_info(t))
        return [
            User(
                u.id,
                u.name,
                u.role,
                u.active,
                tuple(units.get(u.id, ())),
                u.created_at,
                tuple(tokens.get(u.id, ())),
            )
            for u in users
        ]

    def deactivate(self, user_id: str) -> None:
        """An inactive user's tokens stop working at once; the user stays for the record."""
        with self.engine.begin() as conn:
            done = conn.execute(update(UserRow).where(UserRow.id == user_id).values(active=False))
        if done.rowcount == 0:
            raise UnknownUser(f"no user {user_id!r}")
        log.info("user_deactivated", user_id=user_id)

    def bind_units(self, user_id: str, units: Sequence[str]) -> User:
        """Replace the user's units (checked for his role)."""
        user = self.get_user(user_id)
        departments: Sequence[str] = ()
        if user.role == "handler":
            departments = [d.code for d in load_taxonomy(self.engine).departments]
        bound = check_units(user.role, units, departments)
        with self.engine.begin() as conn:
            conn.execute(delete(UserUnitRow).where(UserUnitRow.user_id == user_id))
            if bound:
                conn.execute(
                    insert(UserUnitRow),
                    [{"user_id": user_id, "unit": u, "position": i} for i, u in enumerate(bound)],
                )
        log.info("user_units_bound", user_id=user_id, units=list(bound))
        return self.get_user(user_id)

    # -- tokens --------------------------------------------------------------------------
    def issue_token(
        self, user_id: str, name: str = "", ttl: timedelta = DEFAULT_TOKEN_TTL
    ) -> IssuedSecret:
        user = self.get_user(user_id)
        if not user.active:
            raise UserError(f"user {user_id!r} is deactivated")
        _check_ttl(ttl)
        with self.engine.begin() as conn:
            issued = _insert_token(conn, user_id, name, ttl)
        log.info("token_issued", user_id=user_id, token_id=issued.id, expires_at=issued.expires_at)
        return issued

    def rotate_token(
        self, token_id: str, ttl: timedelta = DEFAULT_TOKEN_TTL, grace: timedelta = timedelta(0)
    ) -> IssuedSecret:
        """A new token for the same user and purpose; the old one is revoked now, or expires
        after ``grace`` (time to deploy the new one) if it would live longer."""
        _check_ttl(ttl)
        if grace < timedelta(0):
            raise UserError("the grace period cannot be negative")
        with self.engine.begin() as conn:
            old = conn.execute(
                select(
                    ApiTokenRow.user_id, ApiTokenRow.name, ApiTokenRow.revoked_at, UserRow.active
                )
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.id == token_id)
                .with_for_update(of=ApiTokenRow)
            ).first()
            if old is None:
                raise UserError(f"no token {token_id!r}")
            if old.revoked_at is not None:
                raise UserError(f"token {token_id} is revoked; issue a new one instead")
            if not old.active:
                raise UserError(f"user {old.user_id!r} is deactivated")
            issued = _insert_token(conn, old.user_id, old.name, ttl)
            retire = (
                {"revoked_at": func.now()}
                if grace == timedelta(0)
                else {"expires_at": func.least(ApiTokenRow.expires_at, func.now() + grace)}
            )
            conn.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(**retire))
        log.info("token_rotated", token_id=token_id, new_token_id=issued.id, user_id=old.user_id)
        return issued

    def revoke_token(self, token_id: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == token_id)
                .values(revoked_at=func.coalesce(ApiTokenRow.revoked_at, func.now()))
            )
        if done.rowcount == 0:
            raise UserError(f"no token {token_id!r}")
        log.info("token_revoked", token_id=token_id)

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind a bearer token; None for anything unknown, revoked or of a
        deactivated user; ``TokenExpired`` for a token past its expiry.

        One read (token, user, units, whether a touch is due) outside a transaction: every
        API request pays for it, so it is one round trip, and the write that touches
        ``last_used_at`` happens at most once a minute."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        hashed = digest(token)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            row = conn.execute(_TOKEN_LOOKUP, {"hash": hashed}).first()
            # The lookup is by hash; the compare makes the decision itself constant-time.
            if row is None or not hmac.compare_digest(row.token_hash, hashed):
                return None
            if row.expired:
                raise TokenExpired(row.token_id, row.expires_at)
            if row.touch_due:
                conn.execute(_TOUCH, {"token_id": row.token_id})
            units = tuple(row.units or ())
            return Principal(row.user_id, row.role, units, name=row.name, token_id=row.token_id)

    # -- Open311 clients -----------------------------------------------------------------
    def add_client(self, name: str) -> IssuedSecret:
        if not name.strip():
            raise UserError("an API client needs a name")
        key = CLIENT_KEY_PREFIX + secrets.token_urlsafe(32)
        client_id = "cli_" + secrets.token_hex(6)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(ApiClientRow).values(
                        id=client_id, name=name.strip(), key_hash=digest(key)
                    )
                )
        except IntegrityError:
            raise UserError(f"an API client named {name!r} already exists") from None
        log.info("api_client_added", client_id=client_id, name=name)
        return IssuedSecret(id=client_id, owner=name.strip(), secret=key)

    def authenticate_client(self, api_key: str) -> ApiClient | None:
        if not api_key.startswith(CLIENT_KEY_PREFIX):
            return None
        hashed = digest(api_key)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ApiClientRow).where(
                    and_(ApiClientRow.key_hash == hashed, ApiClientRow.active.is_(True))
                )
            ).first()
        if row is None or not hmac.compare_digest(row.key_hash, hashed):
            return None
        return ApiClient(row.id, row.name)
