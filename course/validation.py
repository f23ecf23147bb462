"""Argument checks shared by the course's generators and tools.

Every public function of ``course`` checks its arguments with these and so fails the same way:
a ``TypeError`` when the type is wrong, a ``ValueError`` when the value is out of range, and a
message in scikit-learn's style that names the parameter, says what is allowed and shows what it
got::

    The 'seed' parameter must be an int in the range [0, inf). Got -1 instead.

:func:`seed_by_keyword` makes a generator refuse a seed passed by position with a message that
names ``seed`` (Python's own message only counts the arguments).
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from numbers import Integral, Real

__all__ = ["check_seed", "check_count", "check_real", "check_fraction", "check_choice",
           "seed_by_keyword"]


def _bounds(low, high, *, low_open: bool = False, high_open: bool = False) -> str:
    """``[0, inf)``, ``(0, 1]``...: the interval ``low..high`` written as scikit-learn does."""
    left = "(" if low is None or low_open else "["
    right = ")" if high is None or high_open or (isinstance(high, float) and math.isinf(high)) else "]"
    low_text = "-inf" if low is None else f"{low:g}"
    high_text = "inf" if high is None or math.isinf(high) else f"{high:g}"
    return f"{left}{low_text}, {high_text}{right}"


def _got(value) -> str:
    return f"Got {value!r} instead." if isinstance(value, (Real, str)) and not isinstance(value, bool) \
        else f"Got {value!r} of type {type(value).__name__} instead."


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_count(name: str, value, low: int = 0) -> int:
    """Check a size or a count: an ``int`` (numpy integers too, not ``bool``) of at least ``low``.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        What the caller passed.
    low : int, default 0
        The smallest value allowed.

    Returns
    -------
    int
        ``value`` as a Python ``int``.

    Raises
    ------
    TypeError
        ``value`` is not an integer (``True`` and ``False`` are refused).
    ValueError
        ``value`` is below ``low``.

    Examples
    --------
    >>> check_count("n", 3, 1)
    3
    >>> check_count("n", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: The 'n' parameter must be an int in the range [1, inf). Got 0 instead.
    """
    allowed = f"The {name!r} parameter must be an int in the range {_bounds(low, None)}."
    if not _is_int(value):
        raise TypeError(f"{allowed} {_got(value)}")
    if value < low:
        raise ValueError(f"{allowed} {_got(int(value))}")
    return int(value)


def check_seed(seed, name: str = "seed") -> int:
    """Check a random seed: an ``int >= 0`` (see :mod:`course.seeding` for what it seeds).

    Parameters
    ----------
    seed : object
        What the caller passed.
    name : str, default "seed"
        The parameter's name, for the message (``deployment_seed``, ``broken_seed``...).

    Returns
    -------
    int
        ``seed`` as a Python ``int``.

    Raises
    ------
    TypeError
        ``seed`` is not an integer.
    ValueError
        ``seed`` is negative.

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(1.5)
    Traceback (most recent call last):
    ...
    TypeError: The 'seed' parameter must be an int in the range [0, inf). Got 1.5 instead.
    """
    return check_count(name, seed, 0)


def check_real(name: str, value, low: float | None = None, high: float | None = None, *,
               low_open: bool = False) -> float:
    """Check a finite number in ``[low, high]`` (``(low, high]`` with ``low_open``).

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        What the caller passed.
    low, high : float or None
        The bounds; None is no bound.
    low_open : bool, default False
        Refuse ``low`` itself.

    Returns
    -------
    float
        ``value`` as a Python ``float``.

    Raises
    ------
    TypeError
        ``value`` is not a finite real number (``True``/``False``, NaN and infinities are refused).
    ValueError
        ``value`` lies outside the bounds.

    Examples
    --------
    >>> check_real("share", 0.5, 0.0, 1.0)
    0.5
    >>> check_real("share", 2, 0.0, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'share' parameter must be a float in the range [0, 1]. Got 2 instead.
    """
    allowed = (f"The {name!r} parameter must be a float in the range "
               f"{_bounds(low, high, low_open=low_open)}.")
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise TypeError(f"{allowed} {_got(value)}")
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and value > high
    if too_low or too_high:
        raise ValueError(f"{allowed} {_got(value)}")
    return float(value)


def check_fraction(name: str, value, *, allow_zero: bool = True) -> float:
    """Check a share or a probability: a number in ``[0, 1]`` (``(0, 1]`` without ``allow_zero``).

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        What the caller passed.
    allow_zero : bool, default True
        Whether 0 is allowed.

    Returns
    -------
    float
        ``value`` as a Python ``float``.

    Raises
    ------
    TypeError
        ``value`` is not a finite real number.
    ValueError
        ``value`` lies outside ``[0, 1]`` (or is 0 without ``allow_zero``).

    Examples
    --------
    >>> check_fraction("vote_share", 0, allow_zero=False)
    Traceback (most recent call last):
    ...
    ValueError: The 'vote_share' parameter must be a float in the range (0, 1]. Got 0 instead.
    """
    return check_real(name, value, 0.0, 1.0, low_open=not allow_zero)


def check_choice(name: str, value, choices: Iterable):
    """Check that ``value`` is one of ``choices``.

    Parameters
    ----------
    name : str
        The parameter's name, for the message.
    value : object
        What the caller passed.
    choices : iterable
        The values allowed, listed in this order in the message.

    Returns
    -------
    object
        ``value``, unchanged.

    Raises
    ------
    ValueError
        ``value`` is not one of ``choices``.

    Examples
    --------
    >>> check_choice("axis", "z", ("x", "y", "both"))
    Traceback (most recent call last):
    ...
    ValueError: The 'axis' parameter must be one of 'x', 'y' or 'both'. Got 'z' instead.
    """
    choices = list(choices)
    try:
        hashable_hit = value in choices
    except TypeError:
        hashable_hit = False
    if hashable_hit:
        return value
    names = [repr(c) for c in choices]
    options = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    raise ValueError(f"The {name!r} parameter must be one of {options}. {_got(value)}")


def seed_by_keyword(function: Callable) -> Callable:
    """Decorate a generator whose ``seed`` is keyword-only, so a seed passed by position fails
    with a ``TypeError`` that names ``seed`` and shows the right call.

    Parameters
    ----------
    function : callable
        A function (or method) with a keyword-only ``seed`` parameter.

    Returns
    -------
    callable
        The same function, with the same signature; only the error for too many positional
        arguments differs.

    Examples
    --------
    >>> @seed_by_keyword
    ... def make_things(n=3, *, seed=0):
    ...     return [seed] * n
    >>> make_things(3, 1)
    Traceback (most recent call last):
    ...
    TypeError: make_things() takes seed as a keyword, e.g. make_things(n, seed=0): got 2 positional arguments (3, 1), at most 1 allowed.
    """
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if "seed" not in signature.parameters or signature.parameters["seed"].kind is not inspect.Parameter.KEYWORD_ONLY:
        raise TypeError(f"{function.__qualname__} has no keyword-only 'seed' parameter")
    positional = [p.name for p in parameters
                  if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    bound_self = positional[:1] == ["self"]
    shown = positional[1:] if bound_self else positional
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        raise TypeError(f"{function.__qualname__} takes *args, so a positional seed cannot be told apart")
    if function.__name__ == "__init__":   # a class: show how the class is called
        name = function.__qualname__.split(".")[-2]
    else:
        name = function.__name__
    example = f"{name}({', '.join([*shown, 'seed=0'])})"

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if len(args) > len(positional):
            given = args[1:] if bound_self else args
            allowed = len(shown)
            raise TypeError(
                f"{name}() takes seed as a keyword, e.g. {example}: got {len(given)} positional "
                f"argument{'s' if len(given) != 1 else ''} {_short(given)}, at most {allowed} allowed.")
        return function(*args, **kwargs)

    return wrapper


def _short(values: tuple) -> str:
    text = repr(tuple(values))
    return text if len(text) <= 80 else text[:77] + "...)"
