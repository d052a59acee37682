"""Routing (派遣规则): which department (处置部门) a case goes to, by category and place.

Every category names a default department in the taxonomy. A district overrides it with
rules ``{category, area, department}``: ``category`` is a full code ("E0101"), a major-class
prefix ("E01", every minor class of 事件 01 市容环境) or "*"; ``area`` is an org-code prefix
(6-digit district, 9-digit street, 12-digit community, 15-digit unit grid) or "*". The rule
that matches and is most specific wins: the longest area first — a street's own rule beats
any district-wide rule, because the place decides who holds the ground — then the most
specific category. With no matching rule the category's default department applies.

Rules are checked against the taxonomy when the router is built, so a typo in an override
file fails at import, not at the first case it would have misrouted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from domain.org import InvalidOrgCode, Level, code_level
from domain.taxonomy import Kind, Taxonomy, UnknownCategory, default_taxonomy

__all__ = [
    "ANY",
    "InvalidRouting",
    "Route",
    "Router",
    "RoutingRule",
]

ANY = "*"
ROUTING_SCHEMA_VERSION = 1
_MAJOR_PREFIX = re.compile(r"^[CE](?!00)\d{2}$")
_RULE_KEYS = frozenset({"category", "area", "department", "note"})
_AREA_LEVEL_ZH = {
    Level.DISTRICT: "区",
    Level.STREET: "街道",
    Level.COMMUNITY: "社区",
    Level.GRID: "单元网格",
}


class InvalidRouting(ValueError):
    """A routing document or rule that does not validate against the taxonomy."""


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One override: cases of ``category`` in ``area`` go to ``department``."""

    category: str  # "E0101", "E01" or "*"
    area: str  # org-code prefix (6, 9, 12 or 15 digits) or "*"
    department: str
    note: str = ""  # why the rule exists, for the operator reading `route`

    @property
    def area_rank(self) -> int:
        """0 for "*", else the prefix length: the longer, the more specific."""
        return 0 if self.area == ANY else len(self.area)

    @property
    def category_rank(self) -> int:
        """0 for "*", 1 for a major-class prefix, 2 for a full category code."""
        return 0 if self.category == ANY else 1 if len(self.category) == 3 else 2

    @property
    def specificity(self) -> tuple[int, int]:
        return (self.area_rank, self.category_rank)

    def matches(self, category: str, grid: str) -> bool:
        category_ok = self.category == ANY or category.startswith(self.category)
        return category_ok and (self.area == ANY or grid.startswith(self.area))

    def describe(self) -> str:
        area = "everywhere 全区域" if self.area == ANY else f"{self.area} {_area_label(self.area)}"
        category = "every category 全部分类" if self.category == ANY else self.category
        return f"{category} in {area} -> {self.department}"

    def to_dict(self) -> dict[str, str]:
        out = {"category": self.category, "area": self.area, "department": self.department}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Route:
    """Where a case goes and why: the winning rule, or None for the category's default."""

    department: str
    rule: RoutingRule | None

    @property
    def is_default(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class Router:
    """The taxonomy's default departments plus validated overrides (immutable)."""

    taxonomy: Taxonomy
    rules: tuple[RoutingRule, ...] = ()
    _by_key: Mapping[tuple[str, str], RoutingRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        by_key: dict[tuple[str, str], RoutingRule] = {}
        for number, rule in enumerate(self.rules, start=1):
            _check_rule(self.taxonomy, rule, number)
            key = (rule.category, rule.area)
            if key in by_key:
                raise InvalidRouting(
                    f"routing rule {number} ({rule.describe()}): another rule already covers "
                    f"category {rule.category!r} in area {rule.area!r} "
                    f"(-> {by_key[key].department}); keep one"
                )
            by_key[key] = rule
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))

    def route(self, category: str, grid: str) -> Route:
        """The department for a case of ``category`` located in unit grid ``grid``.

        UnknownCategory for a code the taxonomy lacks; InvalidOrgCode for a grid code that
        is not a 15-digit unit-grid code.
        """
        default = self.taxonomy.category(category).default_department
        if code_level(grid) is not Level.GRID:
            raise InvalidOrgCode(f"{grid!r} is not a 15-digit unit grid code (单元网格编码)")
        # Most specific first: area prefixes longest first, then category patterns.
        for area in (grid, grid[:12], grid[:9], grid[:6], ANY):
            for pattern in (category, category[:3], ANY):
                rule = self._by_key.get((pattern, area))
                if rule is not None:
                    return Route(rule.department, rule)
        return Route(default, None)

    def matching(self, category: str, grid: str) -> tuple[RoutingRule, ...]:
        """Every rule that matches, most specific first (the first one is the route's)."""
        found = [rule for rule in self.rules if rule.matches(category, grid)]
        return tuple(sorted(found, key=lambda r: r.specificity, reverse=True))

    # -- JSON ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, document: Mapping[str, Any], taxonomy: Taxonomy | None = None) -> Router:
        """Build from ``{"rules": [{category, area, department, note?}, ...]}``.

        Validated against ``taxonomy`` (the shipped one when not given).
        """
        if not isinstance(document, Mapping):
            raise InvalidRouting(
                f"a routing document must be a JSON object, got {type(document).__name__}"
            )
        version = document.get("schema_version", ROUTING_SCHEMA_VERSION)
        if version != ROUTING_SCHEMA_VERSION:
            raise InvalidRouting(f"unsupported routing schema_version {version!r}")
        raw_rules = document.get("rules")
        if not isinstance(raw_rules, list):
            raise InvalidRouting('a routing document needs a "rules" list (it may be empty)')
        rules = tuple(_parse_rule(raw, number) for number, raw in enumerate(raw_rules, start=1))
        return cls(taxonomy if taxonomy is not None else default_taxonomy(), rules)

    def to_dict(self) -> dict[str, Any]:
        """The overrides only; the defaults live in the taxonomy."""
        return {
            "schema_version": ROUTING_SCHEMA_VERSION,
            "rules": [rule.to_dict() for rule in self.rules],
        }


