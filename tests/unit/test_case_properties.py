"""Property tests of the decider over random command sequences.

An independent reference model of the whole process (main line and side paths) says which
commands must be accepted and what the case looks like afterwards; the decider must accept
exactly those, and folding the emitted events must give the state the decider worked on.
The model keeps its own clocks: the random cases run under wall-clock limits (minutes), so
every deadline is plain arithmetic here, apart from domain.calendar."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.case import decide, evolve, fold, initial_state
from domain.codec import from_record, to_record
from domain.errors import DomainError
from domain.events import EVENT_TYPES, Event
from domain.roles import SYSTEM_ACTOR, Actor, Role
from domain.rules import CaseRules
from domain.stages import Stage, SupervisionLevel
from domain.state import CaseState
from domain.timers import next_timer
from tests.factories import T0, report
from tests.rulebook import DEPT_STAGES, RULEBOOK, A, D, G, L, S, V, Y

CASE = "p-1"
DEPTS = ("sanitation", "roads")
WORKER = Actor(id="gw-1", role=Role.GRID_WORKER, unit="g1")
ACTORS: dict[Role, Actor] = {
    r: Actor(id=f"{r.value}-1", role=r) for r in Role if r not in (Role.HANDLER, Role.SYSTEM)
}
ACTORS[Role.GRID_WORKER] = WORKER
ACTORS[Role.SYSTEM] = SYSTEM_ACTOR
HANDLERS = {d: Actor(id=f"h-{d}", role=Role.HANDLER, unit=d) for d in DEPTS}
actors = st.sampled_from([*ACTORS.values(), *HANDLERS.values()])
texts = st.sampled_from(["", "  ", "ok", "still dirty"])

# Limits in minutes (the model's own numbers; the rules get them as text).
STAGE_MINUTES = {
    "verify": 60,
    "review": 45,
    "dispatch": 30,
    "sign_for": 60,
    "handle": 240,
    "check": 120,
    "close": 60,
}
CONDITION_MINUTES = {"E0101-01": 300, "E0101-02": 90}
YELLOW_AFTER, RED_AFTER, BACKLOG_AFTER, REPLY_MINUTES = 60, 120, 900, 90
WARN = 0.8
AMOUNTS = {"30 minutes": 30 * 60.0, "2 hours": 2 * 3600.0, "soon": None, "": None}


def make_rules(self_handling: bool, bundle: bool, urgency: str, max_ext: int) -> CaseRules:
    return CaseRules.from_dict(
        dict(
            stage_limits={k: f"{v} minutes" for k, v in STAGE_MINUTES.items()},
            conditions={k: f"{v} minutes" for k, v in CONDITION_MINUTES.items()},
            urgency=urgency,
            self_handling=self_handling,
            warn_ratio=WARN,
            yellow_card_after=f"{YELLOW_AFTER} minutes",
            red_card_after=f"{RED_AFTER} minutes",
            max_extensions=max_ext,
            bundle_disposal=bundle,
            backlog_after=f"{BACKLOG_AFTER} minutes",
            reply_limit=f"{REPLY_MINUTES} minutes",
        )
    )


rules_st = st.sampled_from(
    [
        make_rules(self_handling, bundle, urgency, max_ext)
        for self_handling in (False, True)
        for bundle in (False, True)
        for urgency in ("ordinary", "urgent")
        for max_ext in (0, 1, 2)
    ]
)


def reports() -> st.SearchStrategy[c.ReportCase]:
    return st.builds(
        lambda a, rules, source, self_handled, result: report(
            actor=a,
            rules=rules,
            source=source,
            self_handled=self_handled,
            self_handling_result=result,
        ),
        actors,
        rules_st,
        st.sampled_from(["grid_worker", "hotline_12345", "open311", "<script>", ""]),
        st.booleans(),
        st.sampled_from(["", "picked it up"]),
    )


REPORTS = reports()


def commands() -> st.SearchStrategy[c.Command]:
    """Any command of any actor, well-formed or not."""
    b = st.builds
    stages = st.sampled_from(list(Stage))
    return st.one_of(
        REPORTS,
        b(c.RequestVerification, actor=actors, assignee=st.sampled_from(["", WORKER.id, "gw-9"])),
        b(c.RecordVerification, actor=actors, confirmed=st.booleans(), note=texts),
        b(c.FileCase, actor=actors, condition=st.sampled_from(["", "E0101-02", "E0101-99"])),
        b(c.RejectCase, actor=actors, reason=texts),
        b(c.CancelCase, actor=actors, reason=texts),
        b(c.MergeCase, actor=actors, into=st.sampled_from(["", CASE, "c-0"])),
        b(c.RecordDuplicate, actor=actors, duplicate=st.sampled_from(["", "c-8", "c-9", CASE])),
        b(c.ReviewSelfHandling, actor=actors, approve=st.booleans(), note=texts),
        b(c.DispatchCase, actor=actors, department=st.sampled_from(["", *DEPTS])),
        b(c.SignFor, actor=actors),
        b(c.RequestExtension, actor=actors, reason=texts, amount=st.sampled_from(list(AMOUNTS))),
        b(c.DecideExtension, actor=actors, approve=st.booleans(), note=texts),
        b(c.RequestReturn, actor=actors, reason=texts),
        b(c.DecideReturn, actor=actors, approve=st.booleans(), note=texts),
        b(c.RequestSuspension, actor=actors, reason=texts),
        b(c.DecideSuspension, actor=actors, approve=st.booleans(), note=texts),
        b(c.ResumeCase, actor=actors, note=texts),
        b(c.SubmitFeedback, actor=actors, result=texts),
        b(c.RecordClosureCheck, actor=actors, passed=st.booleans(), note=texts),
        b(c.CloseCase, actor=actors, note=texts),
        b(c.UrgeCase, actor=actors, message=texts),
        b(
            c.SuperviseCase,
            actor=actors,
            level=st.sampled_from(list(SupervisionLevel)),
            message=texts,
        ),
        b(c.ReplyToSupervision, actor=actors, reply=texts),
        b(c.MarkStageWarning, actor=actors, stage=stages),
        b(c.MarkStageOverdue, actor=actors, stage=stages),
        b(c.MarkBacklog, actor=actors),
    )


COMMANDS = commands()

# -- the reference model ---------------------------------------------------------------

IN_DEPT = DEPT_STAGES
TABLE = {k: (roles, stages or set()) for k, (roles, stages) in RULEBOOK.items()}
RANK = {SupervisionLevel.ORDINARY: 1, SupervisionLevel.YELLOW: 2, SupervisionLevel.RED: 3}


def filled(text: str) -> bool:
    return bool(text.strip())


def minutes(n: float) -> timedelta:
    return timedelta(seconds=n * 60.0)


@dataclass
class Model:
    """The process as a table and a handful of fields, written apart from domain.case."""

    stage: str | None = None
    self_handling: bool = False
    bundle: bool = False
    extensions_allowed: int = 1
    public: bool = False
    verification: str = ""
    verifier: str = ""
    self_handled: bool = False
    condition: str = ""
    department: str = ""
    due: datetime | None = None
    warn: datetime | None = None
    light: str = "green"
    late: bool = False
    disposal_due: datetime | None = None
    pending: str = ""
    pending_amount: float = 0.0
    suspended: bool = False
    left: float | None = None  # minutes of disposal time left when suspended
    backlog_at: datetime | None = None
    backlog: bool = False
    level: SupervisionLevel | None = None
    reply_pending: bool = False
    reply_due: datetime | None = None
    duplicates: tuple[str, ...] = ()
    closing_type: str = ""
    dispatches: int = 0
    returns: int = 0
    reworks: int = 0
    extensions: int = 0
    urges: int = 0
    overdues: int = 0

    # The clocks.
    def enter(self, stage: str) -> None:
        """A new stage starts uncarded: the ladder's level belongs to one stage episode."""
        if stage != self.stage:
            self.level = None
        self.stage = stage

    def open_stage(self, stage: str, now: datetime) -> None:
        limit = STAGE_MINUTES[stage]
        self.enter(stage)
        self.light = "green"
        self.due, self.warn = now + minutes(limit), now + minutes(limit * WARN)

    def run_until(self, due: datetime, now: datetime) -> None:
        self.due, self.light = due, "green"
        self.warn = now + (due - now) * WARN if due > now else due

    def disposal_from(self, now: datetime) -> datetime:
        if self.bundle and self.disposal_due is not None:
            return self.disposal_due
        return now + minutes(CONDITION_MINUTES[self.condition])

    def owns(self, actor: Actor) -> bool:
        return actor.unit == self.department

    def free(self, actor: Actor) -> bool:
        """The department may act: its own case, not suspended, nothing waiting."""
        return self.owns(actor) and not self.suspended and not self.pending

    def accepts(self, cmd: c.Command, now: datetime) -> bool:
        roles, stages = TABLE[type(cmd)]
        if cmd.actor.role not in roles:
            return False
        if isinstance(cmd, c.ReportCase):
            if self.stage is not None or not filled(cmd.source):
                return False
            # A grid worker reports from patrol only; an acceptor from a public channel.
            public = cmd.source in ("hotline_12345", "open311")
            if not (cmd.source == "grid_worker" if cmd.actor.role is G else public):
                return False
            if not cmd.self_handled:
                return True
            rules = cmd.rules
            assert rules is not None
            return cmd.actor.role is G and rules.self_handling and filled(cmd.self_handling_result)
        if self.stage not in stages:
            return False
        a = cmd.actor
        match cmd:
            case c.RequestVerification():
                return self.verification in ("", "requested") and filled(cmd.assignee)
            case c.RecordVerification():
                return (
                    self.verification == "requested"
                    and a.id == self.verifier
                    and (cmd.confirmed or filled(cmd.note))
                )
            case c.FileCase():
                verified = not self.public or self.verification == "confirmed"
                return verified and cmd.condition in ("", *CONDITION_MINUTES)
            case c.RejectCase():
                return filled(cmd.reason)
            case c.CancelCase():
                return filled(cmd.reason)
            case c.MergeCase():
                return filled(cmd.into) and cmd.into != CASE
            case c.RecordDuplicate():
                dup = cmd.duplicate.strip()
                return filled(dup) and dup != CASE and dup not in self.duplicates
            case c.ReviewSelfHandling():
                return cmd.approve or filled(cmd.note)
            case c.DispatchCase():
                return filled(cmd.department)
            case c.SignFor():
                return self.owns(a)
            case c.RequestExtension():
                return (
                    self.free(a)
                    and self.extensions < self.extensions_allowed
                    and AMOUNTS[cmd.amount] is not None
                    and filled(cmd.reason)
                )
            case c.RequestReturn() | c.RequestSuspension():
                return self.free(a) and filled(cmd.reason)
            case c.DecideExtension() | c.DecideReturn() | c.DecideSuspension():
                kind = {
                    c.DecideExtension: "extension",
                    c.DecideReturn: "return",
                    c.DecideSuspension: "suspension",
                }[type(cmd)]
                return self.pending == kind and (cmd.approve or filled(cmd.note))
            case c.ResumeCase():
                return self.suspended
            case c.SubmitFeedback():
                return self.free(a) and filled(cmd.result)
            case c.RecordClosureCheck():
                return cmd.passed or filled(cmd.note)
            case c.CloseCase():
                return True
            case c.UrgeCase():
                return filled(cmd.message)
            case c.SuperviseCase():
                if a.role is not Y:
                    return filled(cmd.message)
                # The ladder's cards: upward only, yellow/red, once overdue by the threshold.
                above = self.level is None or RANK[cmd.level] > RANK[self.level]
                after = {"yellow": YELLOW_AFTER, "red": RED_AFTER}.get(cmd.level.value)
                return (
                    filled(cmd.message)
                    and above
                    and after is not None
                    and self.light == "red"
                    and self.due is not None
                    and now >= self.due + minutes(after)
                )
            case c.ReplyToSupervision():
                return self.owns(a) and self.reply_pending and filled(cmd.reply)
            case c.MarkStageWarning():
                return (
                    cmd.stage.value == self.stage
                    and self.warn is not None
                    and now >= self.warn
                    and self.light == "green"
                )
            case c.MarkStageOverdue():
                return (
                    cmd.stage.value == self.stage
                    and self.due is not None
                    and now >= self.due
                    and self.light != "red"
                )
            case c.MarkBacklog():
                return self.suspended and not self.backlog and now >= self.backlog_at  # type: ignore[operator]
        raise AssertionError(cmd)

    def end(self, stage: str, closing_type: str = "") -> None:
        self.enter(stage)
        self.closing_type = closing_type
        self.due = self.warn = None
        self.light, self.pending, self.suspended = "green", "", False

    def apply(self, cmd: c.Command, now: datetime) -> None:
        """Move the model by an accepted command."""
        match cmd:
            case c.ReportCase():
                rules = cmd.rules
                assert rules is not None
                self.self_handling, self.bundle = rules.self_handling, rules.bundle_disposal
                self.extensions_allowed = rules.max_extensions + (rules.urgency == "urgent")
                self.public = cmd.source != "grid_worker"
                if cmd.self_handled:
                    self.self_handled = True
                    self.open_stage("review", now)
                else:
                    self.open_stage("verify", now)
            case c.RequestVerification():
                self.verification, self.verifier = "requested", cmd.assignee.strip()
            case c.RecordVerification():
                self.verification = "confirmed" if cmd.confirmed else "refuted"
            case c.FileCase():
                self.condition = cmd.condition or next(iter(CONDITION_MINUTES))
                self.open_stage("dispatch", now)
            case c.RejectCase():
                self.end("rejected")
            case c.CancelCase():
                self.end("cancelled")
            case c.MergeCase():
                self.end("merged")
            case c.RecordDuplicate():
                self.duplicates += (cmd.duplicate.strip(),)
            case c.ReviewSelfHandling():
                if cmd.approve:
                    self.end("closed", "self_handled")
                else:
                    self.self_handled = False
                    self.open_stage("verify", now)
            case c.DispatchCase():
                self.department, self.dispatches = cmd.department, self.dispatches + 1
                self.disposal_due = self.disposal_from(now)
                self.open_stage("sign_for", now)
                assert self.due is not None
                if self.due > self.disposal_due:
                    self.run_until(self.disposal_due, now)
            case c.SignFor():
                self.enter("handle")
                assert self.disposal_due is not None
                self.run_until(self.disposal_due, now)
            case c.RequestExtension():
                self.pending, self.pending_amount = "extension", AMOUNTS[cmd.amount] or 0.0
            case c.RequestReturn():
                self.pending = "return"
            case c.RequestSuspension():
                self.pending = "suspension"
            case c.DecideExtension() | c.DecideReturn() | c.DecideSuspension() if not cmd.approve:
                self.pending = ""
            case c.DecideExtension():
                self.pending, self.extensions = "", self.extensions + 1
                assert self.disposal_due is not None
                self.disposal_due += timedelta(seconds=self.pending_amount)
                self.run_until(self.disposal_due, now)
            case c.DecideReturn():
                self.pending, self.department, self.returns = "", "", self.returns + 1
                # The reply is no longer expected from the department that returned it.
                self.reply_pending, self.reply_due = False, None
                self.open_stage("dispatch", now)
            case c.DecideSuspension():
                self.pending, self.suspended = "", True
                assert self.disposal_due is not None
                left = (self.disposal_due - now).total_seconds() / 60.0
                self.left = left if left > 0 else None
                self.backlog_at = now + minutes(BACKLOG_AFTER)
                self.due = self.warn = None
                self.light = "green"
            case c.ResumeCase():
                self.suspended, self.backlog_at, self.backlog = False, None, False
                self.disposal_due = now + minutes(self.left) if self.left else now
                self.left = None
                self.run_until(self.disposal_due, now)
            case c.MarkBacklog():
                self.backlog = True
            case c.SubmitFeedback():
                self.open_stage("check", now)
            case c.RecordClosureCheck() if cmd.passed:
                self.open_stage("close", now)
            case c.RecordClosureCheck():
                self.reworks += 1
                self.disposal_due = self.disposal_from(now)
                self.enter("handle")
                self.run_until(self.disposal_due, now)
            case c.CloseCase():
                self.end("closed", "overdue" if self.late else "normal")
            case c.UrgeCase():
                self.urges += 1
            case c.SuperviseCase():
                if self.level is None or RANK[cmd.level] > RANK[self.level]:
                    self.level = cmd.level
                self.reply_pending, self.reply_due = True, now + minutes(REPLY_MINUTES)
            case c.ReplyToSupervision():
                self.reply_pending, self.reply_due = False, None
            case c.MarkStageWarning():
                self.light = "yellow"
            case c.MarkStageOverdue():
                self.light, self.overdues = "red", self.overdues + 1
                # Late disposal is the disposal deadline passing, not a slow sign-for.
                self.late = self.late or (self.stage in IN_DEPT and self.due == self.disposal_due)
            case _:
                raise AssertionError(cmd)

    def check(self, s: CaseState) -> None:
        """The decider's state is the model's."""
        assert s.stage is not None and s.stage.value == self.stage
        status = {"closed", "rejected", "cancelled", "merged"}
        expected_status = self.stage if self.stage in status else "open"
        if self.suspended:
            expected_status = "suspended"
        assert s.status is not None and s.status.value == expected_status
        assert (s.stage_due_at, s.stage_warn_at, s.light.value) == (self.due, self.warn, self.light)
        assert (s.department, s.disposal_due_at, s.condition) == (
            self.department,
            self.disposal_due,
            self.condition,
        )
        assert (s.verification, s.self_handled, s.disposal_late) == (
            self.verification,
            self.self_handled,
            self.late,
        )
        assert (s.pending.kind if s.pending else "") == self.pending
        assert (s.suspended, s.backlog_at, s.backlog) == (
            self.suspended,
            self.backlog_at,
            self.backlog,
        )
        assert (s.supervision_level, s.supervision_pending, s.reply_due_at) == (
            self.level,
            self.reply_pending,
            self.reply_due,
        )
        assert (s.duplicates, s.closing_type) == (self.duplicates, self.closing_type)
        counts = (s.dispatch_count, s.return_count, s.rework_count, s.extension_count)
        assert counts == (self.dispatches, self.returns, self.reworks, self.extensions)
        assert (s.urge_count, s.overdue_count) == (self.urges, self.overdues)


