"""Tests of the synthetic event log (course/eventlog.py)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from course.eventlog import (
    DEVICES,
    EVENT_COLUMNS,
    HISTORY_COLUMNS,
    REGIONS,
    add_history_features,
    make_event_log,
)


@pytest.fixture(scope="module")
def log():
    return make_event_log(seed=0)


def test_columns_dtypes_and_size(log):
    assert list(log.columns) == EVENT_COLUMNS
    assert len(log) == 40_000
    assert log["timestamp"].dtype == np.dtype("datetime64[ns]")
    for col in ["event_id", "user_id", "hour", "pages_viewed", "user_age", "target"]:
        assert pd.api.types.is_integer_dtype(log[col]), col
    for col in ["session_minutes", "days_since_last", "user_tenure_days"]:
        assert pd.api.types.is_float_dtype(log[col]), col
    assert log["is_weekend"].dtype == bool
    assert set(log["device"]) == set(DEVICES)
    assert set(log["user_region"]) <= set(REGIONS)
    assert list(log["event_id"]) == list(range(len(log)))
    assert log["user_id"].between(0, 1999).all()


def test_values_are_consistent(log):
    ts = log["timestamp"]
    assert ts.is_monotonic_increasing
    assert ts.min() >= pd.Timestamp("2026-01-01") and ts.max() < pd.Timestamp("2026-03-02")
    np.testing.assert_array_equal(log["hour"], ts.dt.hour)
    np.testing.assert_array_equal(log["is_weekend"], ts.dt.day_of_week >= 5)
    assert (log["session_minutes"] > 0).all()
    assert log["session_minutes"].mean() > log["session_minutes"].median()  # right-skewed
    assert (log["pages_viewed"] >= 1).all()
    assert log["user_age"].between(18, 80).all()
    assert (log["user_tenure_days"] >= 0).all()


def test_user_attributes_are_constant(log):
    per_user = log.groupby("user_id")[["user_region", "user_age", "user_tenure_days"]].nunique()
    assert (per_user == 1).all().all()


def test_days_since_last_is_nan_only_on_first_events(log):
    first = ~log.duplicated("user_id", keep="first")
    assert log.loc[first, "days_since_last"].isna().all()
    rest = log.loc[~first, "days_since_last"]
    assert rest.notna().all() and (rest >= 0).all()
    # it really is the gap to the same user's previous event
    expected = log.groupby("user_id")["timestamp"].diff().dt.total_seconds() / 86_400
    np.testing.assert_allclose(log["days_since_last"], expected, equal_nan=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_positive_rate_is_imbalanced(seed):
    rate = make_event_log(seed=seed)["target"].mean()
    assert 0.05 <= rate <= 0.10


def test_determinism():
    a, b = make_event_log(n_users=300, n_events=3000, seed=4), make_event_log(n_users=300,
                                                                              n_events=3000,
                                                                              seed=4)
    pd.testing.assert_frame_equal(a, b)
    c = make_event_log(n_users=300, n_events=3000, seed=5)
    assert not a["user_id"].equals(c["user_id"])
    assert not a["session_minutes"].equals(c["session_minutes"])


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="n_users"):
        make_event_log(n_users=0)
    with pytest.raises(TypeError, match="n_events"):
        make_event_log(n_events=10.0)
    with pytest.raises(ValueError, match="start"):
        make_event_log(start="not a date")
    small = make_event_log(n_users=10, n_events=50, days=3, start="2026-05-01")
    assert small["timestamp"].min() >= pd.Timestamp("2026-05-01")
    assert small["timestamp"].max() < pd.Timestamp("2026-05-04")


def test_target_depends_on_visible_features(log):
    by_device = log.groupby("device")["target"].mean()
    assert by_device["desktop"] > by_device["mobile"]
    long = log["session_minutes"] > log["session_minutes"].median()
    assert log.loc[long, "target"].mean() > log.loc[~long, "target"].mean()


# --- history features -------------------------------------------------------------------------
def test_history_features_match_a_slow_reference():
    df = make_event_log(n_users=50, n_events=800, seed=3)
    hist = add_history_features(df)
    assert list(hist.columns) == EVENT_COLUMNS + HISTORY_COLUMNS
    assert list(df.columns) == EVENT_COLUMNS  # input unchanged
    for user, rows in hist.groupby("user_id"):
        past = rows["target"].shift(fill_value=0).cumsum().to_numpy()
        np.testing.assert_array_equal(rows["user_prev_events"], np.arange(len(rows)))
        np.testing.assert_array_equal(rows["user_prev_conversions"], past)
    assert hist["user_prev_rate"].between(0, 1).all()
    first = hist["user_prev_events"] == 0
    # with no history, the rate is the prior (the global rate of earlier events)
    assert hist.loc[first, "user_prev_rate"].iloc[0] == 0.5


def test_history_features_ignore_current_and_future_targets(log):
    busy_user = log["user_id"].value_counts().index[0]
    rows = np.flatnonzero(log["user_id"].to_numpy() == busy_user)
    cut = len(rows) // 2
    before = add_history_features(log)

    changed = log.copy()
    future = rows[cut:]
    rng = np.random.default_rng(0)
    changed.loc[future, "target"] = rng.permutation(changed.loc[future, "target"].to_numpy())
    changed.loc[future, "target"] = 1 - changed.loc[future, "target"]  # make sure it changes
    after = add_history_features(changed)

    # every event up to and including the first changed one sees exactly the same history
    keep = rows[: cut + 1]
    pd.testing.assert_frame_equal(before.loc[keep, HISTORY_COLUMNS],
                                  after.loc[keep, HISTORY_COLUMNS])
    # ... and the features of later events did change, so the check above is not vacuous
    assert not before.loc[rows[cut + 1:], "user_prev_conversions"].equals(
        after.loc[rows[cut + 1:], "user_prev_conversions"])


def test_history_features_sort_by_time_and_keep_the_index(log):
    shuffled = log.sample(frac=1.0, random_state=0)
    a, b = add_history_features(log), add_history_features(shuffled)
    pd.testing.assert_frame_equal(a, b)
    assert a["timestamp"].is_monotonic_increasing


# --- the leak: a random split of events overestimates the score on new users ------------------
def _features(df):
    numeric = df[["hour", "is_weekend", "session_minutes", "pages_viewed", "days_since_last",
                  "user_tenure_days", "user_age"]].astype(float).fillna(-1.0)
    onehot = pd.get_dummies(df[["device", "user_region"]], dtype=float)
    return pd.concat([numeric, onehot], axis=1).to_numpy()


def _split_aucs(seed):
    df = make_event_log(seed=seed)
    X, y, groups = _features(df), df["target"].to_numpy(), df["user_id"].to_numpy()
    idx = np.arange(len(y))
    random_split = train_test_split(idx, test_size=0.3, random_state=0)
    group_split = next(GroupShuffleSplit(1, test_size=0.3, random_state=0).split(X, y, groups))
    aucs = {}
    for name, (train, test) in [("random", random_split), ("group", group_split)]:
        model = HistGradientBoostingClassifier(max_iter=150, random_state=0)
        model.fit(X[train], y[train])
        aucs[name] = roc_auc_score(y[test], model.predict_proba(X[test])[:, 1])
    return aucs


@pytest.mark.parametrize("seed", [0, 1])
def test_random_split_of_events_inflates_auc(seed):
    aucs = _split_aucs(seed)
    assert aucs["group"] > 0.6, aucs                      # the features are honestly useful
    assert aucs["random"] - aucs["group"] >= 0.03, aucs   # ... but memorising users looks better
