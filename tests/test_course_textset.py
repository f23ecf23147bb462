"""course.textset: generated support messages with their true team."""
import re

import numpy as np
import pytest

from course.textset import ABSTAIN, LABEL_NAMES, make_support_messages


def test_columns_types_and_labels():
    msgs = make_support_messages(300, seed=0)
    assert list(msgs.columns) == ["text", "label", "team"]
    assert len(msgs) == 300 and msgs["label"].dtype == np.int64
    assert all(isinstance(t, str) and t for t in msgs["text"])
    assert set(msgs["label"]) == {0, 1, 2}
    assert all(LABEL_NAMES[label] == team for label, team in zip(msgs["label"], msgs["team"]))
    assert ABSTAIN == -1
    assert "{" not in "".join(msgs["text"]) and "|" not in "".join(msgs["text"])


def test_deterministic_and_seed_dependent():
    a, b = make_support_messages(100, seed=4), make_support_messages(100, seed=4)
    assert a.equals(b)
    assert not a["text"].equals(make_support_messages(100, seed=5)["text"])
    assert len(make_support_messages(0)) == 0


def test_team_shares():
    msgs = make_support_messages(4000, seed=1)
    shares = np.bincount(msgs["label"], minlength=3) / len(msgs)
    assert np.allclose(shares, [0.35, 0.40, 0.25], atol=0.03)


def test_keyword_rules_work_but_are_imperfect():
    """The set is meant for weak supervision: keywords help a lot but not completely."""
    msgs = make_support_messages(2000, seed=2)
    billing = msgs["text"].str.contains(r"refund|charg|invoice|payment", flags=re.I)
    assert 0.1 < billing.mean() < 0.5
    assert (msgs["label"][billing] == 0).mean() > 0.95
    account = msgs["text"].str.contains("account", case=False)
    assert 0.3 < (msgs["label"][account] == 2).mean() < 0.9  # "money left my account" is billing
    password = msgs["text"].str.contains("password", case=False)
    assert (msgs["label"][password] == 2).mean() < 0.9  # asides mention passwords elsewhere
    assert msgs["text"].str.isupper().mean() > 0.03  # some people shout


def test_bad_arguments():
    with pytest.raises(TypeError):
        make_support_messages(10.5)
    with pytest.raises(ValueError):
        make_support_messages(-1)