Key = tuple[str | None, str, str, bool, str]


def _key(model: Model) -> Key:
    verification = model.verification if model.public else "not needed"
    return (model.stage, model.department, model.pending, model.suspended, verification)


def right_moves(model: Model) -> st.SearchStrategy[c.Command]:
    """Moves that fit the model's stage (most accepted), so sequences get deep."""
    key = _key(model)
    if key not in _MOVES:
        _MOVES[key] = _moves(*key)
    return _MOVES[key]


def end_moves(model: Model) -> st.SearchStrategy[c.Command] | None:
    """Moves that end the case early (reject, merge, cancel), offered rarely."""
    lead = ACTORS[S]
    ends: dict[str, list[c.Command]] = {
        "verify": [
            c.RejectCase(actor=lead, reason="not a public space"),
            c.MergeCase(actor=ACTORS[A], into="c-0"),
        ],
        "dispatch": [
            c.MergeCase(actor=lead, into="c-0"),
            c.CancelCase(actor=lead, reason="erroneous"),
        ],
        "handle": [c.CancelCase(actor=lead, reason="erroneous")],
        "close": [c.CancelCase(actor=lead, reason="erroneous")],
    }
    moves = ends.get(model.stage or "")
    return st.sampled_from(moves) if moves else None


_MOVES: dict[Key, st.SearchStrategy[c.Command]] = {}


