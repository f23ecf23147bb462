"""Print a digest of what every public generator of ``course`` draws, for two seeds.

Run it before and after a change to the generators (their arguments, their validation, the
naming of their random streams) and compare the two outputs: equal lines mean the same numbers,
so every notebook still sees the data it was written against. Seeds are passed by keyword, which
works whatever the generators' signatures are.

    python benchmarks/hash_generators.py > before.txt
    ... change course/ ...
    python benchmarks/hash_generators.py > after.txt
    diff before.txt after.txt
"""
from __future__ import annotations

import dataclasses
import hashlib
import sys

import numpy as np
import pandas as pd

SEEDS = (0, 7)


def _feed(h, value) -> None:
    """Feed ``value`` (tables, arrays, dataclasses, containers, models...) to the hash ``h``."""
    import torch

    if isinstance(value, pd.DataFrame):
        h.update(repr(list(value.columns)).encode())
        h.update(repr(list(value.dtypes.astype(str))).encode())
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pd.Series):
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        h.update(repr((value.dtype.str, value.shape)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, torch.Tensor):
        _feed(h, value.detach().cpu().numpy())
    elif isinstance(value, torch.nn.Module):
        for name, tensor in value.state_dict().items():
            h.update(name.encode())
            _feed(h, tensor)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            h.update(field.name.encode())
            _feed(h, getattr(value, field.name))
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key])
    elif isinstance(value, (list, tuple)):   # a named tuple hashes as the tuple it unpacks to
        h.update(f"sequence[{len(value)}]".encode())
        for item in value:
            _feed(h, item)
    elif isinstance(value, (str, bytes, int, float, bool, type(None), np.generic)):
        h.update(repr(value).encode())
    elif hasattr(value, "__dict__"):
        h.update(type(value).__name__.encode())
        _feed(h, {k: v for k, v in vars(value).items() if not callable(v)})
    else:
        raise TypeError(f"cannot hash a {type(value).__name__}")


def digest(value) -> str:
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()[:16]


def cases(seed: int):
    """``(name, thunk)`` for every public generator of ``course``, at small sizes."""
    from course import behaviour, calls, crowd, eventlog, frowns, interview, models, production
    from course import serving, shipping, stream, textset

    def sleepy():
        model = serving.SleepyModel(base_ms=0.0, jitter_ms=1.0, seed=seed, clock=serving.FakeClock())
        for n in (1, 2, 3):
            model(np.zeros(n))
        return model.history_ms

    def small_stream():
        return stream.make_stream(seed=seed, n_windows=6, window_size=20, lighting_shift_at=2,
                                  camera_change_at=4, n_train=200, n_reference=100)

    def stream_state(s):
        return {"log": s.log, "final": s.final_labels(), "images": s.images(5),
                "known": s.labels_known(5), "features": s.features(5)}

    def trained_cnn():
        faces = frowns.make_faces(64, seed=3)
        return models.train_frown_cnn(models.frown_cnn(4, 8, seed=seed), faces.images, faces.labels,
                                      seed=seed, epochs=1, batch_size=16)

    def replay():
        r = production.production_replay(2, seed=seed, calls_per_hour=2, scored=False)
        return r, production.replay_traffic(r, 3, seed=seed)

    def interviews():
        return {name: interview.interview_for(name, seed=seed) for name in sorted(interview.SCENARIOS)}

    params = frowns.sample_face_params(30, seed=seed)
    return [
        ("calls.make_participants", lambda: calls.make_participants(6, seed=seed)),
        ("calls.make_frames", lambda: calls.make_frames(3, calls_per_participant=1, call_seconds=4,
                                                        seed=seed, lighting_change_at=1.0)),
        ("crowd.make_crowd", lambda: crowd.make_crowd(40, seed=seed)),
        ("crowd.make_crowd[shuffled]", lambda: crowd.make_crowd(40, seed=seed, shuffle=True)),
        ("eventlog.make_event_log", lambda: eventlog.make_event_log(n_users=100, n_events=1000, days=10,
                                                                    seed=seed)),
        ("frowns.sample_face_params", lambda: params),
        ("frowns.render_faces", lambda: frowns.render_faces(params, seed=seed)),
        ("frowns.make_faces", lambda: frowns.make_faces(30, seed=seed)),
        ("behaviour.train_frown_model", lambda: behaviour.train_frown_model(200, seed=seed).__dict__),
        ("interview.interview_for", interviews),
        ("models.frown_cnn", lambda: models.frown_cnn(4, 8, seed=seed)),
        ("models.train_frown_cnn", trained_cnn),
        ("production.production_replay+replay_traffic", replay),
        ("serving.SleepyModel", sleepy),
        ("serving.zipf_requests", lambda: serving.zipf_requests(200, 20, seed=seed)),
        ("serving.poisson_arrivals", lambda: serving.poisson_arrivals(10.0, 50, seed=seed)),
        ("shipping.camera_frames", lambda: shipping.camera_frames(
            calls.make_frames(2, calls_per_participant=1, call_seconds=4, seed=1, size=shipping.CAMERA_SIZE),
            broken_share=0.3, seed=seed)),
        ("shipping.filmed_calls", lambda: shipping.filmed_calls(2, seed=seed, calls_per_participant=1,
                                                                call_seconds=4, broken_share=0.2,
                                                                broken_seed=seed)),
        ("shipping.replay", lambda: shipping.replay(seed=seed, participants=2, broken_share=0.2)),
        ("stream.make_faces_table", lambda: stream.make_faces_table(40, seed=seed, overhead_fraction=0.3)),
        ("stream.make_stream", lambda: stream_state(small_stream())),
        ("stream.ProductionStream.counterfactual", lambda: stream_state(small_stream().counterfactual(3, seed=seed))),
        ("textset.make_support_messages", lambda: textset.make_support_messages(60, seed=seed)),
    ]


def main() -> int:
    from course.torchsetup import configure_torch

    configure_torch(max_threads=1)
    for seed in SEEDS:
        for name, thunk in cases(seed):
            print(f"seed={seed} {name:48s} {digest(thunk())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
