"""Live updates for the pages: one listener per process, fanned out to its viewers.

The database announces every change of a case (``store.live``); one ``LiveHub`` per API
process listens on one connection and hands each change to the mailboxes of the viewers
who may see that case (``authz.covers``). A viewer's page learns only the ids of the
cases that changed and fetches again the part it shows, through the read models, within
its jurisdiction: no page polls the database, and a burst of changes is one message.

If the listening connection is lost, the hub reconnects with backoff and tells every
mailbox to refresh everything (``RESYNC``): changes committed meanwhile were not heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import psycopg
import structlog

from application.authz import covers
from store.live import CaseChange, changes
from store.users import Principal

log = structlog.get_logger(__name__)

RESYNC = "*"  # in a batch: refresh everything, changes may have been missed
MAX_IDS = 200  # a batch naming more cases than this is sent as RESYNC

Source = Callable[[str], AsyncIterator[CaseChange | None]]


@dataclass(eq=False)
class Mailbox:
    """One viewer's pending changes (case ids), collected until his page takes them."""

    who: Principal
    pending: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, case_id: str) -> None:
        if len(self.pending) < MAX_IDS:
            self.pending.add(case_id)
        else:
            self.pending = {RESYNC}
        self.ready.set()

    def take(self) -> list[str]:
        found, self.pending = self.pending, set()
        self.ready.clear()
        return [RESYNC] if RESYNC in found else sorted(found)

    async def wait(self, timeout: float) -> bool:
        """Whether changes are pending within ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        return self.ready.is_set()


class LiveHub:
    """The process's listener and its viewers' mailboxes. The listener starts with the
    first viewer; ``close`` stops it."""

    def __init__(self, dsn: str, *, source: Source = changes, backoff_max: float = 30.0) -> None:
        self.dsn = dsn
        self.source = source
        self.backoff_max = backoff_max
        self.mailboxes: set[Mailbox] = set()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.heard = 0  # changes received (for the bench and the logs)
        self.last_change = 0.0  # time.monotonic() of the latest (answers older are stale)

    def subscribe(self, who: Principal) -> Mailbox:
        box = Mailbox(who)
        self.mailboxes.add(box)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="live-hub")
        return box

    def unsubscribe(self, box: Mailbox) -> None:
        self.mailboxes.discard(box)

    def publish(self, change: CaseChange) -> None:
        self.heard += 1
        self.last_change = time.monotonic()
        for box in list(self.mailboxes):
            if covers(box.who, change):
                box.put(change.case_id)

    def _resync(self) -> None:
        self.last_change = time.monotonic()
        for box in list(self.mailboxes):
            box.put(RESYNC)

    async def _listen(self) -> None:
        delay, lost = 0.5, False
        while True:
            try:
                async for change in self.source(self.dsn):
                    if not self.connected.is_set():
                        self.connected.set()
                        log.info("live_listening", resync=lost)
                        if lost:
                            self._resync()
                        delay = 0.5
                    if change is not None:
                        self.publish(change)
            except (psycopg.Error, OSError) as exc:
                log.warning("live_connection_lost", error=str(exc), retry_in=delay)
            self.connected.clear()
            lost = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff_max)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
