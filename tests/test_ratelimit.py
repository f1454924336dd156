"""The in-memory per-key rate limiter."""

from __future__ import annotations

import pytest

from service.errors import RateLimited
from service.ratelimit import RateLimiter, parse_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/minute", (10, 60.0)),
        ("30/minute", (30, 60.0)),
        ("5/second", (5, 1.0)),
        ("100/hour", (100, 3600.0)),
        ("1000/day", (1000, 86400.0)),
        ("10/5m", (10, 300.0)),
        ("3 per minutes", (3, 60.0)),
        (" 2/S ", (2, 1.0)),
    ],
)
def test_rates_parse(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "10", "ten/minute", "10/fortnight", "0/minute", "-1/s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate(text)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_with_retry_after() -> None:
    clock = Clock()
    limiter = RateLimiter.parse("3/minute", clock=clock)
    for _ in range(3):
        limiter.hit("a")
    clock.now += 20
    with pytest.raises(RateLimited) as refused:
        limiter.hit("a")
    assert refused.value.retry_after_s == 40
    limiter.hit("b")  # other keys are not affected


def test_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter.parse("2/second", clock=clock)
    limiter.hit("a")
    clock.now += 0.5
    limiter.hit("a")
    clock.now += 0.6  # the first hit has left the window
    limiter.hit("a")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("a")
    assert refused.value.retry_after_s == 1  # never less than one second


def test_refused_hits_do_not_count() -> None:
    clock = Clock()
    limiter = RateLimiter.parse("1/minute", clock=clock)
    limiter.hit("a")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.hit("a")
    clock.now += 60
    limiter.hit("a")


def test_key_table_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(1, 60.0, clock=clock, max_keys=100)
    for n in range(1000):
        limiter.hit(f"client-{n}")
        clock.now += 0.001
    assert len(limiter._hits) <= 100
