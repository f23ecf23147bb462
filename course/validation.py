"""Argument checks shared by the course's generators and tools.

Every public function of ``course`` checks its arguments with these and so fails the same way:
a ``TypeError`` when the type is wrong, a ``ValueError`` when the value is out of range, and a
message that names the argument, what it must be, and what it got.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = ["check_count", "check_real"]


def check_count(name: str, value, low: int = 0) -> int:
    """``value`` as an ``int``, which must be at least ``low``; ``True``/``False`` are refused.

    >>> check_count("n", 3, 1)
    3
    >>> check_count("n", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_real(name: str, value, low: float | None = None, high: float | None = None, *,
               low_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``(low, high]`` with ``low_open``);
    a missing bound is no bound.

    >>> check_real("share", 0.5, 0.0, 1.0)
    0.5
    >>> check_real("share", 2, 0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: share must be >= 0 and <= 1, got 2
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and value > high
    if too_low or too_high:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None and math.isfinite(high):
            bounds.append(f"<= {high:g}")
        raise ValueError(f"{name} must be {' and '.join(bounds)}, got {value:g}")
    return value
