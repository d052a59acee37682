"""Evaluation (综合评价) from hand-built event streams, with every number computed by hand.

Streams are produced by the real decider (decide/evolve) under wall-clock rules, so all
deadlines are plain arithmetic: verify 30 min, dispatch 30 min, sign for 1 h, disposal
(the handle limit) 4 h, check 2 h, close 1 h. Times are minutes after T0 (2026-11-27
09:00 UTC, a Friday); periods are cut in UTC unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import commands as c
from domain import events as e
from domain.case import CaseState, decide, evolve, initial_state
from domain.kpi import (
    KpiRow,
    ObjectKind,
    PeriodKind,
    Ratio,
    evaluate_facts,
    grade,
    period_of,
    periods_between,
)
from domain.kpi_facts import CaseFacts, case_facts
from domain.rules import CaseRules
from domain.stages import SupervisionLevel
from tests.factories import (
    ACCEPTOR,
    DEPT,
    DISPATCHER,
    GRID,
    HANDLER,
    LEADER,
    OTHER_HANDLER,
    OTHER_WORKER,
    SUPERVISOR,
    T0,
    WORKER,
    report,
)

RULES = CaseRules.from_dict(
    dict(
        stage_limits={
            "verify": "30 minutes",
            "dispatch": "30 minutes",
            "sign_for": "1 hours",
            "handle": "4 hours",
            "check": "2 hours",
            "close": "1 hours",
        }
    )
)
ROADS = "roads"
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
APPROX = pytest.approx


class Story:
    """One case driven through the decider; ``at(m, command)`` acts m minutes after start."""

    def __init__(self, case_id: str, start: datetime = T0) -> None:
        self.state: CaseState = initial_state(case_id)
        self.start = start
        self.events: list[e.Event] = []

    def at(self, minute: float, command: c.Command) -> Story:
        for event in decide(self.state, command, self.start + timedelta(minutes=minute)):
            self.state = evolve(self.state, event)
            self.events.append(event)
        return self

    @property
    def facts(self) -> CaseFacts:
        facts = case_facts(self.events)
        assert facts is not None
        return facts


def file_(minute: float, story: Story) -> Story:
    return story.at(minute, c.FileCase(actor=LEADER))


def dispatch(minute: float, story: Story, department: str = DEPT) -> Story:
    return story.at(minute, c.DispatchCase(actor=DISPATCHER, department=department))


def check(minute: float, story: Story, passed: bool = True) -> Story:
    note = "clean now" if passed else "still dirty"
    return story.at(minute, c.RecordClosureCheck(actor=WORKER, passed=passed, note=note))


def feedback(minute: float, story: Story, handler: object = HANDLER) -> Story:
    return story.at(minute, c.SubmitFeedback(actor=handler, result="cleared"))  # type: ignore[arg-type]


def story_a() -> Story:
    """Main line, everything on time."""
    s = Story("a").at(0, report(rules=RULES))
    file_(10, s)
    dispatch(20, s)  # disposal due at 260
    s.at(30, c.SignFor(actor=HANDLER))
    feedback(100, s)  # check due 220
    check(120, s)  # close due 180
    return s.at(130, c.CloseCase(actor=LEADER))


def story_b() -> Story:
    """Filed late, reworked once, the second feedback late."""
    s = Story("b").at(0, report(rules=RULES))
    file_(40, s)  # verify stage due at 30: late
    dispatch(50, s)  # due 290
    s.at(60, c.SignFor(actor=HANDLER))
    feedback(100, s)  # check due 220
    check(150, s, passed=False)  # rework: disposal due 150 + 240 = 390
    feedback(400, s)  # late; check due 520
    check(410, s)
    return s.at(420, c.CloseCase(actor=LEADER))


def story_c() -> Story:
    """Extended by 2 h (due 260 -> 380), fed back in time, a yellow card, never checked."""
    s = Story("c").at(0, report(rules=RULES))
    file_(10, s)
    dispatch(20, s)
    s.at(30, c.SignFor(actor=HANDLER))
    s.at(40, c.RequestExtension(actor=HANDLER, reason="needs a truck", amount="2 hours"))
    s.at(50, c.DecideExtension(actor=DISPATCHER, approve=True))
    s.at(60, c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.YELLOW, message="hurry"))
    return feedback(300, s)  # check due 420, never done


def story_d() -> Story:
    """Dispatched to roads, returned, re-dispatched to sanitation, closed on time."""
    s = Story("d").at(0, report(rules=RULES))
    file_(10, s)
    dispatch(20, s, ROADS)
    s.at(25, c.SignFor(actor=OTHER_HANDLER))
    s.at(30, c.RequestReturn(actor=OTHER_HANDLER, reason="not ours"))
    s.at(35, c.DecideReturn(actor=DISPATCHER, approve=True))
    dispatch(40, s)  # due 280
    s.at(45, c.SignFor(actor=HANDLER))
    feedback(100, s)
    check(120, s)
    return s.at(130, c.CloseCase(actor=LEADER))


def story_e() -> Story:
    """Rejected (不予立案): not a valid report."""
    return Story("e").at(0, report(rules=RULES)).at(10, c.RejectCase(actor=LEADER, reason="no"))


def story_f() -> Story:
    """A hotline report, verified on time by gw-002, filed late, with roads and untouched."""
    s = Story("f").at(0, report(rules=RULES, actor=ACCEPTOR, source="hotline_12345"))
    s.at(5, c.RequestVerification(actor=ACCEPTOR, assignee=OTHER_WORKER.id))  # due 35
    s.at(20, c.RecordVerification(actor=OTHER_WORKER, confirmed=True))
    file_(35, s)  # verify stage due 30: late
    return dispatch(40, s, ROADS)  # due 280


STORIES = (story_a, story_b, story_c, story_d, story_e, story_f)


def month(kind: ObjectKind, **kw: object) -> dict[str, KpiRow]:
    facts = [make().facts for make in STORIES]
    rows = evaluate_facts(
        facts,
        period_kind=PeriodKind.MONTH,
        start=NOV,
        end=DEC,
        object_kind=kind,
        tz=UTC,
        **kw,  # type: ignore[arg-type]
    )
    return {r.key: r for r in rows}


def rates(row: KpiRow) -> dict[str, tuple[int, int]]:
    return {name: (r.hits, r.of) for name, r in row.rates.items()}


def test_facts_of_each_story() -> None:
    a, b, c_, d, e_, f = (make().facts for make in STORIES)
    minute = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    assert (a.disposal_due_at, a.disposed, a.disposal_on_time) == (minute(260), True, True)
    assert (a.file_due_at, a.filed_on_time, a.close_due_at, a.closed_on_time) == (
        minute(30),
        True,
        minute(180),
        True,
    )
    assert (b.filed_on_time, b.reworked_at, b.disposal_due_at) == (False, (DEPT,), minute(390))
    assert (b.disposed, b.disposal_on_time, b.closed_at, b.closed_on_time) == (
        True,
        False,
        minute(420),
        False,
    )
    assert [(t.due_at, t.on_time) for t in b.checks] == [(minute(220), True), (minute(520), True)]
    assert (c_.extensions, c_.disposal_due_at, c_.disposed, c_.outcome) == (
        1,
        minute(380),
        False,
        "open",
    )
    assert c_.supervisions == ((minute(60), SupervisionLevel.YELLOW, DEPT),)
    assert [(t.due_at, t.done_at) for t in c_.checks] == [(minute(420), None)]
    assert (d.departments, d.returned_from, d.final_department) == ((ROADS, DEPT), (ROADS,), DEPT)
    assert (e_.valid, e_.due_to_file, e_.departments) == (False, False, ())
    assert (f.reporter_role, f.verifier, f.verify_due_at, f.verified_on_time) == (
        "acceptor",
        OTHER_WORKER.id,
        minute(35),
        True,
    )
    assert (f.filed_on_time, f.valid, f.final_department) == (False, True, ROADS)


def test_department_rates_and_scores() -> None:
    rows = month(ObjectKind.DEPARTMENT)
    assert list(rows) == [DEPT, ROADS]  # ordered by score
    san, roads = rows[DEPT], rows[ROADS]
    # Due in November at sanitation: a, b, c, d (f is roads'; e was never dispatched).
    assert {k: rates(san)[k] for k in rates(san) if rates(san)[k][1]} == {
        "on_time_disposal": (2, 4),  # a, d (b late, c not yet disposed)
        "disposal": (3, 4),  # a, b, d passed their check
        "closing": (3, 4),
        "on_time_closing": (2, 4),  # a, d
        "rework": (1, 4),  # b
        "extension": (1, 4),  # c
        "accurate_dispatch": (3, 4),  # b was reworked
    }
    assert san.counts == {
        "reported": 0,
        "due": 4,
        "dispatched": 4,
        "closed": 3,
        "yellow_cards": 1,
        "red_cards": 0,
    }
    # Intake rates are not a department's: None, never 0 or 100.
    for name in ("on_time_filing", "valid_report", "on_time_verify", "on_time_check"):
        assert san.rates[name].value is None and str(san.rates[name]) == "-"
    # count 4/4, closing .75, on-time .5, 1 - rework .75.
    assert san.components["count"] == 1.0
    assert san.score == APPROX(100 * (0.1 * 1 + 0.3 * 0.75 + 0.3 * 0.5 + 0.3 * 0.75))  # 70
    assert san.grade == "C"
    # Roads: f due (untouched), d dispatched to it but returned.
    assert {k: v for k, v in rates(roads).items() if v[1]} == {
        "on_time_disposal": (0, 1),
        "disposal": (0, 1),
        "closing": (0, 1),
        "on_time_closing": (0, 1),
        "rework": (0, 1),
        "extension": (0, 1),
        "accurate_dispatch": (1, 2),
    }
    assert roads.components["count"] == 0.25
    assert roads.score == APPROX(100 * (0.1 * 0.25 + 0.3 * 1))  # 32.5
    assert roads.grade == "E"


def test_grid_worker_rates_and_scores() -> None:
    rows = month(ObjectKind.GRID_WORKER)
    assert list(rows) == [OTHER_WORKER.id, WORKER.id]
    gw1, gw2 = rows[WORKER.id], rows[OTHER_WORKER.id]
    got = rates(gw1)
    assert got["valid_report"] == (4, 5)  # e rejected
    assert got["on_time_filing"] == (3, 4)  # b late; e ended unfiled
    assert got["on_time_verify"] == (0, 0)
    # Check tasks: a, b (twice), d on time; c's never done.
    assert got["on_time_check"] == (4, 5)
    # His grid GRID had 6 reports in November, f by the hotline.
    assert got["missed_report"] == (5, 6)
    assert gw1.score == APPROX(100 * (0.4 * 0.8 + 0.2 * 5 / 6 + 0.2 * 0.8) / 0.8)  # 80.83
    assert gw1.grade == "B"
    # gw-002 only verified f (on time); nothing reported in his own grid: None, left out.
    assert rates(gw2)["on_time_verify"] == (1, 1)
    assert gw2.rates["missed_report"].value is None
    assert gw2.rates["valid_report"].value is None
    assert (gw2.score, gw2.grade) == (100.0, "A")


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        (ObjectKind.GRID, GRID),
        (ObjectKind.COMMUNITY, GRID[:12]),
        (ObjectKind.STREET, GRID[:9]),
    ],
)
def test_region_rates_and_score(kind: ObjectKind, key: str) -> None:
    rows = month(kind)
    assert list(rows) == [key]
    row = rows[key]
    got = rates(row)
    assert got["closing"] == (3, 5)  # a, b, d of a, b, c, d, f
    assert got["on_time_disposal"] == (2, 5)
    assert got["on_time_filing"] == (3, 5)  # b and f late
    assert got["valid_report"] == (5, 6)
    assert got["on_time_verify"] == (1, 1)
    assert got["on_time_check"] == (4, 5)
    assert got["accurate_dispatch"] == (3, 5)  # b reworked, d returned
    assert got["missed_report"] == (0, 0)  # a grid worker's score only
    assert (row.counts["reported"], row.counts["yellow_cards"]) == (6, 1)
    assert row.score == APPROX(100 * (0.3 * 0.6 + 0.3 * 0.4 + 0.2 * 0.6 + 0.2 * 5 / 6))
    assert row.grade == "D"  # 58.67


def test_custom_weights_and_unknown_component() -> None:
    rows = month(ObjectKind.DEPARTMENT, weights={"closing": 1, "rework": 1})
    assert rows[DEPT].score == APPROX(100 * (0.75 + 0.25) / 2)
    with pytest.raises(ValueError, match="unknown score component"):
        month(ObjectKind.DEPARTMENT, weights={"speed": 1})


def test_nothing_due_gives_none_not_zero() -> None:
    assert month(ObjectKind.DEPARTMENT, as_of=T0) == {}
    # Only a supervision card in the period: a row, but no rate and no score.
    s = Story("g").at(0, report(rules=RULES))
    file_(10, s)
    dispatch(20, s)
    s.at(30, c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.RED, message="now"))
    [row] = evaluate_facts(
        [s.facts],
        period_kind=PeriodKind.DAY,
        start=T0,
        end=T0,
        object_kind=ObjectKind.DEPARTMENT,
        tz=UTC,
        as_of=T0 + timedelta(minutes=100),  # the disposal deadline (260) is not yet due
    )
    assert row.counts["red_cards"] == 1
    assert all(r.value is None for r in row.rates.values())
    assert (row.score, row.grade) == (None, "-")


def test_as_of_leaves_later_deadlines_out() -> None:
    # At 400 min c's check (due 420) is not yet due, b's disposal (due 390) is.
    rows = month(ObjectKind.GRID_WORKER, as_of=T0 + timedelta(minutes=400))
    assert rates(rows[WORKER.id])["on_time_check"] == (3, 3)  # b's second check is due 520


def test_period_boundaries() -> None:
    # Disposal due at exactly 2026-12-01 00:00 UTC: December's, not November's.
    start = datetime(2026, 11, 30, 19, 30, tzinfo=UTC)
    s = Story("h", start).at(0, report(rules=RULES))
    file_(10, s)
    dispatch(30, s)  # due 20:00 + 4 h = 00:00
    facts = [s.facts]
    assert s.facts.disposal_due_at == DEC

    def due_in(period_start: datetime, tz: ZoneInfo | None = None) -> dict[str, int]:
        rows = evaluate_facts(
            facts,
            period_kind=PeriodKind.MONTH,
            start=period_start,
            end=period_start,
            object_kind=ObjectKind.STREET,
            tz=tz or UTC,
        )
        return {r.period.label: r.counts["due"] for r in rows}

    # The report counts in November (reported_at), the disposal in December.
    assert due_in(NOV) == {"2026-11": 0}
    assert due_in(DEC) == {"2026-12": 1}
    # In Beijing time the report (03:30 on Dec 1) and the deadline are both December's.
    cst = ZoneInfo("Asia/Shanghai")
    assert due_in(datetime(2026, 11, 15, tzinfo=cst), cst) == {}
    assert due_in(datetime(2026, 12, 15, tzinfo=cst), cst) == {"2026-12": 1}


def test_day_and_week_periods() -> None:
    facts = [make().facts for make in STORIES]
    rows = evaluate_facts(
        facts,
        period_kind=PeriodKind.DAY,
        start=datetime(2026, 11, 26, tzinfo=UTC),
        end=datetime(2026, 11, 29, tzinfo=UTC),
        object_kind=ObjectKind.DEPARTMENT,
        tz=UTC,
    )
    assert [(r.period.label, r.key, r.counts["due"]) for r in rows] == [
        ("2026-11-27", DEPT, 4),
        ("2026-11-27", ROADS, 1),
    ]
    week = period_of(PeriodKind.WEEK, T0.date(), UTC)
    assert (week.start, week.end, week.label) == (
        datetime(2026, 11, 23, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
        "2026-W48",
    )
    weeks = periods_between(PeriodKind.WEEK, NOV, DEC, UTC)
    assert [p.label for p in weeks] == [f"2026-W{n}" for n in range(44, 50)]
    assert weeks[0].start == datetime(2026, 10, 26, tzinfo=UTC) and weeks[-1].end > DEC
    assert period_of(PeriodKind.MONTH, datetime(2026, 12, 31).date(), UTC).end == datetime(
        2027, 1, 1, tzinfo=UTC
    )


def test_suspended_self_handled_and_cancelled_cases() -> None:
    s = Story("s").at(0, report(rules=RULES))
    file_(10, s)
    dispatch(20, s)
    s.at(30, c.SignFor(actor=HANDLER))
    s.at(40, c.RequestSuspension(actor=HANDLER, reason="winter"))
    s.at(50, c.DecideSuspension(actor=DISPATCHER, approve=True))
    assert s.facts.disposal_due_at is None  # the clock stopped: due in no period
    s.at(60 * 24, c.ResumeCase(actor=DISPATCHER))
    assert s.facts.disposal_due_at == T0 + timedelta(minutes=60 * 24 + 210)  # 210 min were left

    selfie = Story("sh").at(
        0,
        report(rules=CaseRules(self_handling=True), self_handled=True, self_handling_result="done"),
    )
    selfie.at(5, c.ReviewSelfHandling(actor=LEADER, approve=True))
    assert (selfie.facts.valid, selfie.facts.due_to_file, selfie.facts.outcome) == (
        True,
        False,
        "self_handled",
    )

    x = Story("x").at(0, report(rules=RULES))
    file_(10, x)
    dispatch(20, x)
    x.at(30, c.CancelCase(actor=LEADER, reason="erroneous"))
    assert (x.facts.valid, x.facts.due_for_disposal) == (False, False)


def test_grades_and_ratio() -> None:
    assert [grade(s) for s in (100, 90, 89.99, 75, 60, 59.9, 40, 39.9, 0)] == list("AABBCDDEE")
    assert grade(None) == "-"
    assert (Ratio(0, 0).value, str(Ratio(0, 0)), Ratio(1, 3).value, str(Ratio(2, 3))) == (
        None,
        "-",
        1 / 3,
        "66.7%",
    )
    assert case_facts([]) is None
