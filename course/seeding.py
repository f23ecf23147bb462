"""Named random streams: which part of a generator draws from which numbers.

A generator that draws everything from one ``np.random.default_rng(seed)`` changes *all* its output
when one step starts drawing one more number. Instead, each step of the course's newer generators
draws from its own stream, named here and derived from the user's ``seed``::

    from course.seeding import generator
    rng = generator(seed, "episodes", call_index)   # the frown episodes of one call

Adding a step, or drawing more numbers in one, leaves the other streams untouched, and the same
``seed`` with the same keys always gives the same numbers. The names are listed in :data:`STREAMS`,
in one place, so two steps never share a stream by accident.
"""
from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["STREAMS", "generator", "child_seed"]

#: Every named stream and its number. Never renumber one: that would change the data every
#: notebook was written against. Add new names with new numbers.
STREAMS = {
    "participants": 1001,      # who takes part: identity, tone, face shape, resting mouth
    "calls": 1002,             # per call: start time, lighting, camera, glasses or hat
    "episodes": 1003,          # when each participant frowns, and how deeply
    "occlusions": 1004,        # a hand passing over the mouth, per call
    "motion": 1005,            # small frame-to-frame changes: head jitter, talking, flicker
    "pixels": 1006,            # camera noise of the rendered frames
    "events": 1007,            # production events: which calls a lighting change reaches
    # course.production (assignment 06): labels coming back from production
    "production-labels": 1601, # donors, nudge feedback and label delays of a replay's windows
    "traffic": 1602,           # which calls of an hour a full-volume copy of the traffic draws
    "traffic-labels": 1603,    # donors, nudge feedback and label delays of that traffic
}


def _key(name: str) -> int:
    if name not in STREAMS:
        raise KeyError(f"unknown random stream {name!r}; the streams are {sorted(STREAMS)}")
    return STREAMS[name]


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise TypeError(f"seed must be an int >= 0, got {seed!r}")
    return int(seed)


def generator(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A ``numpy`` random generator for stream ``name`` of ``seed``, optionally per ``keys``.

    Parameters
    ----------
    seed : int
        The user's seed (>= 0).
    name : str
        One of :data:`STREAMS`.
    *keys : int
        Further integers (a call's index, a participant's index...) for independent sub-streams.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng([_check_seed(seed), _key(name), *(int(k) for k in keys)])


def child_seed(seed: int, name: str, *keys: int) -> int:
    """An ``int`` seed for stream ``name`` of ``seed``, for functions that take a seed, not a
    generator (such as :func:`course.frowns.render_faces`)."""
    sequence = np.random.SeedSequence([_check_seed(seed), _key(name), *(int(k) for k in keys)])
    return int(sequence.generate_state(1)[0])
