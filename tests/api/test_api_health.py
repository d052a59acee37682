"""/healthz and /readyz against the real stack; failures made by pointing one part at
nothing (a database socket or a Temporal port where no server listens, a task queue no
worker polls)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from temporalio.api.enums.v1 import TaskQueueType

from api import health
from application.context import Services
from application.temporal import TemporalGateway
from store.calendar import calendar_readiness
from store.db import make_engine


def services_of(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


async def test_healthz_is_alive_without_io(http: httpx.AsyncClient) -> None:
    r = await http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_checks_every_part(http: httpx.AsyncClient, api_app: FastAPI) -> None:
    r = await http.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    # The only warning there can be is the calendar's, and only when it is due.
    calendar = calendar_readiness(services_of(api_app).intake.calendar)
    expected = [] if calendar["status"] == "ok" else ["calendar_official_data_ending"]
    assert body["status"] == "ready" and [w["code"] for w in body["warnings"]] == expected
    assert set(body["checks"]) == {
        "postgres",
        "temporal",
        "pollers:gridcase-cases",
        "pollers:gridcase-supervision",
        "pollers:gridcase-disposal",
    }
    assert all(c["ok"] and c["detail"] for c in body["checks"].values())


async def test_readyz_503_when_postgres_does_not_answer(
    http: httpx.AsyncClient, api_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = make_engine("postgresql+psycopg://postgres@/gridcase?host=/nonexistent", pool_size=1)
    monkeypatch.setattr(services_of(api_app), "engine", nowhere)
    r = await http.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert not checks["postgres"]["ok"] and "/nonexistent" in checks["postgres"]["detail"]
    assert checks["temporal"]["ok"]


async def test_readyz_503_when_temporal_does_not_answer(
    http: httpx.AsyncClient, api_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = services_of(api_app)
    elsewhere = replace(svc.settings, temporal_address="127.0.0.1:1")
    monkeypatch.setattr(svc.cases, "temporal", TemporalGateway(elsewhere))
    r = await http.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert not body["checks"]["temporal"]["ok"]
    assert "unreachable" in body["checks"]["temporal"]["detail"]
    assert body["checks"]["pollers:gridcase-disposal"] == {
        "ok": False,
        "detail": "Temporal does not answer",
    }
    assert body["checks"]["postgres"]["ok"]


async def test_readyz_503_when_no_worker_polls_a_queue(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = ("gridcase-nobody", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, "activities")
    monkeypatch.setattr(health, "POLLED", (*health.POLLED, nobody))
    r = await http.get("/readyz")
    assert r.status_code == 503
    check = r.json()["checks"]["pollers:gridcase-nobody"]
    assert not check["ok"] and "no worker polls gridcase-nobody" in check["detail"]


async def test_readyz_warnings_are_listed_without_making_it_unready(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def calendar(svc: Services) -> list[dict[str, str]]:
        return [{"code": "calendar_ends", "detail": "the working calendar ends soon"}]

    monkeypatch.setattr(health, "READINESS_WARNINGS", [calendar])
    r = await http.get("/readyz")
    assert r.status_code == 200
    assert r.json()["warnings"] == [
        {"code": "calendar_ends", "detail": "the working calendar ends soon"}
    ]
