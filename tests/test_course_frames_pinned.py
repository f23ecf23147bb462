"""The synthetic frames, pinned to the bit.

The notebooks quote numbers computed from the frames of :mod:`course.calls` and the faces of
:mod:`course.frowns` (shares of frowns, scores, drift statistics...), and their texts were written
against those numbers. Making the generator faster must therefore not change a single bit of what
it returns: the same random draws in the same order, the same float operations, the same dtypes,
columns and index. Each case below is a digest of everything a call returns, computed with the
generator as it was before it was made faster; a change that moves any number, however little,
fails here (and must then be a deliberate change of the data, with the notebooks checked again).
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from course.calls import make_frames, make_participants
from course.frowns import render_faces, sample_face_params
from course.seeding import generator


def _digest(*parts) -> str:
    """SHA-256 of arrays (dtype, shape, bytes), tables (columns, dtypes, index, every column's
    values: the bytes of a numeric column, the reprs of an object or string column) and anything
    else's repr."""
    sha = hashlib.sha256()

    def add(values: np.ndarray):
        sha.update(repr((str(values.dtype), values.shape)).encode())
        if values.dtype == object:
            sha.update(repr(values.tolist()).encode())
        else:
            sha.update(np.ascontiguousarray(values).tobytes())

    for part in parts:
        if isinstance(part, pd.DataFrame):
            sha.update(repr((list(part.columns), [str(t) for t in part.dtypes], list(part.index))).encode())
            for name in part.columns:
                add(part[name].to_numpy())
        elif isinstance(part, np.ndarray):
            add(part)
        else:
            sha.update(repr(part).encode())
        sha.update(b"|")
    return sha.hexdigest()


def _frames(frames) -> str:
    images = frames.images if frames.images is not None else "no images"
    return _digest(images, frames.labels, frames.meta, frames.participants, frames.calls, frames.fps,
                   frames.frames_per_window, frames.frown_prevalence)


def _production_hour():
    """One hour of course.production's replay: 24 new people, a two-second call each, 5 fps,
    after both production events."""
    people = make_participants(48, seed=0).iloc[24:48]
    return make_frames(people, calls_per_participant=1, call_seconds=2.0, seed=0, day=1, fps=5,
                       day_seconds=3600.0, lighting_change_at=0.0, lighting_fraction=0.6, camera_change_at=0.0)


CASES = {
    "two calls each, small pictures": lambda: _frames(make_frames(
        4, calls_per_participant=2, call_seconds=4.0, seed=0, fps=5, frown_prevalence=0.3, size=16)),
    "one frame a second, both events": lambda: _frames(make_frames(
        12, 1, 12.0, fps=1, frown_prevalence=0.25, seed=1, day=2, lighting_change_at=0.0,
        lighting_fraction=1.0, camera_change_at=0.0)),
    "the same people another day, long series, tables only": lambda: _frames(make_frames(
        make_participants(3, seed=7), 2, 10.0, seed=7, day=1, fps=15, frown_prevalence=0.5, render=False,
        day_seconds=3600.0, lighting_change_at=1200.0)),
    "an hour of the production replay": lambda: _frames(_production_hour()),
    "participants": lambda: _digest(make_participants(30, seed=5)),
    "faces without shape columns": lambda: _digest(
        render_faces(sample_face_params(40, seed=2), seed=3, size=24)),
}

PINNED = {
    "two calls each, small pictures":
        "5bb915b50985f56d8c67e220dfc7d007a1e9be1527a65456e125bd91bbb40aa1",
    "one frame a second, both events":
        "b73fd2026a643a92783c253eeb9298b26a77383222e8400214976b7ce10e5ecf",
    "the same people another day, long series, tables only":
        "eaf1387e879f41b07919850dd9695d43d8ea448d7150f338ba215da9a3c601fc",
    "an hour of the production replay":
        "cd96ff916c6cffb8604c3da6e4fd2f431a9a4d730c8c520d5911ffcbd53775c6",
    "participants":
        "d92ca9a14716e990876818537a3bc4c473d5b4bfcc259dfc28b4081cda1220d1",
    "faces without shape columns":
        "579c9fb695bdd6b4b171b217172c20e21729c2737e9cab95f3381e946536db80",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_frames_are_the_same_to_the_bit(case):
    assert CASES[case]() == PINNED[case], f"{case}: the generator's output changed"


@pytest.mark.parametrize("seed, name, keys", [(0, "episodes", (0, 0, 0)), (7, "motion", (3, 2 ** 32 - 1, 1)),
                                              (2 ** 40, "calls", (1, 5)), (5, "participants", (2 ** 33,)),
                                              (123, "pixels", ())])
def test_the_cheaper_seeding_gives_the_generators_of_the_seed_list(seed, name, keys):
    """course.seeding.generator seeds from a uint32 array when every number fits one word; it must
    seed the very same generators as the list [seed, STREAMS[name], *keys] always did."""
    from course.seeding import STREAMS

    reference = np.random.default_rng([seed, STREAMS[name], *keys])
    assert generator(seed, name, *keys).bit_generator.state == reference.bit_generator.state
    np.testing.assert_array_equal(generator(seed, name, *keys).random(5), reference.random(5))
