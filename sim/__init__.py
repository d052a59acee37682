"""A discrete-event simulation of a district's case handling (`gridcase simulate`).

Cases run through the real decider (``domain.case.decide/evolve``), the real escalation
ladder (``domain.timers.next_timer``), the center's policy and the working calendar; only
the people are simulated: when reports arrive, how long the center, the grid workers and
the departments take, and which side paths a case takes. No Temporal, no database, no
wall clock: a heap of timed events and seeded random streams.

Modules: ``config`` (parameters and defaults), ``arrivals`` (the report process),
``clock`` (office windows as a fast lookup), ``plan`` (each case's pre-drawn randomness),
``engine`` (the event loop and departments), ``flow`` (what each actor does to a case),
``report`` (KPI tables from the event streams), ``charts`` (PNG), ``staffing`` (--target).
"""

from sim.config import SimConfig
from sim.engine import SimResult, simulate
from sim.report import summarize
from sim.staffing import StaffingAnswer, find_staffing

__all__ = ["SimConfig", "SimResult", "StaffingAnswer", "find_staffing", "simulate", "summarize"]
