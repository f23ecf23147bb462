"""Time the data generators of the `course` package.

Run with ``python benchmarks/bench_generators.py``. Timings are printed, never asserted: shared
machines are too noisy for that. Target on a 2-core CPU: make_faces(10_000) in about a second,
make_event_log() well under a second.
"""
import time

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
    cases = [
        ("make_faces(10_000), 32x32", lambda: make_faces(10_000)),
        ("make_faces(10_000, size=64)", lambda: make_faces(10_000, size=64)),
        ("make_event_log() defaults", lambda: make_event_log()),
        ("add_history_features(make_event_log())",
         lambda: add_history_features(make_event_log())),
    ]
    for name, fn in cases:
        print(f"{name:<42s} {best_of(fn):7.3f} s")


if __name__ == "__main__":
    main()
