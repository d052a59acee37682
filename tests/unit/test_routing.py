"""Routing (派遣规则): specificity order, fallback to the default department, refused overrides."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.org import InvalidOrgCode
from domain.routing import ANY, InvalidRouting, Route, Router, RoutingRule
from domain.taxonomy import UnknownCategory, default_taxonomy

TAXONOMY = default_taxonomy()
DISTRICT = "410105"
STREET = "410105001"
COMMUNITY = "410105001002"
GRID = "410105001002003"
OTHER_GRID = "410105002001001"  # another street
GARBAGE = "E0101"  # 暴露垃圾, default sanitation
CONSTRUCTION = "E0103"  # 违法建设, default urban_law_enforcement
COVER = "C0101"  # 上水井盖, default water_supply


def router(*rules: tuple[str, str, str]) -> Router:
    return Router(TAXONOMY, tuple(RoutingRule(*r) for r in rules))


# -- fallback ------------------------------------------------------------------------------
def test_without_rules_every_category_goes_to_its_default_department() -> None:
    r = Router(TAXONOMY)
    for category in TAXONOMY:
        assert r.route(category.code, GRID) == Route(category.default_department, None)
    assert r.route(GARBAGE, GRID).is_default


def test_rules_that_do_not_match_leave_the_default() -> None:
    r = router(
        ("E0102", ANY, "street_office"),  # another category
        ("C01", ANY, "street_office"),  # another kind: C01 is not E01
        (ANY, "410105002", "street_office"),  # another street
        (ANY, "410106", "street_office"),  # another district
    )
    assert r.route(GARBAGE, GRID) == Route("sanitation", None)
    assert r.matching(GARBAGE, GRID) == ()


# -- specificity ---------------------------------------------------------------------------
SPECIFICITY_LADDER = [
    # Each rule is more specific than the one before; added in this order, each must win.
    (ANY, ANY, "street_office"),
    ("E01", ANY, "landscaping"),
    (GARBAGE, ANY, "market_regulation"),
    (ANY, DISTRICT, "drainage"),
    ("E01", DISTRICT, "gas"),
    (GARBAGE, DISTRICT, "power"),
    (ANY, STREET, "telecom"),
    (GARBAGE, STREET, "heating"),
    (ANY, COMMUNITY, "fire"),
    ("E01", COMMUNITY, "traffic_police"),
    (ANY, GRID, "public_transport"),
    (GARBAGE, GRID, "ecology_environment"),
]


@pytest.mark.parametrize("upto", range(1, len(SPECIFICITY_LADDER) + 1))
def test_the_most_specific_matching_rule_wins(upto: int) -> None:
    rules = SPECIFICITY_LADDER[:upto]
    # Given in reverse too: the order of the file never decides.
    for ordered in (rules, rules[::-1]):
        r = router(*ordered)
        result = r.route(GARBAGE, GRID)
        assert result.department == rules[-1][2]
        assert result.rule == RoutingRule(*rules[-1])
        assert r.matching(GARBAGE, GRID)[0] == result.rule


def test_area_outranks_category() -> None:
    # A street's catch-all beats a district-wide rule for the exact category: the place
    # decides who holds the ground.
    r = router((GARBAGE, ANY, "market_regulation"), (ANY, STREET, "street_office"))
    assert r.route(GARBAGE, GRID).department == "street_office"
    assert r.route(GARBAGE, OTHER_GRID).department == "market_regulation"
    assert r.route(CONSTRUCTION, OTHER_GRID) == Route("urban_law_enforcement", None)


def test_major_class_prefix_covers_its_minor_classes_only() -> None:
    r = router(("E01", STREET, "street_office"))
    assert r.route(GARBAGE, GRID).department == "street_office"
    assert r.route(CONSTRUCTION, GRID).department == "street_office"
    assert r.route("E0201", GRID).department == "sanitation"  # E02, default
    assert r.route(COVER, GRID).department == "water_supply"  # C01, not E01


def test_matching_lists_every_matching_rule_most_specific_first() -> None:
    r = router(*SPECIFICITY_LADDER)
    matching = r.matching(GARBAGE, GRID)
    assert len(matching) == len(SPECIFICITY_LADDER)
    assert [m.specificity for m in matching] == sorted(
        (m.specificity for m in matching), reverse=True
    )


# -- refused input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ((GARBAGE, ANY, "police"), "unknown department 'police'"),
        ((GARBAGE, ANY, "Sanitation"), "unknown department"),
        (("E0199", ANY, "sanitation"), "unknown category code 'E0199'"),
        (("E09", ANY, "sanitation"), "no major class E09"),
        (("E1", ANY, "sanitation"), "category must be"),
        (("X0101", ANY, "sanitation"), "category must be"),
        (("e0101", ANY, "sanitation"), "category must be"),
        (("E00", ANY, "sanitation"), "category must be"),
        ((GARBAGE, "41010", "sanitation"), "area must be"),
        ((GARBAGE, "4101050010", "sanitation"), "area must be"),
        ((GARBAGE, "410105000", "sanitation"), "area must be"),
        ((GARBAGE, "410100", "sanitation"), "not a GB/T 2260 county code"),
        ((GARBAGE, "**", "sanitation"), "area must be"),
    ],
)
def test_a_bad_override_is_refused_on_load(rule: tuple[str, str, str], message: str) -> None:
    with pytest.raises(InvalidRouting, match=message) as info:
        router(("E01", ANY, "sanitation"), rule)
    assert str(info.value).startswith("routing rule 2 ")  # says which rule
    assert isinstance(info.value, ValueError)


def test_two_rules_for_the_same_category_and_area_are_refused() -> None:
    with pytest.raises(InvalidRouting, match="already covers category 'E01' in area"):
        router(("E01", STREET, "sanitation"), ("E01", STREET, "street_office"))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({}, '"rules" list'),
        ({"rules": {}}, '"rules" list'),
        ({"schema_version": 2, "rules": []}, "schema_version"),
        ({"rules": ["E0101"]}, "rule 1 must be an object"),
        ({"rules": [{"category": GARBAGE, "area": ANY}]}, "'department' must be"),
        ({"rules": [{"category": GARBAGE, "area": 410105, "department": "gas"}]}, "'area'"),
        (
            {"rules": [{"category": GARBAGE, "grid": GRID, "department": "gas"}]},
            "unknown field",
        ),
        ({"rules": [{"category": GARBAGE, "area": ANY, "department": "x", "note": 1}]}, "note"),
    ],
)
def test_a_malformed_document_is_refused(document: object, message: str) -> None:
    with pytest.raises(InvalidRouting, match=message):
        Router.from_dict(document)  # type: ignore[arg-type]


def test_route_refuses_an_unknown_category_and_a_non_grid_code() -> None:
    r = Router(TAXONOMY)
    with pytest.raises(UnknownCategory, match="E0199"):
        r.route("E0199", GRID)
    with pytest.raises(UnknownCategory):
        r.route("E01", GRID)
    with pytest.raises(InvalidOrgCode, match="unit grid"):
        r.route(GARBAGE, COMMUNITY)
    with pytest.raises(InvalidOrgCode):
        r.route(GARBAGE, "41010500100200x")


# -- JSON ----------------------------------------------------------------------------------
def test_dict_round_trip() -> None:
    r = Router(
        TAXONOMY,
        (
            RoutingRule("E01", STREET, "street_office", note="street office cleans its lanes"),
            RoutingRule(ANY, GRID, "fire"),
        ),
    )
    document = r.to_dict()
    assert document["rules"][0] == {
        "category": "E01",
        "area": STREET,
        "department": "street_office",
        "note": "street office cleans its lanes",
    }
    assert "note" not in document["rules"][1]
    assert Router.from_dict(document) == r
    assert Router.from_dict({"rules": []}) == Router(TAXONOMY)


def test_from_dict_checks_against_the_given_taxonomy() -> None:
    local = TAXONOMY.extend(
        {
            "departments": [{"code": "property_mgmt", "name_zh": "物业", "name_en": "Property"}],
        }
    )
    document = {"rules": [{"category": GARBAGE, "area": COMMUNITY, "department": "property_mgmt"}]}
    with pytest.raises(InvalidRouting, match="property_mgmt"):
        Router.from_dict(document)
    assert Router.from_dict(document, local).route(GARBAGE, GRID).department == "property_mgmt"


# -- property ------------------------------------------------------------------------------
CATEGORY_PATTERNS = [ANY, "E01", "E02", "C01", GARBAGE, CONSTRUCTION, "E0201", COVER]
AREAS = [
    ANY,
    DISTRICT,
    "410106",
    STREET,
    "410105002",
    COMMUNITY,
    "410105001001",
    "410105002001",
    GRID,
    "410105001002001",
    OTHER_GRID,
]
CASE_CATEGORIES = [GARBAGE, CONSTRUCTION, "E0102", "E0201", COVER, "C0102", "E0301"]
CASE_GRIDS = [GRID, "410105001002001", "410105001001001", OTHER_GRID, "410105002002001"]
DEPARTMENTS = [d.code for d in TAXONOMY.departments]

rules_strategy = st.lists(
    st.builds(
        RoutingRule,
        st.sampled_from(CATEGORY_PATTERNS),
        st.sampled_from(AREAS),
        st.sampled_from(DEPARTMENTS),
    ),
    max_size=25,
    unique_by=lambda r: (r.category, r.area),
)


@settings(max_examples=300, deadline=None)
@given(
    rules=rules_strategy,
    category=st.sampled_from(CASE_CATEGORIES),
    grid=st.sampled_from(CASE_GRIDS),
)
def test_the_chosen_rule_matches_and_none_more_specific_does(
    rules: list[RoutingRule], category: str, grid: str
) -> None:
    r = Router(TAXONOMY, tuple(rules))
    result = r.route(category, grid)
    matching = [rule for rule in rules if _matches(rule, category, grid)]
    if result.rule is None:
        assert matching == []
        assert result.department == TAXONOMY.category(category).default_department
        return
    assert result.rule in rules
    assert _matches(result.rule, category, grid)
    assert result.department == result.rule.department
    chosen = _rank(result.rule)
    assert not [rule for rule in matching if _rank(rule) > chosen]


def _matches(rule: RoutingRule, category: str, grid: str) -> bool:
    # Written out again, independently of RoutingRule.matches.
    category_ok = rule.category in (ANY, category, category[:3])
    area_ok = rule.area == ANY or grid[: len(rule.area)] == rule.area
    return category_ok and area_ok


def _rank(rule: RoutingRule) -> tuple[int, int]:
    area = 0 if rule.area == ANY else len(rule.area)
    category = {ANY: 0, 3: 1, 5: 2}[rule.category if rule.category == ANY else len(rule.category)]
    return (area, category)
