"""Stand-ins for a model server: fake models of known latency and streams of requests.

Timing code is hard to test on a real machine: other programs share the CPU, so the same model
takes 2 ms now and 9 ms a second later. The tools here let you (and the grader) check a latency
harness against a model whose latency is *known*:

* :class:`FakeClock` is a clock that only moves when someone sleeps on it. Time a
  :class:`SleepyModel` that sleeps on a ``FakeClock`` and you measure exactly what it slept,
  whatever else the machine is doing.
* :class:`SleepyModel` is a "model" that sleeps instead of computing: a fixed time per call, a
  time per item of the batch, a few slow first calls (a cold start: lazy initialisation, empty
  caches) and a seeded random tail. It remembers how long each call slept.
* :func:`zipf_requests` draws a stream of request ids where a few items are very popular (a
  Zipf law), the usual shape of real traffic and the reason caches work.
* :func:`poisson_arrivals` draws the arrival times of independent requests at a given rate.

Typical use::

    from course.serving import FakeClock, SleepyModel
    clock = FakeClock()
    model = SleepyModel(base_ms=3.0, warmup_calls=2, warmup_ms=40.0, clock=clock)
    start = clock(); model(batch); elapsed = clock() - start   # exactly 0.043 s: a cold call
    model.history_ms                                           # [43.0]

Everything is deterministic from its seed.
"""
from __future__ import annotations

import math
import time

import numpy as np

from course.seeding import generator
from course.validation import check_count, check_real, check_seed, seed_by_keyword

__all__ = ["FakeClock", "SleepyModel", "zipf_requests", "poisson_arrivals"]


