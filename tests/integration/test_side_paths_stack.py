"""Every side path walked through the real stack: workflow, activities, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from application.principals import OPERATOR
from application.read_models import merge_candidates, notifications
from domain import commands as c
from domain.errors import InvalidCommand, NotYourCase, WrongRole, WrongStage
from domain.events import Location
from domain.roles import Actor, Role
from domain.rules import CaseRules
from domain.stages import SupervisionLevel
from store.event_store import EventStore
from tests.conftest import new_case_id
from tests.factories import (
    ACCEPTOR,
    DEPT,
    DISPATCHER,
    HANDLER,
    LEADER,
    OTHER_HANDLER,
    SUPERVISOR,
    WORKER,
    main_line,
    report,
)
from tests.integration.helpers import eventually
from workflows import client as cases
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.usefixtures("workers")

COMMANDER = Actor(id="cmd-01", role=Role.LEADER)
RULES = CaseRules.from_dict(
    dict(
        stage_limits={
            "verify": "30 minutes",
            "review": "30 minutes",
            "dispatch": "30 minutes",
            "sign_for": "1 hours",
            "handle": "4 hours",
            "check": "2 hours",
            "close": "1 hours",
        },
        conditions={"E0101-01": "4 hours", "E0101-02": "1 days"},
        self_handling=True,
    )
)


async def start(client: Client, **fields: object) -> str:
    case_id = new_case_id("sp")
    fields.setdefault("rules", RULES)
    await cases.report_case(client, case_id, report(**fields), datetime.now(UTC))
    return case_id


async def steps(client: Client, case_id: str, commands: list[c.Command]) -> list[str]:
    return [(await cases.act(client, case_id, cmd)).stage for cmd in commands]


def types(store: EventStore, case_id: str) -> list[str]:
    return [e.type for e in store.events(case_id)]


async def finished(client: Client, case_id: str) -> str:
    handle = client.get_workflow_handle_for(CaseWorkflow.run, cases.workflow_id(case_id))
    return (await handle.result()).status


async def test_public_report_is_verified_on_site_before_filing(
    client: Client, store: EventStore
) -> None:
    case_id = await start(client, actor=ACCEPTOR, source="hotline_12345")
    with pytest.raises(WrongStage, match="confirm it on site"):
        await cases.act(client, case_id, c.FileCase(actor=LEADER))
    await cases.act(client, case_id, c.RequestVerification(actor=ACCEPTOR, assignee=WORKER.id))
    other = Actor(id="gw-999", role=Role.GRID_WORKER)
    with pytest.raises(NotYourCase):
        await cases.act(client, case_id, c.RecordVerification(actor=other, confirmed=True))
    await cases.act(client, case_id, c.RecordVerification(actor=WORKER, confirmed=True))
    result = await cases.act(client, case_id, c.FileCase(actor=LEADER, condition="E0101-02"))
    assert result.stage == "dispatch"
    assert types(store, case_id) == [
        "CaseReported",
        "VerificationRequested",
        "CaseVerified",
        "CaseFiled",
    ]
    row = store.case(case_id)
    assert row["verification"] == "confirmed" and row["condition"] == "E0101-02"


async def test_unverifiable_public_report_is_not_accepted(
    client: Client, store: EventStore
) -> None:
    case_id = await start(client, actor=ACCEPTOR, source="open311")
    await cases.act(client, case_id, c.RejectCase(actor=ACCEPTOR, reason="no such place"))
    assert await finished(client, case_id) == "rejected"
    [rejected] = [e for e in store.events(case_id) if e.type == "CaseRejected"]
    assert rejected.kind == "not_accepted"  # type: ignore[attr-defined]


async def test_self_handling_reviewed_and_closed(client: Client, store: EventStore) -> None:
    case_id = new_case_id("self")
    command = report(rules=RULES, self_handled=True, self_handling_result="picked it up")
    await cases.report_case(client, case_id, command, datetime.now(UTC))
    with pytest.raises(WrongRole):
        await cases.act(client, case_id, c.ReviewSelfHandling(actor=HANDLER, approve=True))
    result = await cases.act(client, case_id, c.ReviewSelfHandling(actor=ACCEPTOR, approve=True))
    assert (result.status, result.stage) == ("closed", "closed")
    assert types(store, case_id) == ["CaseReported", "CaseSelfHandled", "SelfHandlingApproved"]
    row = store.case(case_id)
    assert row["self_handled"] and row["closing_type"] == "self_handled"


async def test_refused_self_handling_goes_the_normal_way(client: Client, store: EventStore) -> None:
    case_id = new_case_id("self")
    command = report(rules=RULES, self_handled=True, self_handling_result="swept")
    await cases.report_case(client, case_id, command, datetime.now(UTC))
    refuse = c.ReviewSelfHandling(
        actor=ACCEPTOR, approve=False, note="photo shows it is still there"
    )
    assert (await cases.act(client, case_id, refuse)).stage == "verify"
    assert await steps(client, case_id, main_line()) == [
        "dispatch",
        "sign_for",
        "handle",
        "check",
        "close",
        "closed",
    ]


async def test_cancel_a_filed_case(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    with pytest.raises(WrongStage):
        await cases.act(client, case_id, c.CancelCase(actor=LEADER, reason="wrong"))
    await steps(client, case_id, main_line()[:2])
    with pytest.raises(WrongRole):
        await cases.act(client, case_id, c.CancelCase(actor=DISPATCHER, reason="wrong"))
    result = await cases.act(client, case_id, c.CancelCase(actor=LEADER, reason="filed twice"))
    assert result.status == "cancelled"
    assert await finished(client, case_id) == "cancelled"


async def test_merge_a_duplicate_into_an_open_case(client: Client, store: EventStore) -> None:
    target = await start(client)
    duplicate = await start(client, description="same garbage, other photo")
    with pytest.raises(InvalidCommand, match="no such case"):
        await cases.act(client, duplicate, c.MergeCase(actor=ACCEPTOR, into="sp-missing"))
    assert types(store, duplicate) == ["CaseReported"]
    with pytest.raises(InvalidCommand, match="itself"):
        await cases.act(client, duplicate, c.MergeCase(actor=ACCEPTOR, into=duplicate))
    result = await cases.act(client, duplicate, c.MergeCase(actor=ACCEPTOR, into=target))
    assert result.status == "merged"
    await eventually(lambda: store.case(target)["duplicate_count"] == 1)
    assert types(store, target) == ["CaseReported", "DuplicateMerged"]
    assert store.case(duplicate)["merged_into"] == target
    near = await start(client)  # same category, same point, open
    far = await start(client, location=Location(lon=113.70, lat=34.80))  # ~2.8 km away

    def candidates() -> list[str]:
        found = merge_candidates(store.engine, OPERATOR, target, radius_m=500, limit=1000)
        return [r["case_id"] for r in found]

    # Reported cases reach the projection when their first activity ran.
    found = await eventually(lambda: (lambda ids: ids if near in ids else None)(candidates()))
    assert near in found and far not in found
    assert duplicate not in found and target not in found  # merged away; itself


async def test_return_goes_back_to_dispatch_and_counts(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await steps(client, case_id, main_line()[:2])
    with pytest.raises(InvalidCommand, match="reason"):
        await cases.act(client, case_id, c.RequestReturn(actor=HANDLER, reason=""))
    with pytest.raises(NotYourCase):
        await cases.act(client, case_id, c.RequestReturn(actor=OTHER_HANDLER, reason="not ours"))
    await cases.act(client, case_id, c.RequestReturn(actor=HANDLER, reason="this is a road"))
    with pytest.raises(WrongRole):
        await cases.act(client, case_id, c.DecideReturn(actor=HANDLER, approve=True))
    result = await cases.act(client, case_id, c.DecideReturn(actor=DISPATCHER, approve=True))
    assert result.stage == "dispatch"
    row = store.case(case_id)
    assert row["return_count"] == 1 and row["department"] == "" and row["pending_request"] == ""
    redispatch = c.DispatchCase(actor=DISPATCHER, department="roads", suggested_department=DEPT)
    assert (await cases.act(client, case_id, redispatch)).stage == "sign_for"
    assert (await cases.act(client, case_id, c.SignFor(actor=OTHER_HANDLER))).stage == "handle"
    assert store.case(case_id)["dispatch_count"] == 2


async def test_extension_granted_once_then_refused(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await steps(client, case_id, main_line()[:3])
    before = store.case(case_id)["disposal_due_at"]
    ask = c.RequestExtension(actor=HANDLER, reason="parts on order", amount="2 hours")
    await cases.act(client, case_id, ask)
    # The center's answer is due (the rules' approval_limit), in the projection too.
    [requested] = [r for r in store.records(case_id) if r["type"] == "ExtensionRequested"]
    answer_due = store.case(case_id)["pending_request_due_at"]
    assert answer_due is not None
    assert answer_due.isoformat() == requested["data"]["decision_due_at"]
    with pytest.raises(WrongStage, match="waiting"):
        await cases.act(client, case_id, ask)
    with pytest.raises(WrongRole):
        await cases.act(client, case_id, c.DecideExtension(actor=SUPERVISOR, approve=True))
    granted = await cases.act(client, case_id, c.DecideExtension(actor=LEADER, approve=True))
    after = store.case(case_id)["disposal_due_at"]
    assert store.case(case_id)["pending_request_due_at"] is None
    assert (after - before).total_seconds() == 2 * 3600
    assert granted.stage_due_at == after
    with pytest.raises(WrongStage, match="1 extension"):
        await cases.act(client, case_id, ask)
    assert store.case(case_id)["extension_count"] == 1


async def test_extension_denied_needs_a_note(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await steps(client, case_id, main_line()[:3])
    await cases.act(
        client, case_id, c.RequestExtension(actor=HANDLER, reason="rain", amount="1 days")
    )
    with pytest.raises(InvalidCommand, match="reason for denying"):
        await cases.act(client, case_id, c.DecideExtension(actor=DISPATCHER, approve=False))
    await cases.act(client, case_id, c.DecideExtension(actor=DISPATCHER, approve=False, note="no"))
    assert types(store, case_id)[-2:] == ["ExtensionRequested", "ExtensionDenied"]
    assert store.case(case_id)["extension_count"] == 0


async def test_suspension_stops_the_clock_and_resumes(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await steps(client, case_id, main_line()[:3])
    await cases.act(
        client, case_id, c.RequestSuspension(actor=HANDLER, reason="needs a road permit")
    )
    await cases.act(client, case_id, c.DecideSuspension(actor=COMMANDER, approve=True))
    row = store.case(case_id)
    assert row["status"] == "suspended" and row["stage_due_at"] is None
    with pytest.raises(WrongStage, match="suspended"):
        await cases.act(client, case_id, c.SubmitFeedback(actor=HANDLER, result="done"))
    result = await cases.act(client, case_id, c.ResumeCase(actor=DISPATCHER, note="permit granted"))
    assert result.status == "open" and result.stage_due_at is not None
    await cases.act(client, case_id, c.SubmitFeedback(actor=HANDLER, result="done"))
    assert types(store, case_id)[-4:] == [
        "SuspensionRequested",
        "CaseSuspended",
        "CaseResumed",
        "FeedbackSubmitted",
    ]


async def test_long_suspension_becomes_backlog(client: Client, store: EventStore) -> None:
    rules = CaseRules.from_dict(dict(stage_limits=RULES.stage_limits, backlog_after="0.02 minutes"))
    case_id = await start(client, rules=rules)
    await steps(client, case_id, main_line()[:3])
    await cases.act(client, case_id, c.RequestSuspension(actor=HANDLER, reason="winter"))
    await cases.act(client, case_id, c.DecideSuspension(actor=DISPATCHER, approve=True))
    await eventually(lambda: store.case(case_id)["backlog"])
    notices = notifications(store.engine, OPERATOR, case_id=case_id)
    assert "case_backlogged" in [n["kind"] for n in notices]


async def test_rework_cycles_and_bundled_deadline(client: Client, store: EventStore) -> None:
    bundled = CaseRules.from_dict(dict(stage_limits=RULES.stage_limits, bundle_disposal=True))
    case_id = await start(client, rules=bundled)
    await steps(client, case_id, main_line()[:4])
    due = store.case(case_id)["disposal_due_at"]
    for cycle in (1, 2):
        fail = c.RecordClosureCheck(actor=WORKER, passed=False, note=f"still dirty {cycle}")
        await cases.act(client, case_id, fail)
        assert store.case(case_id)["rework_count"] == cycle
        assert store.case(case_id)["disposal_due_at"] == due  # bundled: not reset
        await cases.act(client, case_id, c.SubmitFeedback(actor=HANDLER, result="again"))
    assert await steps(client, case_id, main_line()[4:]) == ["close", "closed"]


async def test_urge_supervise_and_reply(client: Client, store: EventStore) -> None:
    case_id = await start(client)
    await steps(client, case_id, main_line()[:3])
    with pytest.raises(WrongRole):
        await cases.act(client, case_id, c.UrgeCase(actor=DISPATCHER, message="hurry"))
    await cases.act(client, case_id, c.UrgeCase(actor=SUPERVISOR, message="citizens complain"))
    order = c.SuperviseCase(actor=SUPERVISOR, level=SupervisionLevel.YELLOW, message="late twice")
    await cases.act(client, case_id, order)
    row = store.case(case_id)
    assert row["supervision_level"] == "yellow" and row["supervision_pending"]
    assert row["urge_count"] == 1
    with pytest.raises(NotYourCase):
        await cases.act(client, case_id, c.ReplyToSupervision(actor=OTHER_HANDLER, reply="x"))
    await cases.act(client, case_id, c.ReplyToSupervision(actor=HANDLER, reply="crew sent"))
    assert not store.case(case_id)["supervision_pending"]
    audiences = {n["audience"] for n in notifications(store.engine, OPERATOR, case_id=case_id)}
    assert f"department:{DEPT}" in audiences


async def test_ladder_yellow_red_and_automatic_cards(client: Client, store: EventStore) -> None:
    rules = CaseRules.from_dict(
        dict(
            stage_limits={**RULES.stage_limits, "sign_for": "0.02 minutes"},
            conditions={"E0101-01": "4 hours"},
            yellow_card_after="0.02 minutes",
            red_card_after="0.04 minutes",
        )
    )
    case_id = await start(client, rules=rules)
    await steps(client, case_id, main_line()[:2])
    await eventually(lambda: store.case(case_id)["supervision_level"] == "red", timeout=30)
    ladder = [e for e in store.events(case_id) if e.version > 3]
    assert [e.type for e in ladder] == [
        "StageWarned",
        "StageOverdue",
        "SupervisionIssued",
        "SupervisionIssued",
    ]
    assert [e.level.value for e in ladder[2:]] == ["yellow", "red"]  # type: ignore[attr-defined]
    assert all(e.actor.role is Role.SYSTEM for e in ladder)
    # Signing for moves on and starts a new, uncarded stage. The sign-for was late, the
    # disposal (4 hours) was not: the case closes as normal.
    await steps(client, case_id, main_line()[2:3])
    assert store.case(case_id)["supervision_level"] == ""
    await steps(client, case_id, main_line()[3:])
    assert store.case(case_id)["closing_type"] == "normal"
