"""Time the data generators of the `course` package.

Run with ``python benchmarks/bench_generators.py``. Timings are printed, never asserted: shared
machines are too noisy for that. Target on a 2-core CPU: make_faces(10_000) in about a second,
make_event_log() well under a second, video frames (course.calls) at about 10,000 rendered frames
a second, so that a notebook's frames (a few tens of thousands) cost a few seconds of its 30.
"""
import time

from course.calls import make_frames
from course.eventlog import add_history_features, make_event_log
from course.frowns import make_faces


def best_of(fn, repeats=3):
    """Best wall-clock time in seconds over a few runs (the least disturbed one)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    make_faces(10)  # warm up imports and caches
    make_frames(2, 1, 2, seed=0)
    hour = 3600
    cases = [
        ("make_faces(10_000), 32x32", 10_000, lambda: make_faces(10_000)),
        ("make_faces(10_000, size=64)", 10_000, lambda: make_faces(10_000, size=64)),
        ("make_event_log() defaults", None, lambda: make_event_log()),
        ("add_history_features(make_event_log())", None,
         lambda: add_history_features(make_event_log())),
        ("make_frames(20, 2, 30 s): training calls", 18_000,
         lambda: make_frames(20, 2, 30, seed=0, frown_prevalence=0.25)),
        ("make_frames(150, 1, 10 s): validation calls", 22_500,
         lambda: make_frames(150, 1, 10, seed=1, frown_prevalence=0.25)),
        ("make_frames(40, 3, 20 s): a production day", 36_000,
         lambda: make_frames(40, 3, 20, seed=2, lighting_change_at=3 * hour, camera_change_at=6 * hour)),
        ("make_frames(120, 1, 600 s, render=False)", 1_080_000,
         lambda: make_frames(120, 1, 600, seed=3, render=False)),
    ]
    for name, count, fn in cases:
        seconds = best_of(fn)
        rate = f"{count / seconds:10,.0f} items/s" if count else ""
        print(f"{name:<46s} {seconds:7.3f} s {rate}")


if __name__ == "__main__":
    main()
