"""A synthetic event log: users visiting a product, some of the visits end in a conversion.

Not every ML system looks at pictures. This table is the "tabular" data set of the course: one
row per event (a visit), with a ``target`` saying whether the visit converted. It is built to
show a classic mistake: the same users come back many times and each user has a hidden habit of
converting or not. If you split the events at random, the same users sit in the training set and
in the test set, a flexible model learns to recognise them (from age, region, tenure, ...) and
the test score looks better than it will be on new users. Split by user (for example with
``sklearn.model_selection.GroupShuffleSplit(groups=df.user_id)``) or by time to get an honest
estimate.

    from course.eventlog import make_event_log, add_history_features
    df = make_event_log(seed=0)
    df = add_history_features(df)   # per-user features from PAST events only

Everything is deterministic from ``seed``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.seeding import generator
from course.validation import check_count, check_seed, seed_by_keyword

__all__ = ["EVENT_COLUMNS", "HISTORY_COLUMNS", "make_event_log", "add_history_features"]

#: Columns of :func:`make_event_log`, in order.
EVENT_COLUMNS = [
    "event_id",
    "user_id",
    "timestamp",
    "device",
    "hour",
    "is_weekend",
    "session_minutes",
    "pages_viewed",
    "days_since_last",
    "user_tenure_days",
    "user_region",
    "user_age",
    "target",
]

#: Columns added by :func:`add_history_features`.
HISTORY_COLUMNS = ["user_prev_events", "user_prev_conversions", "user_prev_rate"]

DEVICES = ("mobile", "desktop", "tablet")
REGIONS = ("north", "south", "east", "west", "central")

_DEVICE_PROBS = np.array([0.55, 0.35, 0.10])
_REGION_PROBS = np.array([0.25, 0.20, 0.20, 0.20, 0.15])
_DEVICE_EFFECT = np.array([-0.5, 0.4, 0.0])      # log-odds of converting by device
_DEVICE_MINUTES = np.array([0.0, 0.45, 0.20])      # log-minutes shift by device
# share of visits by hour of the day: quiet at night, busy in the evening
_HOUR_WEIGHTS = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.2, 2.6, 2.8, 3.0,
                          3.2, 3.0, 2.8, 2.8, 3.0, 3.4, 4.0, 4.6, 4.8, 4.2, 3.0, 1.8])
_USER_SPREAD = 2.0   # sd of the hidden per-user log-odds: how much users differ
_INTERCEPT = -4.6    # sets the overall positive rate to about 8%


@seed_by_keyword
def make_event_log(n_users: int = 2000, n_events: int = 40_000, days: int = 60, *, seed: int = 0,
                   start: str = "2026-01-01") -> pd.DataFrame:
    """Generate an event log, one row per visit, sorted by time.

    Parameters
    ----------
    n_users : int
        Number of users. Some are much more active than others.
    n_events : int
        Number of events (rows).
    days : int
        Length of the log in days, starting at ``start``.
    seed : int, keyword-only
        Random seed (>= 0).
    start : str or datetime-like
        First day of the log.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EVENT_COLUMNS`:

        * ``event_id`` (0..n_events-1 in time order), ``user_id``, ``timestamp``;
        * visit features: ``device`` ("mobile", "desktop", "tablet"), ``hour`` (0-23),
          ``is_weekend``, ``session_minutes`` (right-skewed), ``pages_viewed``,
          ``days_since_last`` (days since the same user's previous event; NaN on a user's first
          event in the log);
        * user features that never change for a user: ``user_region``, ``user_age``, and
          ``user_tenure_days`` (days since sign-up at the time of the event, so it grows with
          time but the sign-up date is fixed);
        * ``target``: 1 if the visit converted (about 5-10% of events).

    Notes
    -----
    How ``target`` is made: log-odds = a hidden per-user propensity (drawn once per user, never
    shown) + effects of session length, pages viewed, device and hour + a mild upward trend
    over the period. The hidden propensity is why splitting events at random leaks: a model can
    recognise a user it has seen in training.
    """
    n_users = check_count("n_users", n_users, 1)
    n_events = check_count("n_events", n_events, 0)
    days = check_count("days", days, 1)
    seed = check_seed(seed)
    try:
        start_ts = pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as err:
        raise ValueError(f"start must be a date such as '2026-01-01', got {start!r}") from err
    rng = generator(seed, "event-log")

    # --- users: stable attributes, a hidden propensity and an activity level
    user_region = rng.choice(len(REGIONS), size=n_users, p=_REGION_PROBS)
    user_age = np.clip(np.round(18 + rng.gamma(3.0, 7.0, n_users)), 18, 80).astype(np.int64)
    tenure_at_start = rng.exponential(300.0, n_users)
    main_device = rng.choice(len(DEVICES), size=n_users, p=_DEVICE_PROBS)
    propensity = _USER_SPREAD * rng.standard_normal(n_users)
    # older accounts convert a bit more: a visible, honest user-level signal
    propensity += 0.25 * np.log1p(tenure_at_start / 100.0)
    user_minutes = 0.35 * rng.standard_normal(n_users)  # some users linger longer
    activity = rng.lognormal(0.0, 0.8, n_users)

    # --- events: who, when
    user_id = rng.choice(n_users, size=n_events, p=activity / activity.sum())
    day = rng.integers(0, days, n_events)
    weekday = (start_ts.day_of_week + day) % 7
    is_weekend = weekday >= 5
    # fewer visits at weekends: thin them by redrawing the day once
    redraw = is_weekend & (rng.random(n_events) < 0.3)
    day = np.where(redraw, rng.integers(0, days, n_events), day)
    weekday = (start_ts.day_of_week + day) % 7
    is_weekend = weekday >= 5
    hour = rng.choice(24, size=n_events, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    seconds = rng.integers(0, 3600, n_events)
    offset_s = day.astype(np.int64) * 86_400 + hour * 3600 + seconds

    # --- visit features
    device = np.where(rng.random(n_events) < 0.8, main_device[user_id],
                      rng.choice(len(DEVICES), size=n_events, p=_DEVICE_PROBS))
    log_minutes = (1.3 + _DEVICE_MINUTES[device] + user_minutes[user_id]
                   + 0.75 * rng.standard_normal(n_events))
    session_minutes = np.round(np.exp(log_minutes), 2)
    pages_viewed = 1 + rng.poisson(0.6 * session_minutes ** 0.8)

    # --- target
    elapsed = offset_s / 86_400.0 / days  # 0 .. 1 over the log
    evening = ((hour >= 18) & (hour <= 22)).astype(float)
    logit = (_INTERCEPT + propensity[user_id]
             + 0.9 * (np.log(session_minutes + 0.5) - 1.3)
             + 0.12 * (pages_viewed - 3)
             + _DEVICE_EFFECT[device]
             + 0.5 * evening - 0.3 * is_weekend
             + 0.5 * (elapsed - 0.5))
    target = (rng.random(n_events) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    # --- assemble, sort by time, derive per-user time gaps
    order = np.lexsort((user_id, offset_s))
    offset_s, user_id = offset_s[order], user_id[order]
    timestamp = start_ts + pd.to_timedelta(offset_s, unit="s")
    df = pd.DataFrame(
        {
            "event_id": np.arange(n_events, dtype=np.int64),
            "user_id": user_id.astype(np.int64),
            "timestamp": timestamp.astype("datetime64[ns]"),
            "device": np.asarray(DEVICES, dtype=object)[device[order]],
            "hour": hour[order].astype(np.int64),
            "is_weekend": is_weekend[order].astype(bool),
            "session_minutes": session_minutes[order],
            "pages_viewed": pages_viewed[order].astype(np.int64),
            "days_since_last": np.nan,
            "user_tenure_days": np.round(tenure_at_start[user_id], 2),
            "user_region": np.asarray(REGIONS, dtype=object)[user_region[user_id]],
            "user_age": user_age[user_id],
            "target": target[order],
        },
        columns=EVENT_COLUMNS,
    )
    gap_s = pd.Series(offset_s, dtype="float64").groupby(user_id).diff()
    df["days_since_last"] = (gap_s / 86_400.0).to_numpy()
    return df


def add_history_features(df: pd.DataFrame, prior_strength: float = 5.0) -> pd.DataFrame:
    """Add per-user features computed from each user's PAST events only.

    The events are put in time order (ties broken by ``event_id``). For each event:

    * ``user_prev_events``: how many earlier events the same user had;
    * ``user_prev_conversions``: how many of those converted;
    * ``user_prev_rate``: the user's past conversion rate, pulled towards a prior:
      ``(prev_conversions + prior_strength * prior) / (prev_events + prior_strength)``, where
      ``prior`` is the conversion rate of ALL events before this one (or 0.5 at the very start).
      A user with no history gets the prior.

    The current event's own target and every later target are never used, so these features
    are safe to use for prediction.

    Parameters
    ----------
    df : pandas.DataFrame
        An event log with ``user_id``, ``timestamp``, ``event_id`` and ``target`` (such as
        :func:`make_event_log` returns).
    prior_strength : float, default 5.0
        How many events' worth of weight the prior has (>= 0).

    Returns
    -------
    pandas.DataFrame
        A new table (the input is not changed) with the columns of :data:`HISTORY_COLUMNS` added,
        sorted by time, keeping the input index.
    """
    needed = {"user_id", "timestamp", "event_id", "target"}
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ValueError(f"df is missing column(s) {missing}; build it with make_event_log")
    if prior_strength <= 0:
        raise ValueError(f"prior_strength must be > 0, got {prior_strength}")

    out = df.sort_values(["timestamp", "event_id"], kind="stable").copy()
    target = out["target"].to_numpy(dtype=float)
    users = out["user_id"]
    prev_events = users.groupby(users).cumcount().to_numpy()
    prev_conv = (pd.Series(target, index=out.index).groupby(users.to_numpy()).cumsum()
                 .to_numpy() - target)
    # conversion rate of all earlier events (strictly before this row in time order)
    seen = np.arange(len(out), dtype=float)
    conv_before = np.cumsum(target) - target
    prior = np.where(seen > 0, conv_before / np.maximum(seen, 1.0), 0.5)
    out["user_prev_events"] = prev_events.astype(np.int64)
    out["user_prev_conversions"] = np.round(prev_conv).astype(np.int64)
    out["user_prev_rate"] = (prev_conv + prior_strength * prior) / (prev_events + prior_strength)
    return out
