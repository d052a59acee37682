"""Bulk loader: realistic cases (bench.casegen) into `events`, `cases` and `kpi_facts`
with COPY.

Cases are made in a pool of processes (the decider is pure Python, the CPU-bound part) and
streamed into PostgreSQL by this process with psycopg's ``cursor.copy`` in text format, a
chunk per transaction. ``copies`` > 1 loads each generated history under that many case
ids (same events, same row but the id): generation then costs 1/copies, the database still
holds that many distinct streams and rows. The loader's own rate is measured and reported.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine

from bench.casegen import CaseGenerator
from store.kpi_projection import KPI_COLUMNS
from store.models import CaseRow

EVENT_COLUMNS = (
    "case_id",
    "version",
    "type",
    "schema_version",
    "data",
    "actor_id",
    "actor_role",
    "actor_unit",
    "occurred_at",
)
CASE_COLUMNS = tuple(c.name for c in CaseRow.__table__.columns)
CHUNK = 500  # generated cases per task and per COPY transaction

_GEN: dict[tuple[int, str], CaseGenerator] = {}


def _esc(text: str) -> str:
    """COPY text format: backslash, tab, newline and carriage return are escaped."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def _element(value: Any) -> str:
    """One element of a PostgreSQL array literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list) and not (value and isinstance(value[0], dict)):
        return _esc("{" + ",".join(_element(v) for v in value) + "}")  # a text[] etc.
    if isinstance(value, dict | list):
        return _esc(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return _esc(str(value))


def _chunk(task: tuple[int, str, str, int, int, int]) -> tuple[str, str, str, int, int]:
    """Generate ``count`` cases from number ``start`` on; their COPY text for the tables."""
    seed, now_iso, prefix, start, count, copies = task
    gen = _GEN.get((seed, now_iso))
    if gen is None:
        gen = _GEN[(seed, now_iso)] = CaseGenerator(seed, datetime.fromisoformat(now_iso))
    gen.rng.seed(seed * 1_000_003 + start)  # the same task always makes the same cases
    events: list[str] = []
    rows: list[str] = []
    kpis: list[str] = []
    for i in range(start, start + count):
        made = gen.case(f"{prefix}{i:07d}")
        # Everything but the case id is formatted once per generated case.
        tails = ["\t".join(_field(v) for v in _event_values(r)[1:]) + "\n" for r in made.records]
        row_tail = "\t".join(_field(made.row[c]) for c in CASE_COLUMNS[1:]) + "\n"
        kpi_tail = "\t".join(_field(made.kpi[c]) for c in KPI_COLUMNS[1:]) + "\n"
        for k in range(copies):
            case_id = f"{prefix}{i:07d}" if copies == 1 else f"{prefix}{i:07d}-{k}"
            events.extend(f"{case_id}\t{t}" for t in tails)
            rows.append(f"{case_id}\t{row_tail}")
            kpis.append(f"{case_id}\t{kpi_tail}")
    return "".join(events), "".join(rows), "".join(kpis), len(events), len(rows)


def _event_values(record: dict[str, Any]) -> tuple[Any, ...]:
    actor = record["actor"]
    return (
        record["case_id"],
        record["version"],
        record["type"],
        record["schema_version"],
        record["data"],
        actor["id"],
        actor["role"],
        actor.get("unit", ""),
        record["occurred_at"],
    )


@dataclass
class LoadStats:
    cases: int = 0
    events: int = 0
    generated: int = 0  # distinct histories made with the decider
    seconds: float = 0.0

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def load(
    url: str,
    cases: int,
    *,
    now: datetime,
    seed: int = 1,
    prefix: str = "b",
    copies: int = 1,
    processes: int | None = None,
) -> LoadStats:
    """Load ``cases`` cases (``cases // copies`` generated) and ANALYZE the tables."""
    stats = LoadStats()
    started = time.perf_counter()
    generated = max(1, cases // copies)
    tasks = [
        (seed, now.isoformat(), prefix, s, min(CHUNK, generated - s), copies)
        for s in range(0, generated, CHUNK)
    ]
    engine = create_engine(url, poolclass=None)
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        conn.execute("SET synchronous_commit = off")  # a loader; not the system under test
        conn.execute("SET gridcase.notify = 'off'")  # no page listens to a bulk load
        conn.commit()
        procs = processes or os.cpu_count() or 1
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            for events, rows, kpis, n_events, n_rows in pool.imap_unordered(_chunk, tasks):
                with conn.cursor() as cur:
                    with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp:
                        cp.write(events)
                    with cur.copy(f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as cp:
                        cp.write(rows)
                    with cur.copy(f"COPY kpi_facts ({', '.join(KPI_COLUMNS)}) FROM STDIN") as cp:
                        cp.write(kpis)
                conn.commit()
                stats.events += n_events
                stats.cases += n_rows
        stats.generated = generated
        conn.autocommit = True
        conn.execute("ANALYZE events")
        conn.execute("ANALYZE cases")
        # What autovacuum does to a table soon after a load: marks its pages all-visible,
        # so the KPI's covering index is read without visiting the table.
        conn.execute("VACUUM (ANALYZE) kpi_facts")
    finally:
        raw.close()
        engine.dispose()
    stats.seconds = time.perf_counter() - started
    return stats
