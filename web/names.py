"""What people read instead of codes: stages, lights, event types, departments,
categories, streets, communities and grids, in the page's language.

The Chinese terms are the domain's own (``domain.stages.STAGE_LABELS_ZH``,
``domain.labels.EVENT_LABELS``, the taxonomy's and the district's names); what is added
here is their English and the words of the few states the projection names.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.intake import Intake
from domain.calendar import TimeLimit
from domain.labels import EVENT_LABELS
from domain.stages import STAGE_LABELS_ZH, Light, Stage, SupervisionLevel
from web.i18n import Lang

Pair = tuple[str, str]  # zh, en

STAGE_EN: dict[Stage, str] = {
    Stage.VERIFY: "to verify and file",
    Stage.REVIEW: "self-handling to review",
    Stage.DISPATCH: "to dispatch",
    Stage.SIGN_FOR: "to sign for",
    Stage.HANDLE: "being handled",
    Stage.CHECK: "to check",
    Stage.CLOSE: "to close",
    Stage.CLOSED: "closed",
    Stage.REJECTED: "rejected",
    Stage.CANCELLED: "cancelled",
    Stage.MERGED: "merged",
}
STAGES: dict[str, Pair] = {s.value: (STAGE_LABELS_ZH[s], STAGE_EN[s]) for s in Stage}
LIGHTS: dict[str, Pair] = {
    Light.GREEN.value: ("绿灯", "green"),
    Light.YELLOW.value: ("黄灯", "yellow"),
    Light.RED.value: ("红灯", "red"),
}
STATUSES: dict[str, Pair] = {
    "open": ("在办", "open"),
    "suspended": ("挂账", "suspended"),
    "closed": ("已结案", "closed"),
    "rejected": ("不予立案", "rejected"),
    "cancelled": ("作废", "cancelled"),
    "merged": ("已合并", "merged"),
}
SUPERVISION: dict[str, Pair] = {
    SupervisionLevel.ORDINARY.value: ("普通督办", "ordinary supervision"),
    SupervisionLevel.YELLOW.value: ("黄牌督办", "yellow card"),
    SupervisionLevel.RED.value: ("红牌督办", "red card"),
}
REQUESTS: dict[str, Pair] = {
    "extension": ("延期申请", "extension request"),
    "return": ("回退申请", "return request"),
    "suspension": ("挂账申请", "suspension request"),
}
SOURCES: dict[str, Pair] = {
    "grid_worker": ("网格员上报", "grid worker"),
    "hotline_12345": ("12345 热线", "12345 hotline"),
    "open311": ("Open311 应用", "Open311 app"),
}
# "上报 reported": the domain's label is the Chinese term, a space, then the English.
EVENTS: dict[str, Pair] = {
    kind: (label.split(" ", 1)[0], label.split(" ", 1)[1]) for kind, label in EVENT_LABELS.items()
}


def pick(pair: Pair | None, lang: Lang, fallback: str) -> str:
    if pair is None:
        return fallback
    return pair[0] if lang == "zh" else pair[1] or pair[0]


@dataclass(frozen=True)
class Names:
    """Names in ``lang`` from the reference data loaded now; a code that is not known is
    shown as it is."""

    intake: Intake
    lang: Lang

    def _pair(self, table: dict[str, Pair], code: str) -> str:
        return pick(table.get(code), self.lang, code)

    def stage(self, code: str) -> str:
        return self._pair(STAGES, code)

    def light(self, code: str) -> str:
        return self._pair(LIGHTS, code)

    def status(self, code: str) -> str:
        return self._pair(STATUSES, code)

    def supervision(self, code: str) -> str:
        return self._pair(SUPERVISION, code)

    def request(self, code: str) -> str:
        return self._pair(REQUESTS, code)

    def source(self, code: str) -> str:
        return self._pair(SOURCES, code)

    def event(self, kind: str) -> str:
        return self._pair(EVENTS, kind)

    def limit(self, value: TimeLimit | str | None) -> str:
        """A time limit as people write it: 2工作日 / 2 working days."""
        if value is None or value == "":
            return ""
        try:
            parsed = value if isinstance(value, TimeLimit) else TimeLimit.parse(value)
        except ValueError:
            return str(value)
        return parsed.label_zh if self.lang == "zh" else str(parsed).replace("_", " ")

    def department(self, code: str) -> str:
        for d in self.intake.taxonomy.departments:
            if d.code == code:
                return d.name_zh if self.lang == "zh" else d.name_en or d.name_zh
        return code

    def category(self, code: str) -> str:
        try:
            found = self.intake.taxonomy.category(code)
        except LookupError:
            return code
        return found.name_zh if self.lang == "zh" else found.name_en or found.name_zh

    def unit(self, code: str) -> str:
        """A department, district, street, community or grid by its code; "" when it is
        not loaded."""
        department = self.department(code)
        if department != code:
            return department
        district = self.intake.district
        if district is None or not code:
            return ""
        zh = self.lang == "zh"
        try:
            if code == district.code:
                return district.name_zh if zh else district.name_en or district.name_zh
            if len(code) == 9:
                street = district.street(code)
                return street.name_zh if zh else street.name_en or street.name_zh
            if len(code) == 12:
                community = district.community(code)
                return community.name_zh if zh else community.name_en or community.name_zh
            if len(code) == 15:
                return district.grid(code).name
        except LookupError:
            return ""
        return ""

    def departments(self) -> list[tuple[str, str]]:
        return [(d.code, self.department(d.code)) for d in self.intake.taxonomy.departments]

    def streets(self) -> list[tuple[str, str]]:
        district = self.intake.district
        return [] if district is None else [(s.code, self.unit(s.code)) for s in district.streets]

    def communities(self) -> list[tuple[str, str]]:
        district = self.intake.district
        if district is None:
            return []
        return [(c.code, self.unit(c.code)) for c in district.communities]

    def categories(self) -> list[tuple[str, str]]:
        return [(c.code, self.category(c.code)) for c in self.intake.taxonomy]
