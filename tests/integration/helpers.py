"""Small async helpers for integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], T], timeout: float = 20.0, every: float = 0.2) -> T:
    """Poll ``check`` until it returns a truthy value (or raise with its last result)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
