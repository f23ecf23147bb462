"""Every public generator of ``course`` takes ``seed`` by keyword only and checks it.

A seed passed by position, or a seed that is not an int >= 0, fails with a message that names
``seed``, before any data is drawn. The table below lists every generator; a test finds every
public callable of ``course`` with a ``seed`` parameter, so a new one cannot be left out.
"""
import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
import pytest

import course
from course import (behaviour, calls, checks, crowd, eventlog, frowns, interview, models, production, serving,
                    shipping, stream, textset)

_IMAGES = np.zeros((2, 32, 32), dtype=np.float32)


def _enter(context):
    with context:
        pass


#: name -> (call with the seed given by position, call with ``seed=value``)
GENERATORS = {
    "course.behaviour.train_frown_model": (lambda: behaviour.train_frown_model(10, 1),
                                           lambda s: behaviour.train_frown_model(10, seed=s)),
    "course.calls.make_participants": (lambda: calls.make_participants(3, 1),
                                       lambda s: calls.make_participants(3, seed=s)),
    "course.calls.make_frames": (lambda: calls.make_frames(3, 1, 4, 1),
                                 lambda s: calls.make_frames(3, 1, 4, seed=s)),
    "course.checks.labels_shuffled": (lambda: _enter(checks.labels_shuffled({}, 1)),
                                      lambda s: _enter(checks.labels_shuffled({}, seed=s))),
    "course.crowd.make_crowd": (lambda: crowd.make_crowd(10, 1), lambda s: crowd.make_crowd(10, seed=s)),
    "course.eventlog.make_event_log": (lambda: eventlog.make_event_log(10, 10, 1, 1),
                                       lambda s: eventlog.make_event_log(10, 10, 1, seed=s)),
    "course.frowns.sample_face_params": (lambda: frowns.sample_face_params(3, 1),
                                         lambda s: frowns.sample_face_params(3, seed=s)),
    "course.frowns.render_faces": (lambda: frowns.render_faces(pd.DataFrame(), 1),
                                   lambda s: frowns.render_faces(pd.DataFrame(), seed=s)),
    "course.frowns.make_faces": (lambda: frowns.make_faces(3, 1), lambda s: frowns.make_faces(3, seed=s)),
    "course.interview.Interview": (lambda: interview.Interview("ticket_router", 1),
                                   lambda s: interview.Interview("ticket_router", seed=s)),
    "course.interview.interview_for": (lambda: interview.interview_for("ticket_router", 1),
                                       lambda s: interview.interview_for("ticket_router", seed=s)),
    "course.models.frown_cnn": (lambda: models.frown_cnn(4, 8, 1), lambda s: models.frown_cnn(4, 8, seed=s)),
    "course.models.train_frown_cnn": (lambda: models.train_frown_cnn(None, _IMAGES, [0, 1], 1),
                                      lambda s: models.train_frown_cnn(None, _IMAGES, [0, 1], seed=s)),
    "course.production.production_replay": (lambda: production.production_replay(2, 1),
                                            lambda s: production.production_replay(2, seed=s)),
    "course.production.replay_traffic": (lambda: production.replay_traffic(None, 2, 1),
                                         lambda s: production.replay_traffic(None, 2, seed=s)),
    "course.serving.SleepyModel": (lambda: serving.SleepyModel(1.0, 0.0, 0, 0.0, 0.0, 1),
                                   lambda s: serving.SleepyModel(seed=s)),
    "course.serving.zipf_requests": (lambda: serving.zipf_requests(5, 3, 1.1, 1),
                                     lambda s: serving.zipf_requests(5, 3, seed=s)),
    "course.serving.poisson_arrivals": (lambda: serving.poisson_arrivals(1.0, 3, 1),
                                        lambda s: serving.poisson_arrivals(1.0, 3, seed=s)),
    "course.shipping.camera_frames": (lambda: shipping.camera_frames(_IMAGES, 0.1, 1),
                                      lambda s: shipping.camera_frames(_IMAGES, seed=s)),
    "course.shipping.filmed_calls": (lambda: shipping.filmed_calls(2, 1), lambda s: shipping.filmed_calls(2, seed=s)),
    "course.shipping.replay": (lambda: shipping.replay(1), lambda s: shipping.replay(seed=s)),
    "course.stream.make_faces_table": (lambda: stream.make_faces_table(3, 1),
                                       lambda s: stream.make_faces_table(3, seed=s)),
    "course.stream.make_stream": (lambda: stream.make_stream(1), lambda s: stream.make_stream(seed=s)),
    "course.stream.ProductionStream.counterfactual": (
        lambda: stream.ProductionStream.counterfactual(object(), 0, 1),
        lambda s: stream.ProductionStream.counterfactual(object(), 0, seed=s)),
    "course.textset.make_support_messages": (lambda: textset.make_support_messages(3, 1),
                                             lambda s: textset.make_support_messages(3, seed=s)),
}

#: Functions that take a seed by position on purpose: they derive a stream from a seed given to them.
SEED_PRIMITIVES = {"course.seeding.generator", "course.seeding.child_seed", "course.validation.check_seed"}


def _public_callables_with_a_seed():
    found = {}
    for info in pkgutil.iter_modules(course.__path__):
        module = importlib.import_module(f"course.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            members = [(name, value)]
            if inspect.isclass(value):
                members += [(f"{name}.{attr}", member) for attr, member in vars(value).items()
                            if inspect.isfunction(member) and not attr.startswith("_")]
            for qualified, member in members:
                try:
                    parameters = inspect.signature(member).parameters if callable(member) else {}
                except (TypeError, ValueError):   # a built-in without a signature (an exception class...)
                    parameters = {}
                if "seed" in parameters:
                    found[f"{module.__name__}.{qualified}"] = member
    return found


def test_every_public_generator_is_in_the_table_and_takes_seed_by_keyword_only():
    found = _public_callables_with_a_seed()
    assert set(found) - SEED_PRIMITIVES == set(GENERATORS)
    for name in GENERATORS:
        seed = inspect.signature(found[name]).parameters["seed"]
        assert seed.kind is inspect.Parameter.KEYWORD_ONLY, name


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_positional_seed_is_refused_with_a_message_naming_seed(name):
    positional, _ = GENERATORS[name]
    with pytest.raises(TypeError, match=r"takes seed as a keyword, e\.g\. .*seed=0\): got \d+ positional"):
        positional()


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)])
def test_a_bad_seed_is_refused_with_a_message_naming_seed(name, bad, error):
    _, keyword = GENERATORS[name]
    with pytest.raises(error, match=r"^The 'seed' parameter must be an int in the range \[0, inf\)\. Got "):
        keyword(bad)
