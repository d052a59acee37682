"""Property-based fuzzing of every operation in /openapi.json with schemathesis, bounded:
a few valid and a few invalid requests per operation, as an admin and as a grid worker,
checked with every check schemathesis has (``ALL_CHECKS``): no server error, every status
documented, content types, headers and bodies as documented, invalid data refused, valid
data accepted, required headers, unsupported methods, authentication enforced.

Nothing is excluded. Two checks need what a bounded, stateless run does not have, and say
so by passing rather than by being left out: ``use_after_free`` and
``ensure_resource_availability`` follow links between operations recorded by a stateful
run, and ``object_level_authorization`` compares identities of a configured auth set; the
role × jurisdiction matrix (tests/api/test_api_matrix.py) is that check here.

The requests go through the session's in-process app on the test's own event loop (the
Temporal client lives there), sent from a worker thread where hypothesis runs; checks
that send probes of their own (without auth, another method, without a required header)
send them the same way, through a ``requests`` session whose adapter is the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import (
    NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.transport.requests import SameHostRedirectsSession
from urllib3 import HTTPHeaderDict, HTTPResponse

from tests.api.conftest import People, User, new_area
from tests.api.test_api_photos import photo_dir  # noqa: F401 (a fixture)

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())
# Schema-valid requests an operation refuses by a rule OpenAPI cannot state, each with the
# status it answers (documented for the operation) and why the schema cannot say it. The
# check positive_data_acceptance takes that status from these operations, and only that.
REFUSED_THOUGH_VALID = {
    "POST /v1/reports": (
        422,
        "report_id in the body or an Idempotency-Key header, the same when both are given: "
        "a rule across the body and a header",
    ),
    "GET /v1/inbox/department": (
        422,
        "an admin (of no department) names the department to read; other roles read their "
        "own: a rule on the caller's role",
    ),
    "POST /v1/photos": (
        415,
        "bytes that are a JPEG, PNG or WebP image: a schema says binary, not which bytes",
    ),
}
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
BUDGET = 90.0  # seconds for the whole run; past it, the remaining operations are skipped
BASE_URL = "http://api.test"

Send = Callable[[httpx.Request], httpx.Response]


class AppAdapter(BaseAdapter):
    """``requests`` into the in-process app: each prepared request becomes an httpx request
    sent through ``send``, its answer a ``requests.Response``."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self._send = send

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self._send(
            httpx.Request(
                request.method or "GET",
                request.url or "/",
                headers=dict(request.headers),
                content=body or b"",
            )
        )
        headers = HTTPHeaderDict()
        for name, value in answer.headers.multi_items():
            headers.add(name, value)
        response = requests.Response()
        response.status_code = answer.status_code
        response.raw = HTTPResponse(  # schemathesis reads the headers from here
            body=io.BytesIO(answer.content), headers=headers, status=answer.status_code, version=11
        )
        response.headers = CaseInsensitiveDict(headers)
        response._content = answer.content
        response.elapsed = answer.elapsed
        response.url = request.url or ""
        response.reason = answer.reason_phrase
        response.request = request
        response.encoding = answer.encoding
        return response

    def close(self) -> None:
        pass


def sessions_into_app(monkeypatch: pytest.MonkeyPatch, send: Send) -> None:
    """Every ``requests`` session schemathesis makes (its own, and the bare ones of probes
    sent without the run's credentials) sends into the app."""

    class InApp(SameHostRedirectsSession):
        def __init__(self) -> None:
            super().__init__()
            self.mount(BASE_URL, AppAdapter(send))

    monkeypatch.setattr("schemathesis.transport.requests.SameHostRedirectsSession", InApp)


def run(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str]) -> int:
    """Send ``examples`` generated requests to ``operation`` and check each answer with
    every check; how many were sent (a failed check raises)."""
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a bounded run
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    def check(case: Any) -> None:
        nonlocal sent
        response = case.call(base_url=BASE_URL)
        sent += 1
        case.validate_response(
            response, checks=ALL_CHECKS, headers=headers, transport_kwargs={"base_url": BASE_URL}
        )

    # Unsatisfiable: nothing invalid to send (e.g. only free-form strings): not a finding.
    with contextlib.suppress(Unsatisfiable):
        check()
    return sent


def fuzz(schema: Any, users: list[User]) -> tuple[list[str], int]:
    """Run every operation for every user until the budget is spent; the failures found,
    and how many requests were sent (probes of the checks not counted)."""
    failures: list[str] = []
    sent = 0
    deadline = time.monotonic() + BUDGET
    for result in schema.get_all_operations():
        operation = result.ok()
        for user in users:
            for mode, examples in EXAMPLES.items():
                if time.monotonic() > deadline:
                    failures.append(f"budget spent before {operation.label} ({mode})")
                    return failures, sent
                try:
                    sent += run(operation, mode, examples, user.headers)
                except (FailureGroup, Exception) as exc:  # keep going, report all at the end
                    failures.append(f"{operation.label} as {user.role} ({mode}): {exc}")
    return failures, sent


def config() -> SchemathesisConfig:
    operations = [
        {
            "include-name": name,
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, str(status)]
                }
            },
        }
        for name, (status, _why) in REFUSED_THOUGH_VALID.items()
    ]
    # A body over the cap (api.limits) is refused unread with 413, a refusal like any other.
    refusals = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
    checks = {"negative_data_rejection": {"expected-statuses": refusals}}
    return SchemathesisConfig.from_dict({"checks": checks, "operations": operations})


def test_every_check_schemathesis_has_is_run() -> None:
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
    } <= names


@pytest.mark.usefixtures("photo_dir")
async def test_openapi_fuzzing(
    http: httpx.AsyncClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    openapi = (await http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(openapi, config=config())
    users = [people.make("admin"), people.make("grid_worker", new_area().grid(0, 1))]
    loop = asyncio.get_running_loop()

    async def request(outgoing: httpx.Request) -> httpx.Response:
        response = await http.send(outgoing)
        await response.aread()
        return response

    def send(outgoing: httpx.Request) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(request(outgoing), loop).result(timeout=30)

    sessions_into_app(monkeypatch, send)
    started = time.monotonic()
    failures, sent = await asyncio.to_thread(fuzz, schema, users)
    elapsed = time.monotonic() - started
    assert sent > 100, f"only {sent} requests in {elapsed:.0f}s: {failures[:3]}"
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
