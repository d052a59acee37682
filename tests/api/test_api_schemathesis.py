"""Property-based fuzzing of every operation in /openapi.json with schemathesis, bounded:
a few valid and a few invalid requests per operation, as an admin and as a grid worker,
checked for no server error (5xx) and for answers that match the documented schema
(status documented, body valid for it).

The requests go through the session's in-process app on the test's own event loop (the
Temporal client lives there), sent from a worker thread where hypothesis runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import People, User, new_area
from tests.api.test_api_photos import photo_dir  # noqa: F401 (a fixture)

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
BUDGET = 60.0  # seconds for the whole run; past it, the remaining operations are skipped
BASE_URL = "http://api.test"


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``requests``-style arguments schemathesis serializes a case into, for httpx."""
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params") or {},
    }
    if kwargs.get("cookies"):
        out["cookies"] = kwargs["cookies"]
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


def fuzz(
    schema: Any, users: list[User], send: Callable[[dict[str, Any]], httpx.Response]
) -> tuple[list[str], int]:
    """Run every operation for every user until the budget is spent; the failures found,
    and how many requests were sent."""
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

                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: a bounded run
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode, headers=user.headers))
                def check(case: Any) -> None:
                    nonlocal sent
                    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
                    response = send(_httpx_kwargs(kwargs))
                    sent += 1
                    case.validate_response(response, checks=CHECKS)

                try:
                    check()
                except Unsatisfiable:
                    pass  # nothing invalid to send (e.g. only free-form strings): not a finding
                except Exception as exc:  # a failed check: keep going, report all at the end
                    failures.append(f"{operation.label} as {user.role} ({mode}): {exc}")
    return failures, sent


@pytest.mark.usefixtures("photo_dir")
async def test_openapi_fuzzing(http: httpx.AsyncClient, people: People) -> None:
    openapi = (await http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(openapi)
    users = [people.make("admin"), people.make("grid_worker", new_area().grid(0, 1))]
    loop = asyncio.get_running_loop()

    async def request(kwargs: dict[str, Any]) -> httpx.Response:
        response = await http.request(**kwargs)
        response.request.read()  # schemathesis reports the request body (multipart is lazy)
        return response

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(request(kwargs), loop).result(timeout=30)

    started = time.monotonic()
    failures, sent = await asyncio.to_thread(fuzz, schema, users, send)
    elapsed = time.monotonic() - started
    assert sent > 100, f"only {sent} requests in {elapsed:.0f}s"
    assert not failures, "\n\n".join(failures)
