"""Token buckets keyed by an hourly in-memory key (wbs/web/ratelimit.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wbs.settings import Settings, parse_rate_ceilings, parse_rate_limits
from wbs.web import ratelimit
from wbs.web.ratelimit import KEY_LIFETIME, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _limiter(limits: str = "", ceilings: str = "", processes: int = 1) -> tuple[RateLimiter,
                                                                              Clock]:
    clock = Clock()
    settings = replace(Settings(), rate_limits=parse_rate_limits(limits),
                       rate_ceilings=parse_rate_ceilings(ceilings),
                       rate_limit_processes=processes)
    return RateLimiter(settings, clock=clock), clock


def test_a_bucket_refills_evenly_and_a_refusal_costs_nothing() -> None:
    limiter, clock = _limiter("status=6/1m")
    assert [limiter.check("status", "192.0.2.1") for _ in range(6)] == [0] * 6
    wait = limiter.check("status", "192.0.2.1")
    assert wait == 10  # one request back every 10 s
    for _ in range(20):  # hammering while refused does not push the wait further out
        assert limiter.check("status", "192.0.2.1") == 10
    clock.now += 10
    assert limiter.check("status", "192.0.2.1") == 0
    assert limiter.check("status", "192.0.2.1") > 0


def test_the_ceiling_is_shared_by_processes() -> None:
    limiter, _ = _limiter(ceilings="report=12", processes=4)
    results = [limiter.check("report", f"192.0.2.{i}") for i in range(5)]
    assert results[:3] == [0, 0, 0] and results[3] > 0  # 12 per minute / 4 processes


def test_addresses_are_keyed_by_an_hourly_secret() -> None:
    limiter, clock = _limiter("report=1/d")
    first = limiter.client_key("203.0.113.9")
    assert limiter.client_key("203.0.113.9") == first and len(first) == 16
    other, _ = _limiter()
    assert other.client_key("203.0.113.9") != first  # a per-process random key
    assert limiter.check("report", "203.0.113.9") == 0
    assert limiter.check("report", "203.0.113.9") > 0
    clock.now += KEY_LIFETIME
    assert limiter.check("report", "203.0.113.9") == 0  # new key, old buckets dropped
    assert limiter.client_key("203.0.113.9") != first


def test_networks() -> None:
    net = ratelimit._network
    assert net("203.0.113.9") == "203.0.113.9"
    assert net("2001:db8:1:2:3:4:5:6") == net("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert net("::ffff:203.0.113.9") == "203.0.113.9"
    assert net("testclient") == "testclient"


def test_table_growth_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_CLIENTS", 10)
    limiter, clock = _limiter("report=1/10m")
    for i in range(30):
        limiter.check("report", f"198.51.100.{i}")
    assert limiter.tracked_clients() <= 11  # 10 and the shared overflow bucket
    assert limiter.check("report", "198.51.100.251") > 0  # the overflow bucket is spent
    clock.now += 600  # refilled buckets are swept to make room
    assert limiter.check("report", "198.51.100.250") == 0
    assert limiter.tracked_clients() <= 11
