"""The supervisor of `gridcase up`: restarts, backoff, log lines (fake children, fake
clock; the real processes are killed in tests/integration/test_self_healing.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import structlog.testing

from gridcase.supervisor import Backoff, Supervisor


@dataclass
class FakeChild:
    name: str
    alive: bool = False
    starts: int = 0
    fail_starts: int = 0  # this many starts raise before one succeeds
    stopped: bool = False
    log: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.starts += 1
        if self.fail_starts > 0:
            self.fail_starts -= 1
            raise RuntimeError("port taken")
        self.alive = True
        self.log.append(f"start {self.name}")

    def running(self) -> bool:
        return self.alive

    def stop(self) -> None:
        self.stopped = True
        self.alive = False
        self.log.append(f"stop {self.name}")

    def exit_status(self) -> str:
        return "killed by SIGKILL"

    @property
    def pid(self) -> int | None:
        return 100 + self.starts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def supervise(clock: Clock, *children: FakeChild) -> Supervisor:
    sup = Supervisor(list(children), Backoff(first=1, cap=8, stable_after=10), clock=clock)
    sup.start_all()
    return sup


def test_a_child_that_ran_a_while_is_restarted_at_once_with_log_lines(clock: Clock) -> None:
    worker = FakeChild("worker-disposal")
    sup = supervise(clock, worker)
    clock.now += 60
    worker.alive = False
    with structlog.testing.capture_logs() as logs:
        sup.check()
    assert worker.alive and worker.starts == 2
    died, restarted = logs
    assert died["event"] == "child_died" and died["child"] == "worker-disposal"
    assert died["restart_in_s"] == 0 and died["exit"] == "killed by SIGKILL"
    assert restarted["event"] == "child_restarted" and restarted["restarts"] == 1


def test_a_child_dying_at_start_waits_longer_each_time_and_is_restarted(clock: Clock) -> None:
    api = FakeChild("api")
    sup = supervise(clock, api)
    delays = []
    for _ in range(6):
        clock.now += 1  # dies a second after each start
        api.alive = False
        with structlog.testing.capture_logs() as logs:
            sup.check()
        delay = logs[0]["restart_in_s"]
        delays.append(delay)
        starts = api.starts
        clock.now += delay - 0.01
        sup.check()
        assert api.starts == starts  # not before its delay
        clock.now += 0.01
        sup.check()
        assert api.alive and api.starts == starts + 1  # and then it is restarted
    assert delays == [1, 2, 4, 8, 8, 8]


def test_a_stable_run_resets_the_backoff(clock: Clock) -> None:
    api = FakeChild("api")
    sup = supervise(clock, api)
    for _ in range(3):
        clock.now += 1
        api.alive = False
        sup.check()
        clock.now += 10
        sup.check()
    clock.now += 60  # ran well this time
    api.alive = False
    with structlog.testing.capture_logs() as logs:
        sup.check()
    assert logs[0]["restart_in_s"] == 0 and api.alive


def test_a_failed_restart_is_tried_again_later(clock: Clock) -> None:
    temporal = FakeChild("temporal")
    sup = supervise(clock, temporal)
    clock.now += 60
    temporal.alive = False
    temporal.fail_starts = 2
    with structlog.testing.capture_logs() as logs:
        sup.check()
    assert [entry["event"] for entry in logs] == ["child_died", "child_restart_failed"]
    assert not temporal.alive
    clock.now += 1
    sup.check()  # fails again, waits 2 s
    assert not temporal.alive and temporal.starts == 3
    clock.now += 2
    sup.check()
    assert temporal.alive and temporal.starts == 4


def test_only_what_is_not_running_is_started_and_stop_is_in_reverse(clock: Clock) -> None:
    order: list[str] = []
    postgres = FakeChild("postgres", alive=True, log=order)  # started before, by `up`
    worker = FakeChild("worker-cases", log=order)
    api = FakeChild("api", log=order)
    sup = supervise(clock, postgres, worker, api)
    assert postgres.starts == 0 and worker.starts == 1 and api.starts == 1
    sup.stop_all()
    assert order == [
        "start worker-cases",
        "start api",
        "stop api",
        "stop worker-cases",
        "stop postgres",
    ]
