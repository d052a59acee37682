"""What each person does to a case, and when: the steps of the closed loop as the engine's
callbacks. Every step gives the decider a real command; timing and side paths come from
the case's plan (``sim.plan``). A step only acts when the case is where the step expects
it (a 督办 reply after the case moved on is simply not given), so nothing is forced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import commands as c
from domain.case import initial_state
from domain.roles import Actor, Role
from domain.stages import Stage
from sim.arrivals import Arrival
from sim.plan import MAX_REWORK, draw_plan

if TYPE_CHECKING:
    from sim.engine import Engine, Pool, SimCase

ACCEPTOR = Actor(id="sim-acceptor", role=Role.ACCEPTOR)
SHIFT_LEADER = Actor(id="sim-shift-leader", role=Role.SHIFT_LEADER)
DISPATCHER = Actor(id="sim-dispatcher", role=Role.DISPATCHER)
REPLY_STAGES = frozenset({Stage.SIGN_FOR, Stage.HANDLE, Stage.CHECK, Stage.CLOSE})


def grid_worker(case: SimCase) -> Actor:
    grid = case.arrival.grid
    worker = case_worker_id(grid)
    return Actor(id=worker, role=Role.GRID_WORKER, unit=grid)


def case_worker_id(grid: str) -> str:
    return f"W{grid}"  # the demo district's one worker per grid (generate_demo_district)


def desk(department: str) -> Actor:
    return Actor(id=f"{department}-desk", role=Role.HANDLER, unit=department)


def arrive(engine: Engine, arrival: Arrival, ts: int) -> None:
    from sim.engine import SimCase

    category = engine.taxonomy.category(arrival.category)
    department = engine.router.route(arrival.category, arrival.grid).department
    if engine.only is not None and department not in engine.only:
        return
    plan = draw_plan(engine.config, arrival, category, department, engine.departments)
    case_id = f"sim-{arrival.index:06d}"
    case = SimCase(
        case_id=case_id,
        arrival=arrival,
        plan=plan,
        department=department,
        rules=engine.rules[arrival.category],
        state=initial_state(case_id),
        commands=[] if engine.record else None,
    )
    engine.cases.append(case)
    description = f"{category.name_zh} {category.name_en} (simulated)"

    def report(actor: Actor, **extra: Any) -> c.ReportCase:
        return c.ReportCase(
            actor=actor,
            category=arrival.category,
            grid=arrival.grid,
            description=description,
            rules=case.rules,
            **extra,
        )

    if plan.public:
        engine.act(case, report(ACCEPTOR, source="hotline_12345"), ts)
        engine.at(ts + plan.acceptor, request_verification, case)
    elif plan.self_handled:
        result = "fixed on the spot (simulated)"
        engine.act(
            case, report(grid_worker(case), self_handled=True, self_handling_result=result), ts
        )
        engine.at(ts + plan.acceptor, review_self_handling, case)
    else:
        engine.act(case, report(grid_worker(case)), ts)
        engine.at(ts + plan.file, file_or_reject, case)


def review_self_handling(engine: Engine, case: SimCase, ts: int) -> None:
    if not case.plan.self_handling_denied:
        engine.act(case, c.ReviewSelfHandling(actor=ACCEPTOR, approve=True), ts)
        return
    note = "photos do not show it fixed"
    engine.act(case, c.ReviewSelfHandling(actor=ACCEPTOR, approve=False, note=note), ts)
    engine.at(ts + case.plan.file, file_or_reject, case)


def request_verification(engine: Engine, case: SimCase, ts: int) -> None:
    worker = case_worker_id(case.arrival.grid)
    engine.act(case, c.RequestVerification(actor=ACCEPTOR, assignee=worker), ts)
    engine.at(engine.clock.add_work(ts, case.plan.verify), verify, case)


def verify(engine: Engine, case: SimCase, ts: int) -> None:
    confirmed = not case.plan.refuted
    note = "" if confirmed else "nothing found on site"
    engine.act(
        case, c.RecordVerification(actor=grid_worker(case), confirmed=confirmed, note=note), ts
    )
    engine.at(ts + case.plan.file, file_or_reject, case)


def file_or_reject(engine: Engine, case: SimCase, ts: int) -> None:
    plan = case.plan
    if plan.rejected or (plan.public and plan.refuted):
        reason = "refuted on site" if plan.refuted and plan.public else "no filing condition met"
        engine.act(case, c.RejectCase(actor=SHIFT_LEADER, reason=reason), ts)
        return
    engine.act(case, c.FileCase(actor=SHIFT_LEADER, condition=plan.condition), ts)
    limit = case.rules.conditions[plan.condition]
    case.wall_clock = not limit.unit.is_working and limit.unit.value != "calendar_days"
    engine.at(ts + plan.dispatch, dispatch, case)


def dispatch(engine: Engine, case: SimCase, ts: int) -> None:
    plan = case.plan
    wrong = plan.wrong_department and not case.returned
    department = plan.wrong_department if wrong else case.department
    command = c.DispatchCase(
        actor=DISPATCHER, department=department, suggested_department=case.department
    )
    engine.act(case, command, ts)
    if wrong:
        engine.at(engine.desk_time(case, ts, plan.wrong_sign_for), request_return, case)
    else:
        engine.at(engine.desk_time(case, ts, plan.sign_for), sign_for, case)


def request_return(engine: Engine, case: SimCase, ts: int) -> None:
    actor = desk(case.state.department)
    engine.act(case, c.RequestReturn(actor=actor, reason="not our remit (simulated)"), ts)
    engine.at(ts + case.plan.approve, decide_return, case)


def decide_return(engine: Engine, case: SimCase, ts: int) -> None:
    engine.act(case, c.DecideReturn(actor=DISPATCHER, approve=True), ts)
    case.returned = True
    engine.at(ts + case.plan.redispatch, dispatch, case)


def sign_for(engine: Engine, case: SimCase, ts: int) -> None:
    engine.act(case, c.SignFor(actor=desk(case.department)), ts)
    engine.pool_for(case, case.department).enqueue(case, ts)


def start_work(engine: Engine, case: SimCase, pool: Pool, number: int, ts: int) -> None:
    plan, state = case.plan, case.state
    case.handler = f"{pool.department}-{pool.kind}-{number:02d}"
    handler = Actor(id=case.handler, role=Role.HANDLER, unit=pool.department)
    # A handler sees early whether the time is enough; one extension at most, first round.
    if (
        plan.extension
        and case.cycle == 0
        and state.extension_count < state.rules.extensions_allowed
    ):
        amount = engine.config.extension_amount
        engine.act(
            case,
            c.RequestExtension(actor=handler, reason="more work than it looked", amount=amount),
            ts,
        )
        engine.at(ts + plan.approve, decide_extension, case)
    done = pool.finish_time(ts, plan.handling[case.cycle])
    case.jobs.append((case.queued_at, ts, done, case.handler))

    def finished(engine: Engine, case: SimCase, now: int) -> None:
        pool.release(number, now)
        case.work_done = True
        if case.state.pending is None:  # else the answer to the request comes first
            feedback(engine, case, now)

    engine.at(done, finished, case)


def decide_extension(engine: Engine, case: SimCase, ts: int) -> None:
    if case.plan.extension_denied:
        command = c.DecideExtension(actor=DISPATCHER, approve=False, note="the limit is enough")
    else:
        command = c.DecideExtension(actor=DISPATCHER, approve=True)
    engine.act(case, command, ts)
    if case.work_done:
        feedback(engine, case, ts)


def feedback(engine: Engine, case: SimCase, ts: int) -> None:
    case.work_done = False
    handler = Actor(id=case.handler, role=Role.HANDLER, unit=case.department)
    engine.act(case, c.SubmitFeedback(actor=handler, result="done (simulated)"), ts)
    engine.at(engine.clock.add_work(ts, case.plan.checks[case.cycle]), check, case)


def check(engine: Engine, case: SimCase, ts: int) -> None:
    plan = case.plan
    passed = case.cycle >= MAX_REWORK or not plan.check_fails[case.cycle]
    note = "" if passed else "still not fixed"
    engine.act(case, c.RecordClosureCheck(actor=grid_worker(case), passed=passed, note=note), ts)
    if passed:
        engine.at(ts + plan.close, close, case)
        return
    case.cycle += 1  # 返工: straight back into the same department's queue
    engine.pool_for(case, case.department).enqueue(case, ts)


def close(engine: Engine, case: SimCase, ts: int) -> None:
    engine.act(case, c.CloseCase(actor=SHIFT_LEADER), ts)


def reply(engine: Engine, case: SimCase, ts: int) -> None:
    state = case.state
    if state.supervision_pending and state.stage in REPLY_STAGES and not state.is_terminal:
        actor = desk(state.department)
        engine.act(case, c.ReplyToSupervision(actor=actor, reply="on it (simulated)"), ts)
