"""Everything random about one case, drawn when it arrives from its own random stream.

Each case draws from ``Random(f"{seed}:{index}")``, never from a stream shared with other
cases, so two runs with the same seed see the same cases with the same work, delays and
side paths whatever the staffing: only the queueing differs. That is what makes the
staffing search (``sim.staffing``) compare like with like (common random numbers), and it
lets the search skip the cases of other departments without shifting anyone's draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from domain.taxonomy import Category
from sim.arrivals import Arrival
from sim.config import SimConfig

MAX_REWORK = 2  # the third re-check passes: keeps every case finite


@dataclass(frozen=True, slots=True)
class CasePlan:
    public: bool  # hotline/web: verified on site before filing
    self_handled: bool
    self_handling_denied: bool
    refuted: bool
    rejected: bool
    condition: str
    wrong_department: str  # "" when dispatched right the first time
    extension: bool
    extension_denied: bool
    check_fails: tuple[bool, ...]  # per re-check, MAX_REWORK of them
    # Durations in seconds (center: wall clock; grid workers, departments: working time).
    acceptor: int
    verify: int
    file: int
    dispatch: int
    approve: int  # the dispatcher's answer to a return or extension request
    redispatch: int
    wrong_sign_for: int  # the wrong department's desk reads it and asks for a return
    sign_for: int
    handling: tuple[int, ...]  # first handling, then each rework
    checks: tuple[int, ...]
    close: int
    reply: int


def draw_plan(
    config: SimConfig,
    arrival: Arrival,
    category: Category,
    department: str,
    departments: list[str],
) -> CasePlan:
    rng = random.Random(f"{config.seed}:{arrival.index}")
    p = config.probability
    delay = config.delay
    urgent = config.urgent_center_factor if category.urgency.value == "urgent" else 1.0
    public = rng.random() < p("public")
    self_handled = rng.random() < p("self_handled") and category.self_handling and not public
    conditions = [c.id for c in category.conditions]
    weights = [config.condition_decay**i for i in range(len(conditions))]
    condition = rng.choices(conditions, weights=weights)[0] if sum(weights) else conditions[0]
    others = [d for d in departments if d != department]
    wrong = rng.random() < p("wrong_dispatch") and bool(others)
    wrong_department = rng.choice(others) if wrong else ""
    handling = config.handling_for(category.code)
    return CasePlan(
        public=public,
        self_handled=self_handled,
        self_handling_denied=rng.random() < p("self_handling_denied"),
        refuted=rng.random() < p("refuted"),
        rejected=rng.random() < p("rejected"),
        condition=condition,
        wrong_department=wrong_department,
        extension=rng.random() < p("extension"),
        extension_denied=rng.random() < p("extension_denied"),
        check_fails=tuple(rng.random() < p("rework") for _ in range(MAX_REWORK)),
        acceptor=delay("acceptor").seconds(rng, urgent),
        verify=delay("verify").seconds(rng),
        file=delay("shift_leader").seconds(rng, urgent),
        dispatch=delay("dispatcher").seconds(rng, urgent),
        approve=delay("approver").seconds(rng),
        redispatch=delay("dispatcher").seconds(rng, urgent),
        wrong_sign_for=delay("sign_for").seconds(rng),
        sign_for=delay("sign_for").seconds(rng),
        handling=(
            handling.seconds(rng),
            *(handling.seconds(rng, config.rework_factor) for _ in range(MAX_REWORK)),
        ),
        checks=tuple(delay("check").seconds(rng) for _ in range(MAX_REWORK + 1)),
        close=delay("shift_leader").seconds(rng),
        reply=delay("reply").seconds(rng),
    )