def _moves(
    stage: str | None, department: str, pending: str, suspended: bool, verification: str
) -> st.SearchStrategy[c.Command]:
    if stage is None:
        return REPORTS.map(_as_worker)
    handler = HANDLERS.get(department, HANDLERS[DEPTS[0]])
    acc, lead, disp = ACTORS[A], ACTORS[S], ACTORS[D]
    sup, boss = ACTORS[V], ACTORS[L]
    decisions: dict[str, list[c.Command]] = {
        "extension": [
            c.DecideExtension(actor=disp, approve=True),
            c.DecideExtension(actor=lead, approve=False, note="no"),
        ],
        "return": [
            c.DecideReturn(actor=disp, approve=True),
            c.DecideReturn(actor=lead, approve=False, note="it is yours"),
        ],
        "suspension": [
            c.DecideSuspension(actor=boss, approve=True),
            c.DecideSuspension(actor=disp, approve=False, note="no"),
        ],
    }
    main: dict[str, list[c.Command]] = {
        "verify": [c.FileCase(actor=lead)],
        "review": [
            c.ReviewSelfHandling(actor=acc, approve=False, note="not fixed"),
            c.ReviewSelfHandling(actor=lead, approve=True),
        ],
        "dispatch": [c.DispatchCase(actor=disp, department=d) for d in DEPTS],
        "sign_for": [c.SignFor(actor=handler)],
        "handle": [
            c.SubmitFeedback(actor=handler, result="cleared"),
            c.RequestExtension(actor=handler, reason="rain", amount="2 hours"),
            c.RequestSuspension(actor=handler, reason="winter"),
            c.RequestReturn(actor=handler, reason="not ours"),
        ],
        "check": [
            c.RecordClosureCheck(actor=WORKER, passed=True),
            c.RecordClosureCheck(actor=WORKER, passed=False, note="still dirty"),
        ],
        "close": [c.CloseCase(actor=lead)],
    }
    supervise = [
        c.SuperviseCase(actor=sup, level=SupervisionLevel.ORDINARY, message="hurry"),
        c.SuperviseCase(actor=boss, level=SupervisionLevel.RED, message="now"),
        c.ReplyToSupervision(actor=handler, reply="on it"),
    ]
    side: dict[str, list[c.Command]] = {
        "verify": [
            c.RequestVerification(actor=acc, assignee=WORKER.id),
            c.RecordVerification(actor=WORKER, confirmed=True),
            c.RecordVerification(actor=WORKER, confirmed=False, note="nothing there"),
        ],
        "sign_for": [c.RequestReturn(actor=handler, reason="not ours"), *supervise],
        "handle": supervise,
        "check": [c.ReplyToSupervision(actor=handler, reply="done")],
    }
    anywhere: list[c.Command] = [
        c.UrgeCase(actor=sup, message="hurry"),
        c.RecordDuplicate(actor=SYSTEM_ACTOR, duplicate="c-9"),
    ]
    verifying: dict[str, list[c.Command]] = {
        "": [c.RequestVerification(actor=acc, assignee=WORKER.id)],
        "requested": [
            c.RecordVerification(actor=WORKER, confirmed=True),
            c.RecordVerification(actor=WORKER, confirmed=True),
            c.RecordVerification(actor=WORKER, confirmed=False, note="nothing there"),
        ],
        "refuted": [c.RejectCase(actor=lead, reason="nothing there")],
    }
    first: list[c.Command]
    if stage == "verify" and verification in verifying:
        first = verifying[verification]
    elif pending:
        first = decisions[pending]
    elif suspended:
        first = [c.ResumeCase(actor=disp), c.MarkBacklog(actor=SYSTEM_ACTOR)]
    else:
        first = main.get(stage, [])
    if not first:
        return COMMANDS
    main_st = st.sampled_from(first)
    side_st = st.sampled_from(side.get(stage, []) + anywhere)
    return st.one_of(main_st, main_st, side_st)


