"""What the chaos harness does to each case, decided up front from the seed: a scenario (the
main line or a side path), the grid and category it is reported in, and its steps in order,
each with who takes it, its body, the event it records first and a marker.

The marker is a text unique to the step (``[<case>#<n>]``) put in the step's note, reason,
message or result, so the step's event can be found in the log and counted: exactly once
for a step the harness was answered, never twice for any. Steps without a text field
(sign for, request verification) are counted by their event type instead.

Who acts is a key the driver resolves to a user: ``gw:<grid>``, ``handler:<department>``,
or one of the center's roles (``acceptor``, ``lead``, ``disp``, ``supervisor``,
``leader``). The expected end of a case (``final``) is what the harness's own reading of the
process says (an oracle written by hand, as tests/rulebook.py is), not derived from the
step declarations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from domain.demo_district import generate_demo_district
from domain.routing import Router
from domain.taxonomy import default_taxonomy

# Scenario -> weight: mostly the main line, every side path represented.
SCENARIOS = {
    "main_line": 30,
    "public_verified": 8,
    "reject": 5,
    "self_handled": 5,
    "return": 8,
    "extension": 8,
    "rework": 8,
    "suspension": 5,
    "supervised": 6,
    "cancel": 4,
    "merge": 4,
    "left_open": 9,
}
CATEGORIES = {"E0101": 5, "E0102": 3, "C0101": 1, "C0102": 1, "E0201": 2, "E0501": 2}
URGE_SHARE = 0.25  # of the cases that are not "supervised", urged once at a random step
GRIDS = 12  # grids of the demo district the cases are spread over (one grid worker each)
TERMINAL = ("closed", "rejected", "cancelled", "merged")


@dataclass(frozen=True)
class Step:
    name: str  # "report", or the step's API path under /v1/cases/{id}/
    who: str
    body: dict[str, Any]
    event: str  # the event type this step records first
    marker: str = ""  # "" when the step carries no text: counted by its event type
    key: str = ""  # the Idempotency-Key sent with every try of this step


@dataclass
class CasePlan:
    case_id: str
    scenario: str
    grid: str
    category: str
    department: str
    steps: list[Step] = field(default_factory=list)
    final_status: str = "closed"
    final_stage: str = ""  # for a case left open: the stage it must be left in
    merge_into: str = ""  # a merge waits until this case is reported


def user_id(who: str) -> str:
    """The user id of an actor key (``gw:410105001001001`` -> ``chaos-gw-410105001001001``)."""
    return "chaos-" + who.replace(":", "-").replace("_", "-")


class Planner:
    """Seeded plans over the synthetic demo district (``gridcase reference seed-demo``)."""

    def __init__(self, seed: int, run: str) -> None:
        self.rng = random.Random(seed)
        self.run = run
        taxonomy = default_taxonomy()
        district = generate_demo_district(0, taxonomy=taxonomy)
        picked = self.rng.sample(district.grids, GRIDS)
        self.points: dict[str, tuple[float, float]] = {}
        for grid in picked:
            assert grid.area is not None
            self.points[grid.code] = grid.area.centroid()
        self.grids = sorted(self.points)
        self.router = Router(taxonomy)
        self.departments = sorted(d.code for d in taxonomy.departments)
        self.self_handling = [c.code for c in taxonomy if c.self_handling]
        self.open_targets: list[str] = []

    def plans(self, n: int) -> list[CasePlan]:
        names = list(SCENARIOS)
        weights = list(SCENARIOS.values())
        return [self.plan(i, self.rng.choices(names, weights)[0]) for i in range(n)]

    def plan(self, i: int, scenario: str) -> CasePlan:
        if scenario == "merge" and not self.open_targets:
            scenario = "main_line"  # nothing to merge into yet
        grid = self.rng.choice(self.grids)
        category = self.rng.choices(list(CATEGORIES), list(CATEGORIES.values()))[0]
        if scenario == "self_handled":
            category = self.rng.choice(self.self_handling)
        department = self.router.route(category, grid).department
        plan = CasePlan(f"{self.run}-{i:04d}", scenario, grid, category, department)
        Build(self, plan).scenario()
        if scenario == "left_open":
            self.open_targets.append(plan.case_id)
        return plan

    def key(self) -> str:
        return f"chaos-{self.rng.getrandbits(64):016x}"


class Build:
    """Appends the steps of one plan; each method is a stretch of the process."""

    def __init__(self, planner: Planner, plan: CasePlan) -> None:
        self.p = planner
        self.plan = plan
        self.gw = f"gw:{plan.grid}"
        self.handler = f"handler:{plan.department}"
        self.n = 0

    def add(self, name: str, who: str, event: str, text: str = "", **body: Any) -> None:
        marker = ""
        self.n += 1
        if text:
            marker = f"[{self.plan.case_id}#{self.n}]"
            body[text] = f"{body.get(text, name)} {marker}"
        # A report's key is its id (the API takes either; both must agree).
        key = self.plan.case_id if name == "report" else self.p.key()
        self.plan.steps.append(Step(name, who, body, event, marker, key))

    def scenario(self) -> None:
        s = self.plan.scenario
        public = s in ("public_verified", "reject")
        self.report(public)
        if s == "self_handled":
            self.add(
                "review_self_handling", "acceptor", "SelfHandlingApproved", "note", approve=True
            )
            return
        if s == "reject":
            self.add("reject", "lead", "CaseRejected", "reason", reason="no such problem")
            self.plan.final_status = "rejected"
            return
        if public:
            self.add("request_verification", "acceptor", "VerificationRequested",
                     assignee=user_id(self.gw))  # fmt: skip
            self.add("record_verification", self.gw, "CaseVerified", "note", confirmed=True)
        if s == "merge":
            self.plan.merge_into = self.p.rng.choice(self.p.open_targets)
            self.add("merge", "acceptor", "CaseMerged", "note", into=self.plan.merge_into)
            self.plan.final_status = "merged"
            return
        self.add("file", "lead", "CaseFiled", "note", note="meets the filing condition")
        if s == "left_open":
            self.plan.final_status, self.plan.final_stage = "open", "dispatch"
            return
        if s == "return":
            self.wrong_dispatch()
        else:
            self.add("dispatch", "disp", "CaseDispatched", "note")
        if s == "cancel":
            self.add("cancel", "lead", "CaseCancelled", "reason", reason="reported twice")
            self.plan.final_status = "cancelled"
            return
        self.add("sign_for", self.handler, "TaskSignedFor")
        self.disposal(s)
        self.add("feedback", self.handler, "FeedbackSubmitted", "result", result="done")
        if s == "rework":
            self.add("check", self.gw, "ClosureCheckFailed", "note", passed=False, note="half")
            self.add("feedback", self.handler, "FeedbackSubmitted", "result", result="finished")
        self.add("check", self.gw, "ClosureCheckPassed", "note", passed=True, note="clean")
        self.add("close", "lead", "CaseClosed", "note")
        if s != "supervised" and self.p.rng.random() < URGE_SHARE:
            self.urge_somewhere()

    def report(self, public: bool) -> None:
        lon, lat = self.p.points[self.plan.grid]
        body: dict[str, Any] = {
            "report_id": self.plan.case_id,
            "category": self.plan.category,
            "description": "chaos harness case",
            "location": {"lon": lon, "lat": lat, "address": f"grid {self.plan.grid}"},
        }
        if public:
            body["source"] = "hotline_12345"
        if self.plan.scenario == "self_handled":
            body["self_handled"] = {"result": "fixed on the spot"}
        who = "acceptor" if public else self.gw
        self.add("report", who, "CaseReported", "description", **body)

    def wrong_dispatch(self) -> None:
        others = [d for d in self.p.departments if d != self.plan.department]
        wrong = self.p.rng.choice(others)
        self.add("dispatch", "disp", "CaseDispatched", "note", department=wrong)
        self.add("request_return", f"handler:{wrong}", "ReturnRequested", "reason", reason="no")
        self.add("decide_return", "disp", "CaseReturned", "note", approve=True)
        self.add("dispatch", "disp", "CaseDispatched", "note")

    def disposal(self, s: str) -> None:
        if s == "extension":
            self.add("request_extension", self.handler, "ExtensionRequested", "reason",
                     reason="parts", amount="1 working_days")  # fmt: skip
            if self.p.rng.random() < 0.7:
                self.add("decide_extension", "disp", "ExtensionGranted", "note", approve=True)
            else:
                self.add("decide_extension", "disp", "ExtensionDenied", "note",
                         approve=False, note="finish on time")  # fmt: skip
        elif s == "suspension":
            self.add("request_suspension", self.handler, "SuspensionRequested", "reason",
                     reason="needs a road permit")  # fmt: skip
            self.add("decide_suspension", "leader", "CaseSuspended", "note", approve=True)
            self.add("resume", "disp", "CaseResumed", "note", note="permit granted")
        elif s == "supervised":
            self.add("urge", "supervisor", "CaseUrged", "message", message="citizens wait")
            self.add("supervise", "supervisor", "SupervisionIssued", "message",
                     level="ordinary", message="report today")  # fmt: skip
            self.add("reply_supervision", self.handler, "SupervisionReplied", "reply",
                     reply="crew on site")  # fmt: skip

    def urge_somewhere(self) -> None:
        """An urge (催办, any open stage) between two steps after the report and before the
        close."""
        steps = self.plan.steps
        at = self.p.rng.randrange(1, len(steps))
        tail = steps[at:]
        del steps[at:]
        who = self.p.rng.choice(("supervisor", "leader"))
        self.add("urge", who, "CaseUrged", "message", message="hurry up")
        steps.extend(tail)
