"""The category taxonomy (案件分类): components (部件) and events (事件), docs/field-facts.md §6.

A category code is the kind letter ("C" 部件 component, "E" 事件 event) + 2-digit major
class (大类) + 2-digit minor class (小类), e.g. "C0101" 上水井盖, "E0103" 违法建设. A minor
class carries one or more filing conditions (立案条件), numbered inside it ("E0103-01"),
each with its own disposal limit (处置时限) and closing condition (结案条件).

The packaged table is ``domain/data/taxonomy.json``; local extension classes (扩展类) are
added from configuration with :meth:`Taxonomy.extend`, never by editing code.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeVar

from domain.calendar import TimeLimit
from domain.errors import DomainError

__all__ = [
    "Category",
    "Department",
    "FilingCondition",
    "InvalidTaxonomy",
    "Kind",
    "MajorClass",
    "Severity",
    "Taxonomy",
    "UnknownCategory",
    "Urgency",
    "default_taxonomy",
    "load_taxonomy",
]

GRIDCASE_DEFAULT_BASIS = "gridcase default"
_E = TypeVar("_E", bound=StrEnum)

_CATEGORY_CODE = re.compile(r"^[CE](?!00)\d{2}(?!00)\d{2}$")
_CONDITION_ID = re.compile(r"^([CE]\d{4})-(?!00)\d{2}$")
_MAJOR_CODE = re.compile(r"^(?!00)\d{2}$")
_DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class Kind(StrEnum):
    COMPONENT = "component"  # 部件: public facilities, code prefix "C"
    EVENT = "event"  # 事件: things that happen, code prefix "E"

    @property
    def prefix(self) -> str:
        return "C" if self is Kind.COMPONENT else "E"

    @classmethod
    def of_code(cls, code: str) -> Kind:
        return cls.COMPONENT if code.startswith("C") else cls.EVENT


class Urgency(StrEnum):
    URGENT = "urgent"  # 紧急: shorter file/dispatch stage limits
    ORDINARY = "ordinary"  # 一般


class Severity(StrEnum):
    """Grading some cities use to split limits: A urgent, B major, C ordinary."""

    A = "A"
    B = "B"
    C = "C"


class UnknownCategory(DomainError, LookupError):
    """A category code or filing-condition id the taxonomy does not know."""

    code = "unknown_category"


class InvalidTaxonomy(ValueError):
    """A taxonomy document (packaged or local extension) that does not validate."""


@dataclass(frozen=True, slots=True)
class Department:
    """A responsible department (专业部门/处置部门), e.g. ``sanitation`` 环卫."""

    code: str
    name_zh: str
    name_en: str
    extension: bool = False


@dataclass(frozen=True, slots=True)
class MajorClass:
    kind: Kind
    code: str  # 2 digits
    name_zh: str
    name_en: str
    extension: bool = False


@dataclass(frozen=True, slots=True)
class FilingCondition:
    """One filing condition (立案条件) with its disposal limit and closing condition."""

    id: str  # "E0103-01"
    description_zh: str
    description_en: str
    limit: TimeLimit
    closing_zh: str
    closing_en: str
    # Where the limit comes from: a named local rulebook, or GRIDCASE_DEFAULT_BASIS.
    basis: str = GRIDCASE_DEFAULT_BASIS
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A minor class (小类) of the taxonomy."""

    code: str
    name_zh: str
    name_en: str
    urgency: Urgency
    default_department: str
    self_handling: bool  # 自行处置: a grid worker may fix it on the spot
    conditions: tuple[FilingCondition, ...]
    extension: bool = False
    supervising_department: str | None = None  # 监管部门, when a document names one

    @property
    def kind(self) -> Kind:
        return Kind.of_code(self.code)

    @property
    def major_code(self) -> str:
        return self.code[1:3]

    @property
    def minor_code(self) -> str:
        return self.code[3:5]


