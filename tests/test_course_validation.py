"""Unit tests for course.validation: the argument checks every generator of ``course`` uses."""
import inspect

import numpy as np
import pytest

from course.validation import (check_choice, check_count, check_fraction, check_real, check_seed,
                               seed_by_keyword)


def test_check_count_returns_a_python_int_and_accepts_numpy_integers():
    assert check_count("n", np.int64(3), 1) == 3 and type(check_count("n", np.int64(3), 1)) is int
    assert check_count("n", 0) == 0


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "The 'n' parameter must be an int in the range [1, inf). Got 0 instead."),
    (2.0, TypeError, "The 'n' parameter must be an int in the range [1, inf). Got 2.0 instead."),
    (True, TypeError, "The 'n' parameter must be an int in the range [1, inf). Got True of type bool instead."),
    ("3", TypeError, "The 'n' parameter must be an int in the range [1, inf). Got '3' instead."),
])
def test_check_count_names_the_parameter_shows_the_value_and_says_what_is_allowed(value, error, message):
    with pytest.raises(error) as info:
        check_count("n", value, 1)
    assert str(info.value) == message


def test_check_seed_allows_zero_and_refuses_negatives_floats_and_bools():
    assert check_seed(0) == 0 and check_seed(np.uint32(7)) == 7
    with pytest.raises(ValueError, match=r"^The 'seed' parameter must be an int in the range \[0, inf\)\. Got -1"):
        check_seed(-1)
    with pytest.raises(TypeError, match="'seed' parameter.*Got 1.5 instead"):
        check_seed(1.5)
    with pytest.raises(TypeError, match="'seed' parameter"):
        check_seed(False)
    with pytest.raises(ValueError, match="'deployment_seed' parameter"):
        check_seed(-2, "deployment_seed")


def test_check_real_bounds_open_and_closed():
    assert check_real("x", 1, 0.0, 1.0) == 1.0 and type(check_real("x", 1, 0.0, 1.0)) is float
    assert check_real("x", -5) == -5.0
    with pytest.raises(ValueError, match=r"^The 'x' parameter must be a float in the range \(0, inf\)\. Got 0 instead\.$"):
        check_real("x", 0, 0.0, low_open=True)
    with pytest.raises(ValueError, match=r"range \[-1, 1\]\. Got 2\.5 instead"):
        check_real("x", 2.5, -1.0, 1.0)
    for bad in (float("nan"), float("inf"), True, "1", None):
        with pytest.raises(TypeError, match="'x' parameter must be a float"):
            check_real("x", bad)


def test_check_fraction_is_zero_to_one_and_can_refuse_zero():
    assert check_fraction("share", 0) == 0.0 and check_fraction("share", 1) == 1.0
    with pytest.raises(ValueError, match=r"'share' parameter must be a float in the range \[0, 1\]\. Got 1\.5"):
        check_fraction("share", 1.5)
    with pytest.raises(ValueError, match=r"range \(0, 1\]\. Got 0 instead"):
        check_fraction("share", 0, allow_zero=False)


def test_check_choice_lists_the_choices_in_order():
    assert check_choice("axis", "y", ("x", "y", "both")) == "y"
    with pytest.raises(ValueError) as info:
        check_choice("axis", "z", ("x", "y", "both"))
    assert str(info.value) == "The 'axis' parameter must be one of 'x', 'y' or 'both'. Got 'z' instead."
    with pytest.raises(ValueError, match="must be one of 'a'. Got"):
        check_choice("kind", ["unhashable"], {"a": 1})


def test_seed_by_keyword_keeps_the_signature_and_names_seed_when_given_by_position():
    @seed_by_keyword
    def make_things(n=3, *, seed=0):
        """Make things."""
        return [seed] * n

    assert make_things(2, seed=5) == [5, 5]
    assert list(inspect.signature(make_things).parameters) == ["n", "seed"]
    assert make_things.__doc__ == "Make things."
    with pytest.raises(TypeError) as info:
        make_things(2, 5)
    assert str(info.value) == ("make_things() takes seed as a keyword, e.g. make_things(n, seed=0): "
                               "got 2 positional arguments (2, 5), at most 1 allowed.")


def test_seed_by_keyword_names_the_class_of_a_constructor():
    class Model:
        @seed_by_keyword
        def __init__(self, width=1, *, seed=0):
            self.seed = seed

    assert Model(2, seed=3).seed == 3
    with pytest.raises(TypeError, match=r"^Model\(\) takes seed as a keyword, e.g. Model\(width, seed=0\)"):
        Model(2, 3)


def test_seed_by_keyword_refuses_a_function_whose_seed_is_not_keyword_only():
    with pytest.raises(TypeError, match="no keyword-only 'seed'"):
        seed_by_keyword(lambda n, seed=0: n)
