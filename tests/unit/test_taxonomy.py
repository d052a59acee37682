"""The category taxonomy: packaged table, validation, local extensions, lookups."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import pytest

from domain.calendar import TimeLimit, TimeUnit
from domain.errors import DomainError
from domain.taxonomy import (
    GRIDCASE_DEFAULT_BASIS,
    InvalidTaxonomy,
    Kind,
    Taxonomy,
    UnknownCategory,
    Urgency,
    default_taxonomy,
    load_taxonomy,
)


def base_document() -> dict[str, Any]:
    text = (resources.files("domain") / "data" / "taxonomy.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def extension_document() -> dict[str, Any]:
    return {
        "departments": [{"code": "pet_office", "name_zh": "犬类管理", "name_en": "Dog control"}],
        "categories": [
            {
                "code": "E0601",
                "name_zh": "犬只扰民",
                "name_en": "Nuisance dogs",
                "urgency": "ordinary",
                "default_department": "pet_office",
                "self_handling": False,
                "extension": False,  # the loader marks extensions whatever the file says
                "conditions": [
                    {
                        "id": "E0601-01",
                        "description_zh": "未拴绳遛狗",
                        "description_en": "Dog walked off the lead",
                        "limit": "1 working_days",
                        "closing_zh": "已劝导",
                        "closing_en": "Owner told",
                    }
                ],
            },
            {
                "code": "C0199",
                "name_zh": "充电桩",
                "name_en": "EV charging post",
                "urgency": "ordinary",
                "default_department": "power",
                "conditions": [
                    {
                        "id": "C0199-01",
                        "description_zh": "充电桩损坏",
                        "description_en": "Charging post broken",
                        "limit": {"amount": 3, "unit": "working_days"},
                        "closing_zh": "已修复",
                        "closing_en": "Repaired",
                    }
                ],
            },
        ],
    }


# -- the packaged table ----------------------------------------------------------------
def test_default_taxonomy_loads_and_covers_both_kinds() -> None:
    taxonomy = default_taxonomy()
    kinds = {c.kind for c in taxonomy}
    assert kinds == {Kind.COMPONENT, Kind.EVENT}
    assert len(taxonomy) >= 50
    assert taxonomy is default_taxonomy()  # cached: it is immutable


def test_every_class_is_complete_and_points_at_a_known_department() -> None:
    taxonomy = default_taxonomy()
    department_codes = {d.code for d in taxonomy.departments}
    for category in taxonomy:
        assert category.conditions, category.code
        assert category.default_department in department_codes, category.code
        assert category.name_zh and category.name_en
        assert not category.extension
        taxonomy.major_class(category.kind, category.major_code)  # its major exists
        for condition in category.conditions:
            assert condition.id.startswith(category.code + "-")
            assert condition.limit.amount > 0
            assert isinstance(condition.limit.unit, TimeUnit)
            assert condition.closing_zh and condition.closing_en
            assert condition.basis


def test_codes_are_unique_and_well_formed() -> None:
    taxonomy = default_taxonomy()
    codes = [c.code for c in taxonomy]
    condition_ids = [f.id for c in taxonomy for f in c.conditions]
    assert len(codes) == len(set(codes))
    assert len(condition_ids) == len(set(condition_ids))
    assert all(re.fullmatch(r"[CE]\d{4}", code) for code in codes)
    for category in taxonomy:
        assert category.code[0] == category.kind.prefix


def test_major_class_names_follow_the_domain_brief() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.major_class(Kind.COMPONENT, "01").name_zh == "公用设施"
    assert taxonomy.major_class(Kind.EVENT, "01").name_zh == "市容环境"
    assert taxonomy.major_class(Kind.EVENT, "04").name_zh == "突发事件"
    assert taxonomy.major_class(Kind.EVENT, "06").name_zh == "扩展事件"


@pytest.mark.parametrize(
    ("condition_id", "limit"),
    [
        ("E0101-01", TimeLimit(4, TimeUnit.WORKING_HOURS)),  # exposed garbage
        ("E0103-01", TimeLimit(4, TimeUnit.WORKING_HOURS)),  # illegal construction: stop
        ("E0103-02", TimeLimit(7, TimeUnit.WORKING_DAYS)),  # penalty
        ("E0103-03", TimeLimit(15, TimeUnit.WORKING_DAYS)),  # demolition
        ("C0101-01", TimeLimit(4, TimeUnit.URGENT_HOURS)),  # missing manhole cover
        ("C0101-02", TimeLimit(36, TimeUnit.URGENT_HOURS)),  # ... when repair is impossible
        ("C0110-01", TimeLimit(1, TimeUnit.WORKING_DAYS)),  # three dark lamps in a row
    ],
)
def test_limits_taken_from_the_domain_brief(condition_id: str, limit: TimeLimit) -> None:
    condition = default_taxonomy().condition(condition_id)
    assert condition.limit == limit
    assert condition.basis != GRIDCASE_DEFAULT_BASIS  # it names the local rule


def test_dirty_road_limits_lie_in_the_documented_range() -> None:
    for condition in default_taxonomy().category("E0102").conditions:
        assert condition.limit.unit is TimeUnit.WORKING_HOURS
        assert 2 <= condition.limit.amount <= 5


def test_every_manhole_cover_kind_has_the_missing_cover_conditions() -> None:
    taxonomy = default_taxonomy()
    covers = [c for c in taxonomy if c.name_en.endswith("manhole cover")]
    assert len(covers) >= 7
    for cover in covers:
        assert cover.urgency is Urgency.URGENT
        hours = sorted(f.limit.amount for f in cover.conditions if "missing" in f.description_en)
        assert hours == [4, 36]


def test_self_handling_is_allowed_for_trivial_classes_only() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.category("E0101").self_handling  # exposed garbage
    assert taxonomy.category("E0201").self_handling  # illegal flyers
    assert not taxonomy.category("E0103").self_handling  # illegal construction
    assert not any(c.self_handling for c in taxonomy if c.urgency is Urgency.URGENT)


# -- lookups ---------------------------------------------------------------------------
def test_unknown_category_names_the_code() -> None:
    with pytest.raises(UnknownCategory, match=r"unknown category code 'E0999'") as info:
        default_taxonomy().category("E0999")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, DomainError)


def test_unknown_category_suggests_close_codes() -> None:
    with pytest.raises(UnknownCategory, match="did you mean"):
        default_taxonomy().category("E0193")


def test_unknown_condition_is_an_unknown_category_error() -> None:
    with pytest.raises(UnknownCategory, match="E0103-09"):
        default_taxonomy().condition("E0103-09")


def test_lookups_find_what_is_there() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.category("E0103").name_zh == "违法建设"
    assert taxonomy.condition("E0103-01").limit.unit is TimeUnit.WORKING_HOURS
    assert taxonomy.department("sanitation").name_zh == "环卫"
    assert "C0101" in taxonomy and "C9999" not in taxonomy


# -- validation on load ----------------------------------------------------------------
def _broken(edit: str) -> dict[str, Any]:
    document = base_document()
    category = document["categories"][0]
    condition = category["conditions"][0]
    if edit == "duplicate code":
        document["categories"].append(copy.deepcopy(category))
    elif edit == "bad code":
        category["code"] = "X0101"
    elif edit == "zero limit":
        condition["limit"] = {"amount": 0, "unit": "working_hours"}
    elif edit == "unknown unit":
        condition["limit"] = {"amount": 4, "unit": "fortnights"}
    elif edit == "unknown department":
        category["default_department"] = "ministry_of_silly_walks"
    elif edit == "no conditions":
        category["conditions"] = []
    elif edit == "condition outside its class":
        condition["id"] = "E0101-01"
    elif edit == "unknown major":
        category["code"] = "C0901"
        for i, f in enumerate(category["conditions"], start=1):
            f["id"] = f"C0901-{i:02d}"
    elif edit == "bad urgency":
        category["urgency"] = "whenever"
    return document


@pytest.mark.parametrize(
    "edit",
    [
        "duplicate code",
        "bad code",
        "zero limit",
        "unknown unit",
        "unknown department",
        "no conditions",
        "condition outside its class",
        "unknown major",
        "bad urgency",
    ],
)
def test_invalid_documents_are_refused(edit: str) -> None:
    with pytest.raises(InvalidTaxonomy):
        Taxonomy.from_dict(_broken(edit))


def test_invalid_taxonomy_is_a_value_error_naming_the_class() -> None:
    with pytest.raises(ValueError, match="ministry_of_silly_walks"):
        Taxonomy.from_dict(_broken("unknown department"))


# -- local extensions ------------------------------------------------------------------
def test_extension_adds_classes_marked_as_extensions() -> None:
    base = Taxonomy.from_dict(base_document())
    extended = base.extend(extension_document())
    assert len(extended) == len(base) + 2
    dogs = extended.category("E0601")
    assert dogs.extension and dogs.kind is Kind.EVENT and dogs.major_code == "06"
    assert dogs.conditions[0].limit == TimeLimit(1, TimeUnit.WORKING_DAYS)
    assert dogs.conditions[0].basis == GRIDCASE_DEFAULT_BASIS
    assert extended.category("C0199").extension  # new minor in a built-in major
    assert extended.department("pet_office").extension
    assert not extended.category("E0101").extension
    assert "E0601" not in base  # extending returns a new taxonomy


def test_load_taxonomy_applies_several_documents_in_order() -> None:
    second = {
        "categories": [
            {
                "code": "E0602",
                "name_zh": "高空抛物",
                "name_en": "Objects thrown from height",
                "urgency": "urgent",
                "default_department": "pet_office",  # defined by the first extension
                "conditions": [
                    {
                        "id": "E0602-01",
                        "description_zh": "高空抛物",
                        "description_en": "Objects thrown from a building",
                        "limit": "2 urgent_hours",
                        "closing_zh": "已处置",
                        "closing_en": "Dealt with",
                    }
                ],
            }
        ]
    }
    taxonomy = load_taxonomy(base_document(), extension_document(), second)
    assert taxonomy.category("E0602").extension
    assert taxonomy.category("E0602").urgency is Urgency.URGENT


def test_extension_clashing_with_a_built_in_code_is_refused() -> None:
    clash = extension_document()
    clash["categories"][0]["code"] = "E0101"
    clash["categories"][0]["conditions"][0]["id"] = "E0101-01"
    with pytest.raises(ValueError, match=r"E0101 clashes with a built-in class"):
        default_taxonomy().extend(clash)


def test_extension_clashing_with_an_earlier_extension_is_refused() -> None:
    once = default_taxonomy().extend(extension_document())
    again = extension_document()
    del again["departments"]
    with pytest.raises(ValueError, match="clashes with a local extension"):
        once.extend(again)


def test_extension_with_an_unknown_department_is_refused() -> None:
    orphan = extension_document()
    del orphan["departments"]
    with pytest.raises(ValueError, match="unknown department 'pet_office'"):
        default_taxonomy().extend(orphan)


def test_extension_may_add_a_local_major_class() -> None:
    document = {
        "major_classes": [
            {"kind": "component", "code": "07", "name_zh": "智慧设施", "name_en": "Smart"}
        ],
        "categories": [
            {
                "code": "C0701",
                "name_zh": "智能垃圾箱",
                "name_en": "Smart bin",
                "urgency": "ordinary",
                "default_department": "sanitation",
                "conditions": [
                    {
                        "id": "C0701-01",
                        "description_zh": "离线",
                        "description_en": "Offline",
                        "limit": "3 working_days",
                        "closing_zh": "恢复在线",
                        "closing_en": "Online again",
                    }
                ],
            }
        ],
    }
    extended = default_taxonomy().extend(document)
    assert extended.major_class(Kind.COMPONENT, "07").extension
    with pytest.raises(ValueError, match="already exists"):
        extended.extend({"major_classes": document["major_classes"]})
