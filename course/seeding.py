"""Named random streams: which part of a generator draws from which numbers.

A generator that draws everything from one ``np.random.default_rng(seed)`` changes *all* its output
when one step starts drawing one more number. Instead, each step of every generator of ``course``
draws from its own stream, named here and derived from the user's ``seed``::

    from course.seeding import generator
    rng = generator(seed, "episodes", call_index)   # the frown episodes of one call

Adding a step, or drawing more numbers in one, leaves the other streams untouched, and the same
``seed`` with the same keys always gives the same numbers. The names are listed in :data:`STREAMS`,
in one place, so two steps never share a stream by accident; the few numbers older generators
already shared are listed, with why they stay, in :data:`SHARED_NUMBERS`.
"""
from __future__ import annotations

import numpy as np

from course.validation import check_seed

__all__ = ["STREAMS", "SHARED_NUMBERS", "generator", "child_seed"]

#: Every random stream of every generator of ``course``, by name, and its number. A stream's numbers
#: are ``np.random.default_rng([seed, number, *keys])`` (:func:`generator`), or the seed
#: ``SeedSequence([seed, number, *keys])`` hands to a function that takes a seed (:func:`child_seed`).
#:
#: Never renumber one: that would change the data every notebook was written against. Add new
#: names with new numbers (>= 2000 for a new generator), and check :data:`SHARED_NUMBERS`.
#:
#: The numbers below 1000 are the ids the older generators wrote inline before this table existed
#: (``default_rng([seed, 7])``...). They keep their numbers, so the numbers drawn stay identical,
#: and some of them repeat across generators: see :data:`SHARED_NUMBERS`.
STREAMS = {
    # course.frowns (assignments 02-04): faces drawn from a seed
    "face-factors": 0,         # sample_face_params: label, tone, lighting, shape, occlusion...
    "face-pixels": 1,          # render_faces: pixel noise
    # course.eventlog (assignment 03)
    "event-log": 2,            # make_event_log: users, events, clicks
    # course.stream (assignment 06, the drift stream)
    "faces-table-overhead": 3, # make_faces_table: which faces stand under the changed light
    "faces-table-faces": 4,    # make_faces_table: seed of the faces themselves (child seed)
    "stream-conditions": 5,    # make_stream: which faces of a window stand under the changed light
    "stream-label-delays": 6,  # make_stream: how many windows each label takes to arrive
    "stream-window-faces": 10, # make_stream: seed of the faces of window t (child seed, key t)
    "stream-counterfactual": 17,  # ProductionStream.counterfactual: which late labels flip
    "overhead-light": 99,      # the angle and strength of the changed light, per face set
    "deployment-train": 1,     # make_stream: training set of the deployed model (child of deployment_seed)
    "deployment-reference": 2, # make_stream: the reference log (child of deployment_seed)
    # course.serving (assignment 05)
    "sleepy-jitter": 5,        # SleepyModel: the random tail of every call
    "zipf-ranks": 6,           # zipf_requests: which id gets which popularity rank, and the requests
    "poisson-arrivals": 7,     # poisson_arrivals: the gaps between requests
    # course.crowd (assignment 02)
    "crowd": 7,                # make_crowd: annotators' answers and who labels what
    # course.textset (assignment 03)
    "support-messages": 11,    # make_support_messages: labels, templates and fillers
    # course.interview (assignment 07)
    "interview": 7001,         # Interview: the facts of a scenario's version (key: the scenario's index)
    # course.shipping (assignment 05)
    "broken-crops": 7101,      # camera_frames: which crops arrive broken, and how
    # course.calls (assignments 04-06): the newer scheme, one stream per step of a call
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

#: Numbers that more than one stream uses, and why that is harmless. Each pair was written before
#: this table; separating them would change one generator's data, which notebooks were written
#: against, so they stay. Two streams that share a number draw the *same* numbers for the same seed:
#: never combine the two generators' outputs as if they were independent. A new stream never
#: shares a number (``tests/test_course_seeding.py`` checks that every repeat is listed here).
SHARED_NUMBERS = {
    1: ("face-pixels", "deployment-train"),         # a generator vs. a child seed: different draws
    2: ("event-log", "deployment-reference"),       # a generator vs. a child seed: different draws
    5: ("stream-conditions", "sleepy-jitter"),      # assignment 06 vs. assignment 05
    6: ("stream-label-delays", "zipf-ranks"),       # assignment 06 vs. assignment 05
    7: ("crowd", "poisson-arrivals"),               # assignment 02 vs. assignment 05
}


def _key(name: str) -> int:
    if name not in STREAMS:
        raise KeyError(f"unknown random stream {name!r}; the streams are {sorted(STREAMS)}")
    return STREAMS[name]


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
        ``np.random.default_rng([seed, STREAMS[name], *keys])``.
    """
    words = (check_seed(seed), _key(name), *(int(k) for k in keys))
    if min(words) >= 0 and max(words) < 2 ** 32:
        # numpy turns each number of the list into 32-bit words, one word for a number below 2**32;
        # handed those words as a uint32 array it seeds the very same generator, three times faster
        # (a table of frames asks for a few generators per call)
        return np.random.default_rng(np.array(words, dtype=np.uint32))
    return np.random.default_rng(list(words))


def child_seed(seed: int, name: str, *keys: int) -> int:
    """An ``int`` seed for stream ``name`` of ``seed``, for functions that take a seed, not a
    generator (such as :func:`course.frowns.render_faces`).

    Parameters
    ----------
    seed : int
        The user's seed (>= 0).
    name : str
        One of :data:`STREAMS`.
    *keys : int
        Further integers for independent sub-streams.

    Returns
    -------
    int
        The first 32-bit word of ``SeedSequence([seed, STREAMS[name], *keys])``.
    """
    sequence = np.random.SeedSequence([check_seed(seed), _key(name), *(int(k) for k in keys)])
    return int(sequence.generate_state(1)[0])