def _parse_rule(raw: Any, number: int) -> RoutingRule:
    if not isinstance(raw, Mapping):
        raise InvalidRouting(f"routing rule {number} must be an object, got {raw!r}")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise InvalidRouting(
            f"routing rule {number}: unknown field(s) {', '.join(map(repr, unknown))}; "
            "a rule has category, area, department and an optional note"
        )
    values: dict[str, str] = {}
    for key in ("category", "area", "department"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidRouting(
                f"routing rule {number}: {key!r} must be a non-empty string, got {value!r}"
            )
        values[key] = value.strip()
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise InvalidRouting(f"routing rule {number}: 'note' must be a string")
    return RoutingRule(note=note, **values)


def _check_rule(taxonomy: Taxonomy, rule: RoutingRule, number: int) -> None:
    where = f"routing rule {number} ({rule.category} / {rule.area} -> {rule.department})"
    category = rule.category
    if category != ANY:
        if _MAJOR_PREFIX.match(category):
            try:
                taxonomy.major_class(Kind.of_code(category), category[1:])
            except UnknownCategory:
                raise InvalidRouting(
                    f"{where}: no major class {category} (大类) in the taxonomy"
                ) from None
        elif category not in taxonomy:
            try:
                taxonomy.category(category)
            except UnknownCategory as exc:
                raise InvalidRouting(
                    f"{where}: category must be a category code like E0101, a major-class "
                    f'prefix like E01, or "*"; {exc.message}'
                ) from None
    if rule.area != ANY:
        try:
            code_level(rule.area)
        except InvalidOrgCode as exc:
            raise InvalidRouting(
                f'{where}: area must be "*" or a district/street/community/grid code; {exc}'
            ) from None
    try:
        taxonomy.department(rule.department)
    except LookupError as exc:
        raise InvalidRouting(f"{where}: {exc.args[0]}") from None


def _area_label(code: str) -> str:
    level = code_level(code)
    return f"({level.value} {_AREA_LEVEL_ZH[level]})"
