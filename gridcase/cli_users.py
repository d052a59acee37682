"""`gridcase users …`: the people who use the API and the web pages, their units,
passwords and tokens; Open311 clients.

Tokens and API keys are printed once, when issued; only their hashes are stored. Passwords
are read from a prompt or from standard input, never from the command line (which other
users of the machine can see).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine, delete

from gridcase.cli_common import console, err_console, fail, settings
from gridcase.render import when
from store.auth_models import USER_ROLES, SignInThrottleRow
from store.db import make_engine
from store.passwords import MIN_LENGTH, Passwords
from store.sessions import SessionStore, SignInPolicy
from store.users import UserError, UserStore

users_app = typer.Typer(
    help="Users of the HTTP API and the web pages (role and org units), their passwords, "
    "bearer tokens and web sessions, and Open311 client keys.\n\nUnits by role: grid_worker "
    "— 15-digit unit grids he patrols; handler — "
    "his department code; supervisor/leader — 6/9/12-digit district/street/community codes; "
    "center staff — the 6-digit district (optional).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
token_app = typer.Typer(
    help="Bearer tokens (Authorization: Bearer …). Each expires, by default after "
    "GRIDCASE_TOKEN_TTL_DAYS (90) days.",
    no_args_is_help=True,
)
client_app = typer.Typer(help="Open311 API clients (citizen apps).", no_args_is_help=True)
password_app = typer.Typer(
    help="Passwords for signing in to the web pages (argon2id hashes).", no_args_is_help=True
)
users_app.add_typer(token_app, name="token")
users_app.add_typer(client_app, name="client")
users_app.add_typer(password_app, name="password")

DaysOption = Annotated[
    int | None,
    typer.Option("--days", min=1, help="Lifetime in days (default GRIDCASE_TOKEN_TTL_DAYS, 90)"),
]


def _engine() -> Engine:
    return make_engine(settings().db_url, pool_size=1)


def _users() -> UserStore:
    return UserStore(_engine())


def _ttl(days: int | None) -> timedelta:
    return timedelta(days=days if days is not None else settings().token_ttl_days)


def _state(revoked_at: datetime | None, expires_at: datetime, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    return "expired" if expires_at <= now else "active"


@users_app.command("add")
def add(
    user_id: Annotated[str, typer.Argument(help="User id, e.g. gw-001")],
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(USER_ROLES)}")],
    unit: Annotated[
        list[str] | None, typer.Option(help="Org unit code (repeatable), see `users --help`")
    ] = None,
) -> None:
    """Add a user with a role and the org units he acts for."""
    try:
        user = _users().create_user(user_id, name, role, unit or [])
    except UserError as exc:
        fail(str(exc))
        raise
    units = ", ".join(user.units) or "-"
    console.print(f"user {user.id} ({user.role}) added; units {units}")


@users_app.command("list")
def list_users() -> None:
    """List users, their units and tokens (never the tokens themselves)."""
    table = Table()
    for column in ("id", "name", "role", "active", "units", "tokens (active/all)"):
        table.add_column(column)
    now = datetime.now().astimezone()
    for u in _users().list_users():
        active_tokens = sum(_state(t.revoked_at, t.expires_at, now) == "active" for t in u.tokens)
        table.add_row(
            u.id,
            u.name,
            u.role,
            "yes" if u.active else "no",
            ", ".join(u.units) or "-",
            f"{active_tokens}/{len(u.tokens)}",
        )
    console.print(table)


@users_app.command("deactivate")
def deactivate(user_id: Annotated[str, typer.Argument(help="User id")]) -> None:
    """Deactivate a user: every token and web session of his stops working at once."""
    try:
        _users().deactivate(user_id)
    except UserError as exc:
        fail(str(exc))
    console.print(f"user {user_id} deactivated")


@users_app.command("sign-out")
def sign_out(user_id: Annotated[str, typer.Argument(help="User id")]) -> None:
    """End every web session of a user (he must sign in again)."""
    ended = SessionStore(_engine(), SignInPolicy()).end_all(user_id)
    console.print(f"{ended} web session(s) of {user_id} ended")


@users_app.command("unlock")
def unlock(
    user_id: Annotated[str, typer.Argument(help="User id")],
    address: Annotated[
        str | None, typer.Option(help="Also clear the failed sign-ins of this client address")
    ] = None,
) -> None:
    """Clear a lock-out after failed sign-ins (of the user id, and of an address if given)."""
    with _engine().begin() as conn:
        done = conn.execute(
            delete(SignInThrottleRow).where(
                ((SignInThrottleRow.scope == "user") & (SignInThrottleRow.key == user_id))
                | ((SignInThrottleRow.scope == "address") & (SignInThrottleRow.key == address))
            )
        )
    console.print(f"failed sign-ins cleared ({done.rowcount} record(s))")


@password_app.command("set")
def set_password(user_id: Annotated[str, typer.Argument(help="User id")]) -> None:
    """Set or reset a user's password: asked twice at a terminal, else read as the first
    line of standard input. His open web sessions end."""
    if sys.stdin.isatty():
        password = typer.prompt(
            f"New password for {user_id} (at least {MIN_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    try:
        Passwords(_engine()).set(user_id, password)
    except UserError as exc:
        fail(str(exc))
    console.print(f"password of {user_id} set; his web sessions ended")


@token_app.command("issue")
def issue(
    user_id: Annotated[str, typer.Argument(help="User id")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'phone'")] = "",
    days: DaysOption = None,
) -> None:
    """Issue a bearer token; it is printed once and cannot be shown again."""
    try:
        issued = _users().issue_token(user_id, name, _ttl(days))
    except UserError as exc:
        fail(str(exc))
        raise
    # The note to stderr, the token alone to stdout: TOKEN=$(gridcase users token issue ID)
    err_console.print(
        f"token {issued.id} for {issued.owner}, expires {when(issued.expires_at)} "
        "(shown once, keep it safe):"
    )
    print(issued.secret)


@token_app.command("rotate")
def rotate(
    token_id: Annotated[str, typer.Argument(help="Token id (tok_…, see `users token list`)")],
    days: DaysOption = None,
    grace_minutes: Annotated[
        int,
        typer.Option(
            min=0, help="Let the old token work this many more minutes (0: revoke it now)"
        ),
    ] = 0,
) -> None:
    """Replace a token with a new one for the same user and purpose; the new one is printed
    once."""
    try:
        issued = _users().rotate_token(token_id, _ttl(days), timedelta(minutes=grace_minutes))
    except UserError as exc:
        fail(str(exc))
        raise
    old = f"works until {grace_minutes} min from now" if grace_minutes else "revoked"
    err_console.print(
        f"token {issued.id} for {issued.owner} replaces {token_id} ({old}), expires "
        f"{when(issued.expires_at)} (shown once, keep it safe):"
    )
    print(issued.secret)


@token_app.command("list")
def list_tokens(
    user_id: Annotated[str | None, typer.Argument(help="Only this user's tokens")] = None,
) -> None:
    """Tokens with their state and expiry (never the tokens themselves)."""
    table = Table()
    for column in ("id", "user", "name", "state", "created", "last used", "expires"):
        table.add_column(column)
    now = datetime.now().astimezone()
    users = _users()
    for u in users.list_users(ids=[user_id] if user_id else None):
        for t in u.tokens:
            table.add_row(
                t.id,
                u.id,
                t.name or "-",
                _state(t.revoked_at, t.expires_at, now),
                when(t.created_at),
                when(t.last_used_at),
                when(t.expires_at),
            )
    console.print(table)


@token_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="Token id (tok_…)")]) -> None:
    """Revoke a token by its id (see `users list`)."""
    try:
        _users().revoke_token(token_id)
    except UserError as exc:
        fail(str(exc))
    console.print(f"token {token_id} revoked")


@client_app.command("add")
def add_client(
    name: Annotated[str, typer.Argument(help="Client name, e.g. the app's name")],
) -> None:
    """Add an Open311 client; its api_key is printed once."""
    try:
        issued = _users().add_client(name)
    except UserError as exc:
        fail(str(exc))
        raise
    err_console.print(f"API client {issued.id} ({issued.owner}); api_key (shown once):")
    print(issued.secret)
