"""A case as its page shows it: the timeline from the event log in words, the photos of
every event, the place; built from the application's ``CaseView`` (personal data already
taken out for viewers who may not read it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.read_models import CaseView
from domain.photo_kinds import PHOTO_KINDS
from store.photos import PHOTO_ID
from web.i18n import role_label
from web.names import Names
from web.words import DETAIL_FIELDS

_PHOTO_FIELDS = ("photos", "result_photos")
_TIMES = ("due_at", "disposal_due_at", "reply_due_at", "verify_due_at")
_LIMITS = ("amount", "disposal_limit", "remaining")


@dataclass(frozen=True)
class Detail:
    label: str
    text: str
    when: datetime | None = None  # a time, shown with its zone
    link: str = ""  # a case id to link to


@dataclass(frozen=True)
class TimelineItem:
    version: int
    occurred_at: datetime
    label: str
    actor: str  # role, then the person (or "hidden")
    unit: str
    details: list[Detail] = field(default_factory=list)


@dataclass(frozen=True)
class PhotoItem:
    photo: str  # sha256:… served at /photos/<id>, or a URL kept elsewhere
    event: str
    local: bool
    kind: str = ""  # what it shows, in the page's language (近景, 处置后, …); "" unsaid


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


class Presenter:
    """Turns records into what a person reads, in one language."""

    def __init__(self, names: Names, t: Callable[..., str]) -> None:
        self.names = names
        self.lang = names.lang
        self.t = t

    def detail(self, key: str, value: Any) -> Detail | None:
        if key not in DETAIL_FIELDS or value in (None, "", (), []):
            return None
        zh, en = DETAIL_FIELDS[key]
        label = zh if self.lang == "zh" else en
        n = self.names
        if key in _TIMES:
            when = _moment(value)
            return Detail(label, "", when=when) if when else None
        if isinstance(value, bool):
            return Detail(label, self.t("yes") if value else self.t("no"))
        text = {
            "department": n.department,
            "suggested_department": n.department,
            "category": n.category,
            "source": n.source,
            "stage": n.stage,
            "level": n.supervision,
        }.get(key, str)(str(value))
        if key in _LIMITS:
            text = n.limit(str(value))
        link = str(value) if key in ("into", "duplicate") else ""
        return Detail(label, text, link=link)

    def item(self, record: dict[str, Any]) -> TimelineItem:
        actor = record["actor"]
        who = role_label(actor["role"], self.lang)
        person = actor["id"] if actor["id"] is not None else self.t("hidden")
        unit = actor.get("unit", "")
        details = [d for k, v in record["data"].items() if (d := self.detail(k, v))]
        return TimelineItem(
            version=record["version"],
            occurred_at=_moment(record["occurred_at"]) or datetime.min,
            label=self.names.event(record["type"]),
            actor=f"{who} {person}",
            unit=self.names.unit(unit) or unit,
            details=details,
        )

    def timeline(self, view: CaseView) -> list[TimelineItem]:
        return [self.item(r) for r in view.records]

    def photos(self, view: CaseView, kinds: Mapping[str, str] | None = None) -> list[PhotoItem]:
        """The case's photos by the event that brought them; ``kinds``: what each shows,
        as its uploader said (``domain.photo_kinds``)."""
        found: list[PhotoItem] = []
        for record in view.records:
            label = self.names.event(record["type"])
            for key in _PHOTO_FIELDS:
                for photo in record["data"].get(key) or ():
                    kind = PHOTO_KINDS.get((kinds or {}).get(photo, ""))
                    shown = "" if kind is None else kind[0 if self.lang == "zh" else 1]
                    found.append(PhotoItem(photo, label, bool(PHOTO_ID.match(photo)), shown))
        return found
