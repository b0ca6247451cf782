"""Wrong passwords slow down the sender, per account and address, and never lock the owner out."""

from __future__ import annotations

import pytest

from faceatlas.accounts.throttle import FREE_FAILURES, MAX_DELAY_S, LoginThrottle
from faceatlas.errors import RateLimitedError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_delays_grow_per_account_and_address_and_clear() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_FAILURES):
        throttle.check("ivy", "203.0.113.9")
        throttle.failed("ivy", "203.0.113.9")
    throttle.check("ivy", "203.0.113.9")  # the free failures cost nothing
    waits = []
    for _ in range(4):
        throttle.failed("ivy", "203.0.113.9")
        with pytest.raises(RateLimitedError, match="wrong passwords") as caught:
            throttle.check("IVY ", "203.0.113.9")
        waits.append(caught.value.retry_after_s)
        clock.now += caught.value.retry_after_s
    assert waits == [1, 2, 4, 8]
    throttle.check("ivy", "198.51.100.1")  # the owner, elsewhere, is not locked out
    throttle.check("sam", "203.0.113.9")  # nor is anybody else at that address
    throttle.succeeded("ivy", "203.0.113.9")
    throttle.check("ivy", "203.0.113.9")


def test_delays_are_capped_and_an_admin_can_unlock() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_FAILURES + 40):
        throttle.failed("ivy", "203.0.113.9")
    throttle.failed("ivy", "198.51.100.1")
    with pytest.raises(RateLimitedError) as caught:
        throttle.check("ivy", "203.0.113.9")
    assert caught.value.retry_after_s == MAX_DELAY_S
    assert throttle.unlock("Ivy") == 2
    throttle.check("ivy", "203.0.113.9")
