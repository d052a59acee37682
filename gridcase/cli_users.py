"""`gridcase users …`: the people who use the API, their units and tokens; Open311 clients.

Tokens and API keys are printed once, when issued; only their hashes are stored.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gridcase.cli_common import console, err_console, fail, settings
from store.auth_models import USER_ROLES
from store.db import make_engine
from store.users import UserError, UserStore

users_app = typer.Typer(
    help="Users of the HTTP API (role and org units), their bearer tokens, and Open311 "
    "client keys.\n\nUnits by role: grid_worker — 15-digit unit grids he patrols; handler — "
    "his department code; supervisor/leader — 6/9/12-digit district/street/community codes; "
    "center staff — the 6-digit district (optional).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
token_app = typer.Typer(help="Bearer tokens (Authorization: Bearer …).", no_args_is_help=True)
client_app = typer.Typer(help="Open311 API clients (citizen apps).", no_args_is_help=True)
users_app.add_typer(token_app, name="token")
users_app.add_typer(client_app, name="client")


def _users() -> UserStore:
    return UserStore(make_engine(settings().db_url, pool_size=1))


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
    for u in _users().list_users():
        active_tokens = sum(t.revoked_at is None for t in u.tokens)
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
    """Deactivate a user: every token of his stops working at once."""
    try:
        _users().deactivate(user_id)
    except UserError as exc:
        fail(str(exc))
    console.print(f"user {user_id} deactivated")


@token_app.command("issue")
def issue(
    user_id: Annotated[str, typer.Argument(help="User id")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'phone'")] = "",
) -> None:
    """Issue a bearer token; it is printed once and cannot be shown again."""
    try:
        issued = _users().issue_token(user_id, name)
    except UserError as exc:
        fail(str(exc))
        raise
    # The note to stderr, the token alone to stdout: TOKEN=$(gridcase users token issue ID)
    err_console.print(f"token {issued.id} for {issued.owner} (shown once, keep it safe):")
    print(issued.secret)


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
