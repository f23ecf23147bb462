"""Unit tests for course.seeding: named random streams."""
import numpy as np
import pytest

from course.seeding import STREAMS, child_seed, generator


def test_a_stream_is_reproducible_and_streams_are_independent():
    a = generator(3, "episodes", 1).random(5)
    np.testing.assert_array_equal(a, generator(3, "episodes", 1).random(5))
    assert not np.array_equal(a, generator(3, "episodes", 2).random(5))
    assert not np.array_equal(a, generator(3, "motion", 1).random(5))
    assert not np.array_equal(a, generator(4, "episodes", 1).random(5))


def test_every_stream_has_its_own_number():
    assert len(set(STREAMS.values())) == len(STREAMS)


def test_child_seed_is_a_reproducible_int():
    s = child_seed(5, "pixels", 0)
    assert isinstance(s, int) and s >= 0 and s == child_seed(5, "pixels", 0) != child_seed(5, "pixels", 1)


@pytest.mark.parametrize("seed, name, error", [(-1, "pixels", TypeError), (1.5, "pixels", TypeError),
                                                (True, "pixels", TypeError), (1, "nope", KeyError)])
def test_bad_seeds_and_names(seed, name, error):
    with pytest.raises(error):
        generator(seed, name)