@dataclass(frozen=True)
class Taxonomy:
    """An immutable, validated taxonomy; build it with :meth:`from_dict`."""

    departments: tuple[Department, ...]
    major_classes: tuple[MajorClass, ...]
    categories: tuple[Category, ...]
    _by_code: Mapping[str, Category] = field(init=False, repr=False, compare=False)
    _conditions: Mapping[str, FilingCondition] = field(init=False, repr=False, compare=False)
    _departments: Mapping[str, Department] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self.departments, self.major_classes, self.categories)
        by_code = {c.code: c for c in self.categories}
        conditions = {f.id: f for c in self.categories for f in c.conditions}
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))
        object.__setattr__(self, "_conditions", MappingProxyType(conditions))
        departments = {d.code: d for d in self.departments}
        object.__setattr__(self, "_departments", MappingProxyType(departments))

    # -- lookups -----------------------------------------------------------------------
    def category(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownCategory(_unknown_message("category code", code, self._by_code)) from None

    def condition(self, condition_id: str) -> FilingCondition:
        try:
            return self._conditions[condition_id]
        except KeyError:
            message = _unknown_message("filing condition", condition_id, self._conditions)
            raise UnknownCategory(message) from None

    def department(self, code: str) -> Department:
        try:
            return self._departments[code]
        except KeyError:
            message = _unknown_message("department", code, self._departments)
            raise LookupError(message) from None

    def major_class(self, kind: Kind, code: str) -> MajorClass:
        for major in self.major_classes:
            if major.kind is kind and major.code == code:
                return major
        raise UnknownCategory(f"unknown {kind.value} major class {code!r}")

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Taxonomy:
        """Build a taxonomy from one JSON document (the packaged base table)."""
        return _parse(document, extension=False, base=None)

    def extend(self, document: Mapping[str, Any]) -> Taxonomy:
        """Add local extension classes (扩展类): a new taxonomy, this one unchanged.

        Everything the document adds is marked ``extension``. It may add departments,
        major classes (e.g. local component majors) and minor classes, including in the
        built-in majors and in 事件 06 扩展事件; it may not redefine a code that exists.
        """
        return _parse(document, extension=True, base=self)


def load_taxonomy(base: Mapping[str, Any], *extensions: Mapping[str, Any]) -> Taxonomy:
    """Build a taxonomy from a base document and local extensions, applied in order."""
    taxonomy = Taxonomy.from_dict(base)
    for extension in extensions:
        taxonomy = taxonomy.extend(extension)
    return taxonomy


@cache
def default_taxonomy() -> Taxonomy:
    """The packaged taxonomy (``domain/data/taxonomy.json``); immutable, so cached."""
    text = (resources.files("domain") / "data" / "taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.from_dict(json.loads(text))


# -- parsing ---------------------------------------------------------------------------
def _parse(document: Mapping[str, Any], *, extension: bool, base: Taxonomy | None) -> Taxonomy:
    where = "taxonomy extension" if extension else "taxonomy"
    if not isinstance(document, Mapping):
        raise InvalidTaxonomy(f"{where} must be a JSON object, got {type(document).__name__}")
    departments = tuple(
        Department(
            code=_text(d, "code", where),
            name_zh=_text(d, "name_zh", where),
            name_en=_text(d, "name_en", where),
            extension=extension,
        )
        for d in _items(document, "departments", where)
    )
    majors = tuple(
        MajorClass(
            kind=_enum(Kind, m, "kind", where),
            code=_text(m, "code", where),
            name_zh=_text(m, "name_zh", where),
            name_en=_text(m, "name_en", where),
            extension=extension,
        )
        for m in _items(document, "major_classes", where)
    )
    categories = tuple(
        _category(c, extension, where) for c in _items(document, "categories", where)
    )
    if base is not None:
        _refuse_clashes(base, departments, majors, categories)
        departments = base.departments + departments
        majors = base.major_classes + majors
        categories = base.categories + categories
    return Taxonomy(departments=departments, major_classes=majors, categories=categories)


def _category(raw: Any, extension: bool, where: str) -> Category:
    code = _text(raw, "code", where)
    where = f"{where}, category {code}"
    urgency = _enum(Urgency, raw, "urgency", where)
    self_handling = raw.get("self_handling", False)
    if not isinstance(self_handling, bool):
        raise InvalidTaxonomy(f"{where}: self_handling must be true or false")
    supervising = raw.get("supervising_department")
    if supervising is not None and not isinstance(supervising, str):
        raise InvalidTaxonomy(f"{where}: supervising_department must be a department code")
    return Category(
        code=code,
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        urgency=urgency,
        default_department=_text(raw, "default_department", where),
        self_handling=self_handling,
        conditions=tuple(_condition(f, where) for f in _items(raw, "conditions", where)),
        extension=extension,  # set by the loader, whatever the document claims
        supervising_department=supervising,
    )


def _condition(raw: Any, where: str) -> FilingCondition:
    condition_id = _text(raw, "id", where)
    where = f"{where}, condition {condition_id}"
    limit_raw = raw.get("limit")
    try:
        if isinstance(limit_raw, str):
            limit = TimeLimit.parse(limit_raw)
        else:  # {"amount": 4, "unit": "working_hours"}; TimeLimit checks amount and unit
            limit = TimeLimit(amount=limit_raw["amount"], unit=limit_raw["unit"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidTaxonomy(
            f"{where}: bad limit {limit_raw!r} ({exc}); use {{amount, unit}} or '4 working_hours'"
        ) from None
    severity_raw = raw.get("severity")
    return FilingCondition(
        id=condition_id,
        description_zh=_text(raw, "description_zh", where),
        description_en=_text(raw, "description_en", where),
        limit=limit,
        closing_zh=_text(raw, "closing_zh", where),
        closing_en=_text(raw, "closing_en", where),
        basis=_text(raw, "basis", where) if "basis" in raw else GRIDCASE_DEFAULT_BASIS,
        severity=None if severity_raw is None else _enum(Severity, raw, "severity", where),
    )


def _items(document: Any, key: str, where: str) -> Sequence[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise InvalidTaxonomy(f"{where}: {key!r} must be a list")
    return value


def _text(raw: Any, key: str, where: str) -> str:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise InvalidTaxonomy(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value


def _enum(enum: type[_E], raw: Any, key: str, where: str) -> _E:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidTaxonomy(f"{where}: {key}={value!r} is not one of {allowed}") from None


# -- validation ------------------------------------------------------------------------
def _refuse_clashes(
    base: Taxonomy,
    departments: Sequence[Department],
    majors: Sequence[MajorClass],
    categories: Sequence[Category],
) -> None:
    # Checked here, before merging, so the message can say "built-in" rather than "duplicate".
    known_departments = {d.code for d in base.departments}
    for department in departments:
        if department.code in known_departments:
            raise InvalidTaxonomy(
                f"extension department {department.code!r} clashes with an existing one"
            )
    known_majors = {(m.kind, m.code) for m in base.major_classes}
    for major in majors:
        if (major.kind, major.code) in known_majors:
            raise InvalidTaxonomy(
                f"extension major class {major.kind.prefix}{major.code} already exists"
            )
    for category in categories:
        if category.code in base:
            existing = base.category(category.code)
            origin = "a local extension" if existing.extension else "a built-in class"
            raise InvalidTaxonomy(
                f"extension category {category.code} clashes with {origin} "
                f"({existing.code} {existing.name_zh} {existing.name_en}); choose a free minor code"
            )


def _validate(
    departments: Sequence[Department],
    majors: Sequence[MajorClass],
    categories: Sequence[Category],
) -> None:
    department_codes: set[str] = set()
    for d in departments:
        if not _DEPARTMENT_CODE.match(d.code):
            raise InvalidTaxonomy(f"department code {d.code!r} must be lower_snake_case ascii")
        if d.code in department_codes:
            raise InvalidTaxonomy(f"duplicate department code {d.code!r}")
        department_codes.add(d.code)
    major_keys: set[tuple[Kind, str]] = set()
    for m in majors:
        if not _MAJOR_CODE.match(m.code):
            raise InvalidTaxonomy(f"major class code {m.code!r} must be two digits 01-99")
        if (m.kind, m.code) in major_keys:
            raise InvalidTaxonomy(f"duplicate major class {m.kind.prefix}{m.code}")
        major_keys.add((m.kind, m.code))
    codes: set[str] = set()
    condition_ids: set[str] = set()
    for c in categories:
        if not _CATEGORY_CODE.match(c.code):
            raise InvalidTaxonomy(
                f"category code {c.code!r} must be C/E + 2-digit major + 2-digit minor, e.g. E0101"
            )
        if c.code in codes:
            raise InvalidTaxonomy(f"duplicate category code {c.code}")
        codes.add(c.code)
        if (c.kind, c.major_code) not in major_keys:
            raise InvalidTaxonomy(
                f"category {c.code}: no {c.kind.value} major class {c.major_code}"
            )
        for ref in (c.default_department, c.supervising_department):
            if ref is not None and ref not in department_codes:
                raise InvalidTaxonomy(f"category {c.code}: unknown department {ref!r}")
        if not c.conditions:
            raise InvalidTaxonomy(f"category {c.code}: needs at least one filing condition")
        for f in c.conditions:
            match = _CONDITION_ID.match(f.id)
            if match is None or match.group(1) != c.code:
                raise InvalidTaxonomy(
                    f"category {c.code}: condition id {f.id!r} is not {c.code}-NN"
                )
            if f.id in condition_ids:
                raise InvalidTaxonomy(f"duplicate filing condition {f.id}")
            condition_ids.add(f.id)


def _unknown_message(what: str, code: str, known: Mapping[str, object]) -> str:
    message = f"unknown {what} {code!r}: it is not in the taxonomy"
    close = difflib.get_close_matches(code, list(known), n=3, cutoff=0.6)
    if close:
        message += f" (did you mean {', '.join(close)}?)"
    else:
        message += " (is a local extension missing?)"
    return message
