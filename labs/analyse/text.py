"""How analysis numbers are written: times with units, intervals, p-values."""

from __future__ import annotations

import math


def format_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale or unit == "us":
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def format_ci(ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "n/a"
    low, high = ci
    if low <= 0 and math.isinf(high):
        return "unbounded"
    return f"[{low:.3f}, {'inf' if math.isinf(high) else f'{high:.3f}'}]"


def format_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 or p == 0 else f"{p:.1e}"


def format_level(level: float) -> str:
    """A confidence level with two significant digits of what it leaves out: 95%, 99.75%, 99.9983%."""
    left_out = 100.0 * (1.0 - level)
    if left_out <= 0:
        return "100%"
    digits = max(0, 1 - math.floor(math.log10(left_out)))
    return f"{100.0 - left_out:.{digits}f}".rstrip("0").rstrip(".") + "%"
