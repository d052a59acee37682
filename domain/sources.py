"""Where a report comes from (案件来源): a closed set, each source tied to who may use it.

A grid worker reports from patrol (``grid_worker``) and from nowhere else: a report he
files is trusted without a second visit. An acceptor (受理员) takes what the public and
the city bring: the 12345 hotline, the web portal, WeChat, video patrol, a leader's
instruction, the media. Those reports need a grid worker's verification on site (核实)
before filing. ``open311`` is the citizen apps' channel: only the Open311 front end sets
it (its client apps report through the acceptor role), never a request body.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import InvalidCommand
from domain.roles import Role


class Source(StrEnum):
    GRID_WORKER = "grid_worker"
    HOTLINE_12345 = "hotline_12345"
    WEB = "web"
    WECHAT = "wechat"
    VIDEO = "video"
    LEADER_INSTRUCTION = "leader_instruction"
    MEDIA = "media"
    OPEN311 = "open311"

    @property
    def label(self) -> str:
        return f"{SOURCE_LABELS_ZH[self]} {self.value}"


SOURCE_LABELS_ZH: dict[Source, str] = {
    Source.GRID_WORKER: "网格员上报",
    Source.HOTLINE_12345: "12345热线",
    Source.WEB: "网站",
    Source.WECHAT: "微信",
    Source.VIDEO: "视频巡查",
    Source.LEADER_INSTRUCTION: "领导交办",
    Source.MEDIA: "媒体曝光",
    Source.OPEN311: "Open311应用",
}
# Sources a citizen brings in himself (Open311 lists them to the public).
CITIZEN_SOURCES = frozenset({Source.HOTLINE_12345, Source.WEB, Source.WECHAT, Source.OPEN311})
# Set by a front end of its own (Open311), never stated in a report.
FRONT_END_SOURCES = frozenset({Source.OPEN311})

SOURCES_OF_ROLE: dict[Role, tuple[Source, ...]] = {
    Role.GRID_WORKER: (Source.GRID_WORKER,),
    Role.ACCEPTOR: tuple(s for s in Source if s is not Source.GRID_WORKER),
}
# Each role's usual source, when a report names none.
DEFAULT_SOURCE: dict[Role, Source] = {
    Role.GRID_WORKER: Source.GRID_WORKER,
    Role.ACCEPTOR: Source.HOTLINE_12345,
}


def stated_sources(role: Role) -> tuple[Source, ...]:
    """The sources a person of ``role`` may name in a report."""
    return tuple(s for s in SOURCES_OF_ROLE.get(role, ()) if s not in FRONT_END_SOURCES)


def listed(sources: tuple[Source, ...]) -> str:
    return ", ".join(f"{s.value} ({SOURCE_LABELS_ZH[s]})" for s in sources) or "none"


def source_of(role: Role, source: str) -> Source:
    """``source`` as a report by ``role`` may have it; ``InvalidCommand`` listing the
    allowed ones otherwise."""
    allowed = SOURCES_OF_ROLE.get(role, ())
    try:
        known = Source(source)
    except ValueError:
        shown = source if len(source) <= 40 else source[:40] + "…"
        raise InvalidCommand(
            f"source {shown!r} is not an intake channel; a {role.label} reports from "
            f"{listed(allowed)}"
        ) from None
    if known not in allowed:
        raise InvalidCommand(
            f"a {role.label} does not report from {known.label}; only from {listed(allowed)}"
        )
    return known
