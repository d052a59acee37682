"""What every `gridcase` sub-command shares: consoles, settings, the application service
and read models, the caller (`--as`), and refusals as one line.

The CLI is a front end like the API: it reports and acts through the application service
(``application.cases``) and reads through ``application.read_models``, as a principal
resolved from `--as` (``application.principals``); without `--as`, reads are the
operator's, who sees everything.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.service import RPCError

from application.cases import CaseService
from application.config import ConfigError, Settings
from application.errors import NotFound, ServiceError, Unavailable
from application.intake import Intake
from application.principals import OPERATOR, Principal, principal_as
from application.temporal import TemporalGateway, connect
from domain.errors import DomainError
from domain.roles import Actor
from store.db import make_engine
from store.users import UserStore

T = TypeVar("T")

# Wide enough for a timeline when the output is a pipe or a file; no wrapping of paths.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

AS_HELP = (
    "Who acts, as role:id\\[@unit], e.g. shift_leader:lead-01 or handler:h-07@sanitation. "
    "Roles: grid_worker, acceptor, shift_leader, dispatcher, handler, supervisor, leader. "
    "A registered user (`gridcase users`) acts with his role and units."
)
AsOption = Annotated[str, typer.Option("--as", help=AS_HELP)]
ReadAsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Read as role:id\\[@unit], within his jurisdiction (default: the operator, "
        "who sees everything)",
    ),
]


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
        raise


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def one_line(exc: Exception) -> str:
    """A refusal as the one line the CLI prints."""
    if isinstance(exc, Unavailable) and exc.code == "temporal_unavailable":
        return f"{exc.message}; is `gridcase up` running?"
    if isinstance(exc, NotFound | Unavailable):
        return exc.message
    if isinstance(exc, ServiceError | DomainError):
        return f"refused ({exc.code}): {exc.message}"
    if isinstance(exc, RPCError):
        return f"Temporal refused the call: {exc.message}"
    return str(exc)


@contextmanager
def refusals() -> Iterator[None]:
    """Refusals of the application, the domain and Temporal as one-line errors."""
    try:
        yield
    except (ServiceError, DomainError, RPCError, ConfigError) as exc:
        fail(one_line(exc))


def actor(text: str) -> Actor:
    try:
        return Actor.parse(text)
    except ValueError as exc:
        fail(str(exc))
        raise


@cache
def engine() -> Engine:
    """The database of this command (one pool for all it does)."""
    return make_engine(settings().db_url, pool_size=2)


@cache
def intake() -> Intake:
    """Rules, grids and routing as imported now (loaded once per command)."""
    with refusals():
        return Intake.load(settings(), engine())
    raise AssertionError("unreachable")


def fresh() -> None:
    """Forget the engine and intake of an earlier command run in this process (tests run
    many; settings and reference data may differ between them)."""
    if engine.cache_info().currsize:
        engine().dispose()
    engine.cache_clear()
    intake.cache_clear()


class _Loaded:
    """The intake of this command, loaded on first need."""

    def get(self) -> Intake:
        return intake()


def service() -> CaseService:
    return CaseService(engine(), _Loaded(), TemporalGateway(settings()))


def principal(text: str | None) -> Principal:
    """The caller behind `--as` (the operator when it is not given)."""
    if not text:
        return OPERATOR
    with refusals():
        return principal_as(text, UserStore(engine()), intake().district)
    raise AssertionError("unreachable")


def run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` (a use case of the application service) to its end; a refusal is one
    line and exit status 2."""
    with refusals():
        return asyncio.run(work())
    raise AssertionError("unreachable")


def run_with_client(work: Callable[[Client], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` with a Temporal client (`gridcase demo` drives the engine directly)."""

    async def main() -> T:
        return await work(await connect(settings()))

    return run(main)


def database_down(exc: Exception) -> str:
    s = settings()
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if s.database_url:
        return f"PostgreSQL at DATABASE_URL does not answer ({reason}); check that server"
    return (
        f"the embedded PostgreSQL in {s.pg_dir} does not answer ({reason}); start the "
        f"stack with `gridcase up` (GRIDCASE_HOME={s.home})"
    )
