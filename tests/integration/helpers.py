"""Small async helpers for integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], T], timeout: float = 20.0, every: float = 0.2) -> T:
    """Poll ``check`` until it returns a truthy value (or raise with its last result).

    A LookupError (a case whose first event is not written yet) counts as not yet.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        try:
            last = await asyncio.to_thread(check)
        except LookupError as exc:
            last = None
            missing: Exception | None = exc
        else:
            missing = None
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r}, {missing})")
