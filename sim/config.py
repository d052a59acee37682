"""Parameters of a simulation run, their defaults, and the JSON form (``--config FILE``).

Every duration is a lognormal distribution given by its median (minutes) and sigma (the
standard deviation of its logarithm): work times are positive and right-skewed, a few
cases take many times the typical one. Durations of department staff and grid workers
count in working time (office windows of working days, see ``sim.clock``); the center
(acceptor, shift leader, dispatcher) is staffed around the clock, so its delays are
wall-clock time.

Maps keyed by category or department take "*" as the default. Category maps are matched
by the longest prefix of the code, as routing does: "E0101", then "E01", then "E", then "*".
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any, TypeVar

from domain.calendar import TimeLimit

QUEUES = ("fifo", "edf")
_V = TypeVar("_V")


@dataclass(frozen=True)
class Lognormal:
    """A positive duration: median ``median_minutes``, log-sd ``sigma``."""

    median_minutes: float
    sigma: float

    def __post_init__(self) -> None:
        if not (self.median_minutes > 0 and math.isfinite(self.median_minutes)):
            raise ValueError(f"median_minutes must be > 0, got {self.median_minutes!r}")
        if not 0 <= self.sigma <= 3:
            raise ValueError(f"sigma must be in [0, 3], got {self.sigma!r}")

    def seconds(self, rng: random.Random, factor: float = 1.0) -> int:
        # Whole seconds keep the event times exact and the output byte-for-byte stable.
        minutes = rng.lognormvariate(math.log(self.median_minutes), self.sigma)
        return max(1, round(minutes * 60 * factor))

    @property
    def mean_minutes(self) -> float:
        return self.median_minutes * math.exp(self.sigma**2 / 2)

    def to_dict(self) -> dict[str, float]:
        return {"median_minutes": self.median_minutes, "sigma": self.sigma}


def _ln(median: float, sigma: float) -> Lognormal:
    return Lognormal(median, sigma)


# Reports per hour of the day, relative: a morning and a late-afternoon peak (patrols and
# people on their way to and from work), few at night (hotline calls only).
DEFAULT_HOURLY = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.25, 0.6, 1.2, 1.9, 2.2, 2.0, 1.6,
    1.0, 1.0, 1.5, 1.9, 2.1, 1.8, 1.2, 0.8, 0.6, 0.45, 0.3, 0.2,
)  # fmt: skip

# How often each kind of problem is reported, relative (longest code prefix wins).
# Street order and city appearance dominate the patrol reports of a district; component
# faults are rarer, emergencies rare.
DEFAULT_CATEGORY_WEIGHTS: dict[str, float] = {
    "*": 1.0,
    "C01": 0.5,
    "C0110": 2.0,  # street lamps
    "C03": 2.0,
    "E01": 2.5,
    "E0101": 10.0,  # exposed garbage
    "E0102": 5.0,  # dirty road
    "E02": 2.5,
    "E0201": 6.0,  # flyers
    "E04": 0.2,
    "E05": 3.0,
    "E0501": 6.0,  # street vendors
    "E0504": 7.0,  # shared bikes
}

# Hands-on work per case (travel included), working time of one department handler.
DEFAULT_HANDLING: dict[str, Lognormal] = {
    "*": _ln(90, 0.6),
    "C01": _ln(120, 0.7),  # covers, lamps, cables: a crew and parts
    "C02": _ln(120, 0.7),  # road surface and signs
    "C03": _ln(45, 0.5),
    "C04": _ln(120, 0.6),
    "E01": _ln(45, 0.6),  # cleaning, removing
    "E0103": _ln(240, 0.8),  # illegal construction: notices, measurements
    "E02": _ln(30, 0.5),
    "E03": _ln(90, 0.6),
    "E04": _ln(45, 0.6),  # emergencies: made safe first, repaired later
    "E05": _ln(40, 0.6),
    # Wall-clock limits of 1-2 hours: a warning, a ticket, a stop order.
    "E0105": _ln(30, 0.5),
    "E0302": _ln(30, 0.5),
    "E0303": _ln(40, 0.5),
    "E0503": _ln(20, 0.5),
    "E0505": _ln(30, 0.5),
}

DEFAULT_DELAYS: dict[str, Lognormal] = {
    # Center, wall clock (staffed 24x7): from the case reaching the desk to the step.
    "acceptor": _ln(6, 0.5),  # request a verification, review a self-handling
    "shift_leader": _ln(8, 0.5),  # file, reject, close
    "dispatcher": _ln(8, 0.5),  # dispatch, re-dispatch after a return
    "approver": _ln(30, 0.7),  # answer an extension or return request
    # Grid workers, working time: walk to the place, look, photograph.
    "verify": _ln(35, 0.6),
    "check": _ln(50, 0.6),
    # Department desk, working time: sign for (签收) and answer a 督办.
    "sign_for": _ln(12, 0.7),
    "reply": _ln(90, 0.6),
}

DEFAULT_PROBABILITIES: dict[str, float] = {
    "public": 0.25,  # a hotline/web report (needs verification on site) not a patrol's
    "self_handled": 0.3,  # of patrol reports whose category allows 自行处置
    "self_handling_denied": 0.05,  # the center refuses a self-handling
    "refuted": 0.08,  # of public reports: nothing found on site
    "rejected": 0.04,  # does not meet any filing condition: 不予立案
    "wrong_dispatch": 0.03,  # sent to another department, which returns it (回退)
    "extension": 0.05,  # the handler asks for more time (延期)
    "extension_denied": 0.2,  # of extension requests
    "rework": 0.06,  # a re-check finds it not fixed (返工), per check
}

# Office handlers per department, sized for roughly 70% utilization at the default load
# (400 reports a working day): the default run is a district that mostly copes.
DEFAULT_HANDLERS: dict[str, int] = {
    "*": 1,
    "urban_law_enforcement": 30,
    "sanitation": 20,
    "municipal_roads": 14,
    "landscaping": 5,
    "housing_construction": 4,
    "street_lighting": 4,
    "traffic_police": 4,
    "market_regulation": 3,
    "public_transport": 3,
    "street_office": 2,
    "telecom": 2,
    "water_supply": 2,
}
# 24x7 crews for cases whose disposal limit runs on the wall clock.
DEFAULT_ON_CALL: dict[str, int] = {
    "*": 1,
    "urban_law_enforcement": 3,
    "drainage": 2,
    "municipal_roads": 2,
    "traffic_police": 2,
}


@dataclass(frozen=True)
class SimConfig:
    days: int = 30
    seed: int = 1
    start: str = "2025-03-03"  # a Monday; local date in the calendar's zone
    reports_per_day: float = 400.0  # mean on an ordinary working day
    weekend_factor: float = 0.6  # arrivals on weekends ...
    holiday_factor: float = 0.45  # ... and public holidays, relative to a working day
    hourly_profile: tuple[float, ...] = DEFAULT_HOURLY
    category_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CATEGORY_WEIGHTS)
    )
    # The first filing condition of a category is the common one; each further one is
    # this much rarer than the one before it.
    condition_decay: float = 0.35
    handlers: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HANDLERS))
    # 24x7 crew per department for cases whose disposal limit runs on the wall clock
    # (紧急工作时, hours): nobody else works at night.
    on_call: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ON_CALL))
    queue: str = "fifo"
    handling: dict[str, Lognormal] = field(default_factory=lambda: dict(DEFAULT_HANDLING))
    delays: dict[str, Lognormal] = field(default_factory=lambda: dict(DEFAULT_DELAYS))
    probabilities: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PROBABILITIES))
    rework_factor: float = 0.5  # a rework takes this share of a fresh handling time
    urgent_center_factor: float = 0.5  # the center acts this much faster on urgent cases
    extension_amount: str = "1 working_days"

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 366:
            raise ValueError(f"days must be 1..366, got {self.days}")
        date.fromisoformat(self.start)
        if not self.reports_per_day > 0:
            raise ValueError("reports_per_day must be > 0")
        if len(self.hourly_profile) != 24 or min(self.hourly_profile) < 0:
            raise ValueError("hourly_profile needs 24 non-negative weights")
        if self.queue not in QUEUES:
            raise ValueError(f"queue must be one of {', '.join(QUEUES)}, got {self.queue!r}")
        for name, p in self.probabilities.items():
            if name not in DEFAULT_PROBABILITIES:
                raise ValueError(
                    f"unknown probability {name!r}; known: {_known(DEFAULT_PROBABILITIES)}"
                )
            if not 0 <= p <= 1:
                raise ValueError(f"probability {name} must be in [0, 1], got {p}")
        for name in self.delays:
            if name not in DEFAULT_DELAYS:
                raise ValueError(f"unknown delay {name!r}; known: {_known(DEFAULT_DELAYS)}")
        for what, counts in (("handlers", self.handlers), ("on_call", self.on_call)):
            if any(n < 0 for n in counts.values()):
                raise ValueError(f"{what} counts must not be negative")
        if min(self.weekend_factor, self.holiday_factor, self.condition_decay) < 0:
            raise ValueError("factors must not be negative")
        TimeLimit.parse(self.extension_amount)

    def probability(self, name: str) -> float:
        return self.probabilities.get(name, DEFAULT_PROBABILITIES[name])

    def delay(self, name: str) -> Lognormal:
        return self.delays.get(name, DEFAULT_DELAYS[name])

    def handling_for(self, category: str) -> Lognormal:
        return by_prefix(self.handling, category)

    def category_weight(self, category: str) -> float:
        return by_prefix(self.category_weights, category)

    def handlers_for(self, department: str) -> int:
        return self.handlers.get(department, self.handlers.get("*", 0))

    def on_call_for(self, department: str) -> int:
        return self.on_call.get(department, self.on_call.get("*", 0))

    def with_handlers(self, changes: Mapping[str, int]) -> SimConfig:
        return replace(self, handlers={**self.handlers, **changes})

    # JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("handling", "delays"):
                value = {k: v.to_dict() for k, v in sorted(value.items())}
            elif isinstance(value, dict):
                value = dict(sorted(value.items()))
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: SimConfig | None = None) -> SimConfig:
        """``base`` (the defaults) with ``data`` laid over it; maps merge key by key."""
        base = base or cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        changes: dict[str, Any] = {}
        for name, value in data.items():
            current = getattr(base, name)
            if name in ("handling", "delays"):
                parsed = {k: Lognormal(**v) for k, v in dict(value).items()}
                changes[name] = {**current, **parsed}
            elif isinstance(current, dict):
                changes[name] = {**current, **dict(value)}
            elif isinstance(current, tuple):
                changes[name] = tuple(float(v) for v in value)
            else:
                changes[name] = type(current)(value)
        return replace(base, **changes)


def by_prefix(table: Mapping[str, _V], code: str) -> _V:
    """The value of the longest key that prefixes ``code``, else the "*" default."""
    for n in range(len(code), 0, -1):
        if code[:n] in table:
            return table[code[:n]]
    return table["*"]


def _known(table: Mapping[str, Any]) -> str:
    return ", ".join(sorted(table))