def _as_worker(cmd: c.ReportCase) -> c.ReportCase:
    actor = WORKER if cmd.self_handled or cmd.source == "grid_worker" else ACTORS[A]
    return replace(cmd, actor=actor, self_handling_result="picked it up")


EVENTS_REACHED: set[str] = set()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), length=st.integers(min_value=10, max_value=60))
def test_decider_matches_the_model_and_fold_equals_state(data: st.DataObject, length: int) -> None:
    state = initial_state(CASE)
    model = Model()
    emitted: list[Event] = []
    now = T0
    for _ in range(length):
        timer = next_timer(state)
        roll = data.draw(st.integers(min_value=0, max_value=99))
        ends = end_moves(model)
        if timer is not None and (roll < 6 or (model.suspended and roll < 40)):
            # The engine's ladder: the timer's command at its moment (or later).
            command = timer.command
            now = max(now, timer.at) + minutes(data.draw(st.integers(0, 2)))
        else:
            if roll < 12:
                strategy = COMMANDS  # anything at all, mostly refused
            elif roll < 16 and ends is not None:
                strategy = ends
            else:
                strategy = right_moves(model)
            command = data.draw(strategy)
            now += minutes(data.draw(st.integers(min_value=0, max_value=200)))
        expected = model.accepts(command, now)
        try:
            events = decide(state, command, now)
        except DomainError as err:
            assert not expected, f"{command} refused ({err}), the model accepts it"
            continue
        assert expected, f"{command} accepted at {state.stage}, the model refuses it"
        assert [ev.version for ev in events] == list(
            range(state.version + 1, state.version + 1 + len(events))
        )
        for event in events:
            assert from_record(to_record(event)) == event
            state = evolve(state, event)
        emitted += events
        model.apply(command, now)
        model.check(state)
        # Whatever the ladder asks for next, the decider takes at that moment.
        timer = next_timer(state)
        if timer is not None:
            decide(state, timer.command, max(now, timer.at))
    assert fold(CASE, emitted) == state
    EVENTS_REACHED.update(ev.type for ev in emitted)


def test_the_random_sequences_reached_every_event_type() -> None:
    # Guards the strategy itself: a generator that never gets past the report proves little.
    # Run alone, the property is driven here first; a rare unlucky run gets two more rounds
    # rather than a flaky failure (each round is a fresh set of random sequences).
    for _ in range(3):
        if EVENTS_REACHED and set(EVENT_TYPES) <= EVENTS_REACHED:
            break
        test_decider_matches_the_model_and_fold_equals_state()
    assert set(EVENT_TYPES) <= EVENTS_REACHED, set(EVENT_TYPES) - EVENTS_REACHED
