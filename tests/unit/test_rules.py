"""The case rules hold parsed limits; their recorded form (event store, Temporal wire, policy
file) stays the text it always was, and records of older releases read back."""

from __future__ import annotations

import json

import pytest
from temporalio.api.common.v1 import Payload

from domain.calendar import TimeLimit, TimeUnit, WorkingCalendar
from domain.codec import from_record, to_record
from domain.events import CaseReported
from domain.policy import CenterPolicy
from domain.rules import CaseRules
from domain.stages import SupervisionLevel
from domain.taxonomy import default_taxonomy
from tests.factories import T0, WORKER, report
from workflows.converter import DATA_CONVERTER
from workflows.types import CaseInput

# CaseReported.rules as releases before parsed limits recorded it (default_department too).
OLD_RULES = {
    "stage_limits": {"verify": "30 minutes", "handle": "1 working_days"},
    "conditions": {"E0101-01": "4 working_hours"},
    "urgency": "ordinary",
    "self_handling": False,
    "default_department": "sanitation",
    "warn_ratio": 0.8,
    "yellow_card_after": "1 working_days",
    "red_card_after": "2 working_days",
    "max_extensions": 1,
    "bundle_disposal": False,
    "backlog_after": "60 calendar_days",
    "reply_limit": "1 working_days",
    "approval_limit": "1 working_hours",
    "calendar": {},
}
OLD_RECORD = {
    "type": "CaseReported",
    "schema_version": 2,
    "case_id": "r-old",
    "version": 1,
    "occurred_at": T0.isoformat(),
    "actor": {"id": WORKER.id, "role": "grid_worker", "unit": WORKER.unit},
    "data": {"category": "E0101", "grid": "g", "description": "d", "rules": OLD_RULES},
}


def test_rules_hold_parsed_limits() -> None:
    rules = CaseRules.from_dict(OLD_RULES)
    assert rules.stage_limits["verify"] == TimeLimit(30, TimeUnit.MINUTES)
    assert rules.conditions == {"E0101-01": TimeLimit(4, TimeUnit.WORKING_HOURS)}
    assert rules.card_after(SupervisionLevel.RED) == TimeLimit(2, TimeUnit.WORKING_DAYS)
    assert rules.card_after(SupervisionLevel.ORDINARY) is None


def test_an_old_record_reads_back_and_is_recorded_the_same_way() -> None:
    event = from_record(OLD_RECORD)
    assert isinstance(event, CaseReported)
    assert event.rules.approval_limit == TimeLimit(1, TimeUnit.WORKING_HOURS)
    recorded = to_record(event)
    # Same keys and text as before, less the retired default_department, plus what schema-2
    # rules meant: yellow at the warn share of the wall-clock time left, late extensions.
    assert recorded["schema_version"] == 3
    assert recorded["data"]["rules"] == {
        k: v for k, v in OLD_RULES.items() if k != "default_department"
    } | {
        "yellow_in_limit_unit": False,
        "late_extensions": True,
        "max_extension": "30 working_days",
    }
    assert from_record(recorded) == event
    assert not event.rules.yellow_in_limit_unit and event.rules.late_extensions
    # Rules written today say the current meaning.
    assert CaseRules().yellow_in_limit_unit and not CaseRules().late_extensions


def test_rules_refuse_text_where_a_limit_belongs_and_name_bad_limits() -> None:
    with pytest.raises(TypeError, match="reply_limit must be a TimeLimit"):
        CaseRules(reply_limit="2 hours")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time limit of conditions E1: unknown time unit"):
        CaseRules.from_dict({"conditions": {"E1": "3 fortnights"}})
    with pytest.raises(ValueError, match="unknown rule"):
        CaseRules.from_dict({"stage_limit": {}})


def test_the_temporal_wire_form_of_the_rules_is_text_and_old_payloads_read() -> None:
    converter = DATA_CONVERTER.payload_converter
    rules = CaseRules.from_dict(OLD_RULES)
    inp = CaseInput(case_id="r-1", report=report(rules=rules))
    [payload] = converter.to_payloads([inp])
    wire = json.loads(payload.data)
    assert wire["report"]["rules"]["yellow_card_after"] == "1 working_days"
    assert wire["report"]["rules"]["conditions"] == {"E0101-01": "4 working_hours"}
    [back] = converter.from_payloads([payload], [CaseInput])
    assert back == inp
    # What older clients wrote: limits as text with the retired key, or (a client
    # without the shared converter) as {"amount", "unit"}.
    wire["report"]["rules"] = OLD_RULES | {"reply_limit": {"amount": 2, "unit": "hours"}}
    old = Payload(metadata=payload.metadata, data=json.dumps(wire).encode())
    [read] = converter.from_payloads([old], [CaseInput])
    assert read.report.rules is not None
    assert read.report.rules.reply_limit == TimeLimit(2, TimeUnit.HOURS)
    assert read.report.rules.conditions == rules.conditions


def test_policy_file_form_round_trips_and_builds_the_rules_of_a_case() -> None:
    policy = CenterPolicy.from_dict({"stage_limits": {"verify": "20 minutes"}, "max_extensions": 2})
    assert policy.base.stage_limits == {"verify": TimeLimit(20, TimeUnit.MINUTES)}
    assert CenterPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert set(CenterPolicy().to_dict()) == {
        "stage_limits",
        "urgent_stage_limits",
        "warn_ratio",
        "yellow_card_after",
        "red_card_after",
        "max_extensions",
        "max_extension",
        "bundle_disposal",
        "backlog_after",
        "reply_limit",
        "approval_limit",
        "late_extensions",
        "site_distance_warning_m",
    }
    # How yellow is placed is the release's, never a center's setting.
    with pytest.raises(ValueError, match="unknown policy setting"):
        CenterPolicy.from_dict({"yellow_in_limit_unit": False})
    assert CenterPolicy.from_dict({"site_distance_warning_m": 50}).site_distance_warning_m == 50
    for bad in (0, -1, "far", True):
        with pytest.raises(ValueError, match="site_distance_warning_m"):
            CenterPolicy.from_dict({"site_distance_warning_m": bad})
    taxonomy = default_taxonomy()
    urgent = next(cat for cat in taxonomy if cat.urgency.value == "urgent")
    rules = CenterPolicy().rules_for(urgent, WorkingCalendar())
    assert rules.urgency == "urgent"
    assert rules.stage_limits["verify"] == TimeLimit(10, TimeUnit.MINUTES)
    assert rules.conditions == {f.id: f.limit for f in urgent.conditions}
    assert rules.max_extensions == CenterPolicy().base.max_extensions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stage_limits": {"lunch": "1 hours"}}, "'lunch' is not a stage with a time limit"),
        ({"urgent_stage_limits": {"verify": "soon"}}, "urgent_stage_limits verify"),
        ({"conditions": {}}, "unknown policy setting"),
        ({"default_department": "x"}, "unknown policy setting"),
        ({"yellow_card_after": 5}, "time limit of yellow_card_after"),
    ],
)
def test_a_bad_policy_says_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CenterPolicy.from_dict(data)
