"""Which events leave a notice, for whom: written in the same transaction as the event.

What each event notifies (kind, audience, text) is declared with the step that emits it
(``domain.steps``); this turns a recorded event into that notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.steps import EMITS, Audience
from store.event_store import Notice

Record = dict[str, Any]


def notice_for(case_id: str, record: Record) -> Notice | None:
    emitted = EMITS.get(record["type"])
    notify = emitted.notify if emitted else None
    if notify is None:
        return None
    data = record["data"]
    audience = "supervision"
    if notify.audience is Audience.DEPARTMENT:
        department = data.get("department") or ""
        if not department:
            return None  # urged at a center stage: supervision sees it in the timeline
        audience = f"department:{department}"
    return Notice(
        record["version"],
        notify.kind,
        audience,
        notify.text.format(case_id=case_id, **data),
        {key: data.get(key) for key in notify.keys},
    )


def notices_for(case_id: str, records: Iterable[Record]) -> list[Notice]:
    return [n for r in records if (n := notice_for(case_id, r)) is not None]
