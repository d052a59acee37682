"""What every `gridcase` sub-command shares: consoles, settings, errors, Temporal."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from temporalio.client import Client
from temporalio.service import RPCError

from domain.errors import DomainError
from domain.roles import Actor
from gridcase.config import ConfigError, Settings
from store.db import make_engine
from store.event_store import EventStore
from workflows import client as cases
from workflows.converter import connect as temporal_connect

if TYPE_CHECKING:
    from gridcase.intake import Intake

T = TypeVar("T")

# Wide enough for a timeline when the output is a pipe or a file; no wrapping of paths.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

AsOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who acts, as role:id\\[@unit], e.g. shift_leader:lead-01 or handler:h-07@sanitation. "
        "Roles: grid_worker, acceptor, shift_leader, dispatcher, handler, supervisor.",
    ),
]


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
        raise


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def actor(text: str) -> Actor:
    try:
        return Actor.parse(text)
    except ValueError as exc:
        fail(str(exc))
        raise


async def connect(s: Settings) -> Client:
    try:
        return await temporal_connect(s.temporal_target, namespace=s.temporal_namespace)
    except RuntimeError as exc:
        fail(f"cannot reach Temporal at {s.temporal_target} ({exc}); is `gridcase up` running?")
        raise


def run(work: Callable[[Client], Awaitable[T]]) -> T:
    """Connect to Temporal, run ``work``, and turn refusals into clear one-line errors."""

    async def main() -> T:
        return await work(await connect(settings()))

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(f"refused ({exc.code}): {exc.message}")
    except (cases.CaseNotFound, cases.DuplicateReport) as exc:
        fail(str(exc))
    except RPCError as exc:
        fail(f"Temporal refused the call: {exc.message}")
    raise AssertionError("unreachable")


def store() -> EventStore:
    return EventStore(make_engine(settings().db_url, pool_size=2))


def intake() -> Intake:
    from gridcase.intake import Intake

    s = settings()
    try:
        return Intake.load(s, make_engine(s.db_url, pool_size=1))
    except ConfigError as exc:
        fail(str(exc))
        raise
