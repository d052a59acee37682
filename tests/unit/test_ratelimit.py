"""Token buckets and their settings (a fake clock: no waiting)."""

from __future__ import annotations

import pytest

from api.ratelimit import TokenBuckets
from application.config import ConfigError, RateLimit, Settings


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_and_each_key_has_its_own_bucket() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=2, burst=3), clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token in half a second
    assert buckets.take("b") == 0  # another caller is not slowed
    clock.now += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    clock.now += 60  # refills up to the burst, not beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_refused_requests_do_not_dig_the_hole_deeper() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=1, burst=1), clock)
    assert buckets.take("a") == 0
    for _ in range(100):
        assert buckets.take("a") > 0
    clock.now += 1
    assert buckets.take("a") == 0


def test_limits_are_settings_with_defaults_and_off() -> None:
    defaults = Settings.from_env({})
    assert defaults.rate_user == RateLimit(10, 40)
    assert defaults.rate_client == RateLimit(2, 10)
    assert defaults.rate_anonymous == RateLimit(10, 40)
    found = Settings.from_env({"GRIDCASE_RATE_USER": "2.5,5", "GRIDCASE_RATE_CLIENT": "off"})
    assert found.rate_user == RateLimit(2.5, 5) and found.rate_client is None
    for bad in ("10", "0,5", "5,0", "fast,10", "1,2,3"):
        with pytest.raises(ConfigError, match="GRIDCASE_RATE_ANONYMOUS"):
            Settings.from_env({"GRIDCASE_RATE_ANONYMOUS": bad})
