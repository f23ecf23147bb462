"""course.crowd: a simulated crowd of annotators labelling frown faces."""
import numpy as np
import pandas as pd
import pytest

from course.crowd import ADVERSARIAL_CROWD, MISSING, STANDARD_CROWD, Annotator, Crowd, make_crowd
from course.frowns import sample_face_params


def test_shapes_types_and_truth():
    crowd = make_crowd(200, seed=3)
    assert isinstance(crowd, Crowd) and len(crowd) == 200
    assert crowd.labels.shape == (200, len(STANDARD_CROWD)) and crowd.labels.dtype == np.int64
    assert crowd.truth.shape == (200,) and crowd.truth.dtype == np.int64
    assert set(np.unique(crowd.labels)) <= {0, 1}
    assert list(crowd.annotators.columns) == ["name", "kind", "sensitivity", "specificity"]
    # items are the faces of the same seed; the truth is their label
    expected = sample_face_params(200, seed=3)
    pd.testing.assert_frame_equal(crowd.items, expected)
    assert np.array_equal(crowd.truth, expected["label"].to_numpy())


def test_deterministic_and_seed_dependent():
    a, b, c = make_crowd(100, seed=1), make_crowd(100, seed=1), make_crowd(100, seed=2)
    assert np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, c.labels)


def test_accuracies_follow_the_annotator_parameters():
    crowd = make_crowd(6000, seed=0, annotators="standard")
    clear = np.abs(crowd.items["curvature"].to_numpy()) > 0.2
    for j, row in crowd.annotators.iterrows():
        said, truth = crowd.labels[clear, j], crowd.truth[clear]
        sens = (said[truth == 1] == 1).mean()
        spec = (said[truth == 0] == 0).mean()
        # about 2,500 clear faces per class: the standard error is below 0.01
        assert abs(sens - row.sensitivity) < 0.04, (row["name"], sens)
        assert abs(spec - row.specificity) < 0.04, (row["name"], spec)
    # the unreliable annotator agrees least with the truth, and ambiguous faces are harder
    acc = (crowd.labels == crowd.truth[:, None]).mean(axis=0)
    assert crowd.annotators["kind"].iloc[int(np.argmin(acc))] == "unreliable"
    ana = crowd.labels[:, 0] == crowd.truth
    assert ana[~clear].mean() < ana[clear].mean() - 0.1


def test_adversarial_crowd_and_shuffle():
    crowd = make_crowd(3000, seed=5, annotators="adversarial", shuffle=True)
    assert sorted(crowd.annotators["name"]) == sorted(a.name for a in ADVERSARIAL_CROWD)
    acc = (crowd.labels == crowd.truth[:, None]).mean(axis=0)
    j = int(np.flatnonzero(crowd.annotators["kind"].to_numpy() == "adversarial")[0])
    assert acc[j] < 0.3
    columns = {tuple(make_crowd(10, seed=s, shuffle=True).annotators["name"]) for s in range(8)}
    assert len(columns) > 1, "shuffle should change the order of the annotators between seeds"


def test_labels_per_item_leaves_the_rest_missing():
    crowd = make_crowd(500, seed=2, labels_per_item=3)
    seen = (crowd.labels != MISSING).sum(axis=1)
    assert np.all(seen == 3)
    per_annotator = (crowd.labels != MISSING).mean(axis=0)
    assert np.all(np.abs(per_annotator - 3 / 5) < 0.08)


def test_custom_crowd_and_errors():
    crowd = make_crowd(50, seed=0, annotators=[Annotator("x", "perfect", 1.0, 1.0)], ambiguity=0.01)
    clear = np.abs(crowd.items["curvature"].to_numpy()) >= 0.2
    assert np.array_equal(crowd.labels[clear, 0], crowd.truth[clear])
    with pytest.raises(ValueError, match="unknown crowd"):
        make_crowd(10, annotators="nope")
    with pytest.raises(ValueError, match="labels_per_item"):
        make_crowd(10, labels_per_item=9)
    with pytest.raises(ValueError, match=r"'x.sensitivity' parameter must be a float in the range \[0, 1\]"):
        make_crowd(10, annotators=[Annotator("x", "?", 1.5, 0.5)])
    with pytest.raises(TypeError):
        make_crowd(10.0)
    assert make_crowd(0).labels.shape == (0, 5)
