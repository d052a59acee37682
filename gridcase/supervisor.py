"""Keep the children of `gridcase up` running: restart what dies, with backoff.

A child that ran for a while and died is restarted at once; one that keeps dying soon
after its start waits longer each time (1, 2, 4 … up to 30 s), so a broken setup does not
spin the machine. Each death and each restart is one structured log line.

The supervisor knows nothing of what a child is: PostgreSQL, the Temporal dev server,
the workers and the API all answer ``start``, ``running``, ``stop`` and ``pid``
(``workers.embedded``). Time comes in through ``clock``, so the backoff is tested
without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class Child(Protocol):
    name: str

    def start(self) -> None:
        """Start it (again); raise if it cannot be started."""

    def running(self) -> bool: ...

    def stop(self) -> None: ...

    def exit_status(self) -> str:
        """How it ended, for the log (a return code, a signal, "gone")."""

    @property
    def pid(self) -> int | None: ...


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0  # seconds before the second restart of a child that dies quickly
    cap: float = 30.0
    stable_after: float = 10.0  # a child that ran this long is restarted at once

    def delay(self, quick_failures: int) -> float:
        if quick_failures <= 0:
            return 0.0
        return float(min(self.cap, self.first * 2 ** (quick_failures - 1)))


@dataclass
class _Watch:
    child: Child
    started_at: float = 0.0
    quick_failures: int = 0
    restart_at: float | None = None  # set while a restart waits for its delay
    restarts: int = 0


@dataclass
class Supervisor:
    children: Sequence[Child]
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    _watches: list[_Watch] = field(init=False)

    def __post_init__(self) -> None:
        self._watches = [_Watch(child) for child in self.children]

    def start_all(self) -> None:
        """Start, in order, every child not running yet (a first start fails loudly)."""
        for watch in self._watches:
            if not watch.child.running():
                watch.child.start()
            watch.started_at = self.clock()

    def check(self) -> None:
        """Restart every child that died, or whose backoff delay has passed."""
        for watch in self._watches:
            now = self.clock()
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    self._restart(watch)
            elif not watch.child.running():
                self._died(watch, now)

    def _died(self, watch: _Watch, now: float) -> None:
        uptime = now - watch.started_at
        if uptime < self.backoff.stable_after:
            watch.quick_failures += 1
        else:
            watch.quick_failures = 0
        delay = self.backoff.delay(watch.quick_failures)
        log.warning(
            "child_died",
            child=watch.child.name,
            pid=watch.child.pid,
            exit=watch.child.exit_status(),
            uptime_s=round(uptime, 1),
            restart_in_s=delay,
            restarts=watch.restarts,
        )
        watch.restart_at = now + delay
        if delay == 0:
            self._restart(watch)

    def _restart(self, watch: _Watch) -> None:
        watch.restarts += 1
        try:
            watch.child.start()
        except Exception as exc:
            watch.quick_failures += 1
            delay = self.backoff.delay(watch.quick_failures)
            watch.restart_at = self.clock() + delay
            log.error(
                "child_restart_failed",
                child=watch.child.name,
                error=str(exc),
                retry_in_s=delay,
                restarts=watch.restarts,
            )
            return
        watch.restart_at = None
        watch.started_at = self.clock()
        log.warning(
            "child_restarted", child=watch.child.name, pid=watch.child.pid, restarts=watch.restarts
        )

    def stop_all(self) -> None:
        """Stop in the reverse order of starting: the API and workers before the servers."""
        for watch in reversed(self._watches):
            try:
                watch.child.stop()
            except Exception as exc:  # stop the others all the same
                log.error("child_stop_failed", child=watch.child.name, error=str(exc))
