"""Unit tests for course.seeding: named random streams."""
import numpy as np
import pytest

from collections import defaultdict

from course.seeding import SHARED_NUMBERS, STREAMS, child_seed, generator


def test_a_stream_is_reproducible_and_streams_are_independent():
    a = generator(3, "episodes", 1).random(5)
    np.testing.assert_array_equal(a, generator(3, "episodes", 1).random(5))
    assert not np.array_equal(a, generator(3, "episodes", 2).random(5))
    assert not np.array_equal(a, generator(3, "motion", 1).random(5))
    assert not np.array_equal(a, generator(4, "episodes", 1).random(5))


def test_every_stream_has_its_own_number_but_the_listed_legacy_shares():
    names_of = defaultdict(set)
    for name, number in STREAMS.items():
        names_of[number].add(name)
    shared = {number: names for number, names in names_of.items() if len(names) > 1}
    assert shared == {number: set(names) for number, names in SHARED_NUMBERS.items()}
    assert all(number < 1000 for number in shared), "only the older generators' ids may repeat"


def test_child_seed_is_a_reproducible_int():
    s = child_seed(5, "pixels", 0)
    assert isinstance(s, int) and s >= 0 and s == child_seed(5, "pixels", 0) != child_seed(5, "pixels", 1)


@pytest.mark.parametrize("seed, name, error", [(-1, "pixels", ValueError), (1.5, "pixels", TypeError),
                                                (True, "pixels", TypeError), (1, "nope", KeyError)])
def test_bad_seeds_and_names(seed, name, error):
    with pytest.raises(error):
        generator(seed, name)
