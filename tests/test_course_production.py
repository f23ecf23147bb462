"""course.production: hours of production through a detector, and labels that come back as the spec says."""
from __future__ import annotations

import numpy as np
import pytest

from course.models import Detector, frown_cnn
from course.production import FACE_COLUMNS, WINDOW_COLUMNS, production_replay, replay_traffic
from course.spec import SPEC


@pytest.fixture(scope="module")
def detector():
    """An untrained member of the shipped family (fast, deterministic), its threshold set so that
    about a third of the windows fire."""
    model = frown_cnn(4, 8, seed=0).eval()
    probe = production_replay(3, seed=11, calls_per_hour=6, detector=Detector(model=model, threshold=0.5))
    return Detector(model=model, threshold=float(np.quantile(probe.windows["vote"], 0.67)))


@pytest.fixture(scope="module")
def replay(detector):
    return production_replay(10, seed=3, calls_per_hour=6, lighting_change_at=4, camera_change_at=7,
                             detector=detector)


def test_tables_have_their_columns_and_every_hour(replay):
    assert list(replay.faces.columns) == FACE_COLUMNS
    assert list(replay.windows.columns) == WINDOW_COLUMNS
    assert sorted(replay.faces["hour"].unique()) == list(range(10))
    assert len(replay.images) == len(replay.faces)
    assert replay.events == {"lighting_change": 4, "camera_change": 7}


def test_events_happen_at_their_hour(replay):
    faces = replay.faces
    assert (faces.loc[faces["hour"] < 4, "lighting"] != "overhead").all()
    assert (faces.loc[faces["hour"] >= 4, "lighting"] == "overhead").any()
    assert (faces.loc[faces["hour"] < 7, "camera"] == "old").all()
    assert (faces.loc[faces["hour"] >= 7, "camera"] == "new").all()


def test_same_seed_same_replay(detector, replay):
    again = production_replay(10, seed=3, calls_per_hour=6, lighting_change_at=4, camera_change_at=7,
                              detector=detector)
    assert again.windows.equals(replay.windows)
    assert np.array_equal(again.images, replay.images)


def test_labels_come_back_as_the_spec_says(detector, replay):
    traffic = replay_traffic(replay, 400, seed=5)
    assert list(traffic.columns) == WINDOW_COLUMNS
    fired = traffic["fired"].to_numpy()
    assert not (traffic["feedback"] & ~traffic["fired"]).any(), "feedback only on shown nudges"
    share = traffic.loc[fired, "feedback"].mean()
    assert abs(share - SPEC.nudge_feedback_rate) < 0.05, share
    donors = traffic.groupby("participant")["donor"].first().mean()
    assert abs(donors - SPEC.opt_in_rate) < 0.01, donors
    delay = (traffic["arrival"] - traffic["hour"])[traffic["donor"] & ~traffic["feedback"]]
    assert delay.between(*SPEC.label_delay).all() and delay.nunique() > 1
    assert (traffic.loc[traffic["feedback"], "arrival"] == traffic.loc[traffic["feedback"], "hour"]).all()
    unlabelled = ~traffic["feedback"] & ~traffic["donor"]
    assert np.isinf(traffic.loc[unlabelled, "arrival"]).all()
    f, o = SPEC.nudge_feedback_rate, SPEC.opt_in_rate
    assert np.allclose(traffic.loc[fired, "propensity"], 1 - (1 - f) * (1 - o))
    assert np.allclose(traffic.loc[~fired, "propensity"], o)
    # the empirical chance of a label matches the propensity the table states
    labelled = np.isfinite(traffic["arrival"].to_numpy())
    assert abs(labelled[fired].mean() - (1 - (1 - f) * (1 - o))) < 0.05
    assert abs(labelled[~fired].mean() - o) < 0.01


def test_traffic_keeps_the_decisions_of_its_hour(replay):
    traffic = replay_traffic(replay, 50, seed=1)
    assert traffic.groupby("hour").size().min() >= 50
    source = replay.windows.set_index(["call", "window"])
    original = traffic["call"].str.split("#").str[0]
    back = source.loc[list(zip(original, traffic["window"]))]
    assert (back["hour"].to_numpy() == traffic["hour"].to_numpy()).all()
    assert (back["fired"].to_numpy() == traffic["fired"].to_numpy()).all()
    assert (back["label"].to_numpy() == traffic["label"].to_numpy()).all()


def test_bad_arguments_say_what_is_wrong(detector):
    with pytest.raises(ValueError, match="beyond"):
        production_replay(5, seed=0, lighting_change_at=5, detector=detector)
    with pytest.raises(TypeError, match="hours"):
        production_replay(2.5, seed=0, detector=detector)


def test_every_hour_holds_the_calls_the_monitor_samples(replay):
    """The monitor samples a fixed number of calls an hour (a window of 5 calls and one of 15 would
    need different alert thresholds); each call lies within its hour."""
    per_hour = replay.faces.groupby("hour")["call"].nunique()
    assert (per_hour == 6).all(), per_hour.to_dict()
    assert replay.faces.groupby("call")["hour"].nunique().max() == 1
    assert replay.faces["participant"].nunique() == 60, "new people every hour"


def test_light_and_noise_measure_the_two_changes(replay):
    faces = replay.faces
    before = faces[faces["hour"] < 4]
    lit = faces[(faces["lighting"] == "overhead") & (faces["camera"] == "old")]
    new_camera = faces[(faces["camera"] == "new") & (faces["lighting"] != "overhead")]
    spread = before.groupby("call")[["light", "noise"]].mean().std()
    assert lit["light"].mean() - before["light"].mean() > 2 * spread["light"]
    assert new_camera["noise"].mean() - before["noise"].mean() > 2 * spread["noise"]


def test_an_unscored_replay_has_the_same_inputs_and_no_nudges(detector, replay):
    bare = production_replay(10, seed=3, calls_per_hour=6, lighting_change_at=4, camera_change_at=7,
                             detector=detector, scored=False)
    columns = ["hour", "call", "brightness", "contrast", "light", "noise", "label", "lighting", "camera"]
    assert bare.faces[columns].equals(replay.faces[columns])
    assert bare.faces["score"].isna().all() and not bare.windows["fired"].any()


def test_the_same_hours_are_drawn_once_scored_or_not(detector, monkeypatch):
    """The pictures are most of a replay's cost: a scored and an unscored replay of the same hours
    (as 06's tests ask for) draw them once, and a replay's own pixels cannot change the kept ones."""
    import course.calls

    drawn = []
    real = course.calls.make_frames
    monkeypatch.setattr(course.calls, "make_frames", lambda *a, **k: drawn.append(1) or real(*a, **k))
    first = production_replay(3, seed=4242, calls_per_hour=4, lighting_change_at=1, detector=detector)
    assert len(drawn) == 3, "one make_frames per hour the first time"
    bare = production_replay(3, seed=4242, calls_per_hour=4, lighting_change_at=1, detector=detector, scored=False)
    assert len(drawn) == 3, "the unscored replay of the same hours drew its pictures again"
    assert np.array_equal(bare.images, first.images)
    first.images[:] = 0.0   # another detector's replay owns its pixels
    again = production_replay(3, seed=4242, calls_per_hour=4, lighting_change_at=1, detector=detector)
    assert np.array_equal(again.images, bare.images) and again.images.any()
    shipped = production_replay(3, seed=4242, calls_per_hour=4, lighting_change_at=1, scored=False)
    assert len(drawn) == 3 and not shipped.images.flags.writeable
