"""Timing a call the way the benchmarks here do: one warm-up call, then the calls that count."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed_runs(function: Callable[[], Any], runs: int, before_each: Callable[[], None] | None = None,
               ) -> tuple[list[float], Any]:
    """Milliseconds of each of `runs` calls after a warm-up call, and what the last call returned.
    `before_each` runs before each timed call, outside the time measured."""
    function()  # warm-up
    times = []
    result = None
    for _ in range(runs):
        if before_each is not None:
            before_each()
        began = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - began) * 1000)
    return times, result


def timed(function: Callable[[], Any], runs: int = 5, before_each: Callable[[], None] | None = None,
          ) -> tuple[dict, Any]:
    """The fastest and median of `runs` calls after a warm-up, and what the last call returned."""
    times, result = timed_runs(function, runs, before_each)
    return {"fastest_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1)}, result