class FakeClock:
    """A clock (in seconds) that stands still until someone calls :meth:`sleep`.

    Use it wherever code expects ``time.perf_counter``: ``clock()`` returns the current time.

    Parameters
    ----------
    start : float, default 0.0
        The time it shows at first.
    """

    def __init__(self, start: float = 0.0):
        self.now = check_real("start", start, low=-math.inf)

    def __call__(self) -> float:
        """The current time.

        Returns
        -------
        float
            Seconds.
        """
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward.

        Parameters
        ----------
        seconds : float
            How far (>= 0).
        """
        self.now += check_real("seconds", seconds, 0.0)

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now!r})"


class SleepyModel:
    """A fake model whose latency is known: it sleeps, then returns zeros.

    Calling ``model(batch)`` with a batch of ``n`` items (``len(batch) == n``) sleeps

        base_ms + per_item_ms * n  (+ warmup_ms for each of the first ``warmup_calls`` calls)
                                   (+ a random tail, exponential with mean ``jitter_ms``)

    milliseconds and returns a float32 array of zeros with shape ``(n, n_outputs)``.

    Parameters
    ----------
    base_ms, per_item_ms : float
        Fixed cost of one call and extra cost per item of the batch.
    warmup_calls, warmup_ms : int, float
        The first ``warmup_calls`` calls are slower by ``warmup_ms`` (a cold start).
    jitter_ms : float
        Mean of the random tail added to every call (0 = no tail). Seeded by ``seed``.
    seed : int, keyword-only
        Random seed of the tail (>= 0).
    clock : FakeClock or None
        ``None`` sleeps for real (``time.sleep``); a :class:`FakeClock` is moved forward instead,
        so timing it is exact and instant.

    Attributes
    ----------
    calls : int
        How many times the model was called.
    history_ms : list of float
        What each call slept, in milliseconds, in call order.
    """

    @seed_by_keyword
    def __init__(self, base_ms: float = 2.0, per_item_ms: float = 0.0, warmup_calls: int = 0,
                 warmup_ms: float = 0.0, jitter_ms: float = 0.0, *, seed: int = 0,
                 clock: FakeClock | None = None, n_outputs: int = 2):
        self.base_ms = check_real("base_ms", base_ms, 0.0)
        self.per_item_ms = check_real("per_item_ms", per_item_ms, 0.0)
        self.warmup_calls = check_count("warmup_calls", warmup_calls)
        self.warmup_ms = check_real("warmup_ms", warmup_ms, 0.0)
        self.jitter_ms = check_real("jitter_ms", jitter_ms, 0.0)
        self.n_outputs = check_count("n_outputs", n_outputs, 1)
        if clock is not None and not isinstance(clock, FakeClock):
            raise TypeError(f"clock must be a FakeClock or None (real sleep), got {type(clock).__name__}")
        self.clock = clock
        self._rng = generator(check_seed(seed), "sleepy-jitter")
        self.calls = 0
        self.history_ms: list[float] = []

    def expected_ms(self, batch_size: int) -> float:
        """Latency of a warm call without the random tail.

        Parameters
        ----------
        batch_size : int
            Items in the batch (>= 0).

        Returns
        -------
        float
            Milliseconds.
        """
        return self.base_ms + self.per_item_ms * check_count("batch_size", batch_size)

    def __call__(self, batch) -> np.ndarray:
        """Sleep as long as a call on ``batch`` takes (see the class), then return zeros.

        Parameters
        ----------
        batch : sized
            Anything with a length.

        Returns
        -------
        numpy.ndarray
            float32 zeros, shape ``(len(batch), n_outputs)``.
        """
        try:
            n = len(batch)
        except TypeError:
            raise TypeError(f"call the model with a batch (something with a length), "
                            f"got {type(batch).__name__}") from None
        ms = self.expected_ms(n)
        if self.calls < self.warmup_calls:
            ms += self.warmup_ms
        if self.jitter_ms > 0:
            ms += float(self._rng.exponential(self.jitter_ms))
        self.calls += 1
        self.history_ms.append(ms)
        if self.clock is None:
            time.sleep(ms / 1000.0)
        else:
            self.clock.sleep(ms / 1000.0)
        return np.zeros((n, self.n_outputs), dtype=np.float32)

    def __repr__(self) -> str:
        kind = "real sleep" if self.clock is None else "fake clock"
        return (f"SleepyModel(base_ms={self.base_ms:g}, per_item_ms={self.per_item_ms:g}, "
                f"warmup_calls={self.warmup_calls}, warmup_ms={self.warmup_ms:g}, "
                f"jitter_ms={self.jitter_ms:g}, {kind}, calls={self.calls})")


@seed_by_keyword
def zipf_requests(n_requests: int, n_items: int, exponent: float = 1.1, *, seed: int = 0) -> np.ndarray:
    """Ids (0 .. n_items-1) of ``n_requests`` requests whose popularity follows a Zipf law.

    The item of popularity rank ``k`` (1 = most popular) is requested with probability
    proportional to ``1 / k**exponent``. Which id gets which rank is shuffled by ``seed``, so the
    popular items are not simply the small ids.

    Parameters
    ----------
    n_requests : int
        How many requests (>= 0).
    n_items : int
        How many distinct items (>= 1).
    exponent : float, default 1.1
        The Zipf exponent (>= 0; 0 is uniform).
    seed : int, keyword-only
        Random seed (>= 0).

    Returns
    -------
    numpy.ndarray
        int64, shape ``(n_requests,)``: the requested ids in arrival order.
    """
    n_requests = check_count("n_requests", n_requests)
    n_items = check_count("n_items", n_items, low=1)
    exponent = check_real("exponent", exponent, 0.0)
    rng = generator(check_seed(seed), "zipf-ranks")
    weights = 1.0 / np.arange(1, n_items + 1, dtype=float) ** exponent
    ranks = rng.choice(n_items, size=n_requests, p=weights / weights.sum())
    ids = rng.permutation(n_items)
    return ids[ranks].astype(np.int64)


@seed_by_keyword
def poisson_arrivals(rate_per_s: float, n: int, *, seed: int = 0) -> np.ndarray:
    """Arrival times (seconds, increasing) of ``n`` independent requests at ``rate_per_s`` per second.

    The gaps between arrivals are exponential with mean ``1 / rate_per_s``; the first request
    arrives after one such gap.

    Parameters
    ----------
    rate_per_s : float
        Mean requests per second (> 0).
    n : int
        How many requests (>= 0).
    seed : int, keyword-only
        Random seed (>= 0).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n,)``, increasing.
    """
    rate = check_real("rate_per_s", rate_per_s, 0.0, low_open=True)
    n = check_count("n", n)
    rng = generator(check_seed(seed), "poisson-arrivals")
    return np.cumsum(rng.exponential(1.0 / rate, size=n))
