"""Context managers the notebooks' tests use to check *how* an answer works, not only what it returns.

A test can ask whether an answer still gives the same result when something it should not need is
taken away:

* :func:`labels_shuffled`: every label the course's generators and the notebook's face and frame
  sets hold is shuffled. A hand-written rule gives the same answers; a rule that learned from
  labels (a classifier trained inside it) does not.
* :func:`unavailable`: the functions of some modules raise while the block runs, wherever the
  answer got them from (a module attribute, or a name imported into the notebook). A metric
  written "from scratch" still works with ``sklearn.metrics`` unavailable; a wrapper does not.
* :func:`spec_unreadable`: reading anything from :data:`course.spec.SPEC` raises. A spec derived
  from the scenario is still written; one copied from the course's spec is not.

Both put everything back when the block ends, whatever happened inside it::

    from course.checks import labels_shuffled, unavailable
    with labels_shuffled(globals()):
        after = predict_frown(images)
    with unavailable(["sklearn.metrics"], globals(), "write precision yourself"):
        precision([1, 0], [1, 1])
"""
from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FunctionType, ModuleType

import numpy as np

from course.validation import check_seed, seed_by_keyword

__all__ = ["labels_shuffled", "unavailable", "spec_unreadable", "Unavailable"]


class Unavailable(RuntimeError):
    """Raised by a function that :func:`unavailable` switched off."""


def _shuffled(made, seed: int):
    perm = np.random.default_rng(seed).permutation(len(made.labels))
    labels = np.asarray(made.labels)[perm]
    return dataclasses.replace(made, labels=labels, meta=made.meta.assign(label=labels))


@contextmanager
@seed_by_keyword
def labels_shuffled(namespace: dict, *, seed: int = 0) -> Iterator[None]:
    """Shuffle every label an answer could learn from while the block runs.

    ``course.frowns.make_faces`` and ``course.calls.make_frames`` return sets with shuffled labels
    (however the notebook got hold of them: no name anywhere is rebound), and the labels of every
    face or frame set bound to a name in ``namespace`` are shuffled in place. Images are untouched.
    Everything is put back when the block ends.

    Parameters
    ----------
    namespace : dict
        The notebook's globals (what ``globals()`` returns there).
    seed : int, keyword-only
        Seed (>= 0) of the shuffles: ``default_rng(seed)`` for the sets made in the block,
        ``default_rng(seed + 1)`` for the sets already bound. These are a check's own shuffles, not
        data any notebook was written against, so they are not streams of :mod:`course.seeding`.

    Yields
    ------
    None
        While the block runs.
    """
    import course.calls as calls
    import course.frowns as frowns

    seed = check_seed(seed)

    def shuffle(made):
        return _shuffled(made, seed)

    sets = [value for value in list(namespace.values())
            if isinstance(value, (frowns.Faces, calls.Frames)) and len(value.labels) > 1]
    kept = [(s.labels.copy(), s.meta["label"].copy()) for s in sets]
    hooks = (frowns._MADE_HOOKS, calls._MADE_HOOKS)
    try:
        for table in hooks:
            table.append(shuffle)
        rng = np.random.default_rng(seed + 1)
        for s in sets:
            s.labels[:] = s.labels[rng.permutation(len(s.labels))]
            s.meta["label"] = s.labels.copy()
        yield
    finally:
        for table in hooks:
            if shuffle in table:
                table.remove(shuffle)
        for s, (labels, column) in zip(sets, kept):
            s.labels[:] = labels
            s.meta["label"] = column


def _namespaces(namespace: dict) -> list[dict]:
    """``namespace`` and the global namespaces the notebook's own functions in it read.

    A test may run in a copy of the notebook's globals; the answers' functions keep reading the
    notebook's own, reachable through their ``__globals__``.
    """
    found = [namespace]
    for value in list(namespace.values()):
        table = getattr(value, "__globals__", None)
        if (isinstance(value, FunctionType) and getattr(value, "__module__", None) == "__main__"
                and isinstance(table, dict) and all(table is not t for t in found)):
            found.append(table)
    return found


def _modules(prefixes) -> list[ModuleType]:
    for prefix in prefixes:
        importlib.import_module(prefix)
    return [module for name, module in list(sys.modules.items())
            if module is not None and any(name == p or name.startswith(p + ".") for p in prefixes)]


def _belongs(value, prefixes) -> bool:
    module = getattr(value, "__module__", None)
    return (callable(value) and isinstance(module, str)
            and any(module == p or module.startswith(p + ".") for p in prefixes))


@contextmanager
def unavailable(prefixes, namespace: dict, hint: str) -> Iterator[None]:
    """Make the functions of the modules named by ``prefixes`` (and their submodules) raise
    :class:`Unavailable` with ``hint`` while the block runs.

    Module attributes are replaced (so ``import sklearn.metrics`` inside a function finds the
    stand-ins), and so are names bound to those functions in ``namespace`` and in the globals the
    notebook's functions read (so a name imported into the notebook at the top is switched off
    too, also when the test runs in a copy of the notebook's globals). Everything is put back at
    the end.

    Parameters
    ----------
    prefixes : iterable of str
        Module names, such as ``["sklearn.metrics"]``.
    namespace : dict
        The notebook's globals.
    hint : str
        What the student should do instead; it ends the :class:`Unavailable` message.

    Yields
    ------
    None
        While the block runs.
    """
    prefixes = tuple(prefixes)

    def stand_in(name):
        def refuse(*args, **kwargs):
            raise Unavailable(f"{name} is switched off here: {hint}")
        refuse.__name__ = name
        return refuse

    replaced = []   # (owner dict, key, original)
    for module in _modules(prefixes):
        table = vars(module)
        for key, value in list(table.items()):
            if not key.startswith("__") and _belongs(value, prefixes) and not isinstance(value, type):
                replaced.append((table, key, value))
    for table in _namespaces(namespace):
        for key, value in list(table.items()):
            if key.startswith("__"):
                continue
            if isinstance(value, ModuleType) and any(value.__name__ == p or value.__name__.startswith(p + ".")
                                                     for p in prefixes):
                continue   # module attributes are replaced above
            if _belongs(value, prefixes) and not isinstance(value, type):
                replaced.append((table, key, value))
    try:
        for table, key, value in replaced:
            table[key] = stand_in(f"{getattr(value, '__module__', '?')}.{key}")
        yield
    finally:
        for table, key, value in reversed(replaced):
            table[key] = value


@contextmanager
def spec_unreadable(hint: str = "derive it from course.framing.SCENARIO and your own arithmetic") -> Iterator[None]:
    """Make every attribute of :data:`course.spec.SPEC` (any :class:`course.spec.Spec`) raise
    :class:`Unavailable` with ``hint`` while the block runs.

    Parameters
    ----------
    hint : str
        What the student should do instead; it ends the :class:`Unavailable` message.

    Yields
    ------
    None
        While the block runs.
    """
    from course.spec import Spec

    def refuse(self, name):
        raise Unavailable(f"course.spec.SPEC.{name} is switched off here: {hint}")

    Spec.__getattribute__ = refuse
    try:
        yield
    finally:
        del Spec.__getattribute__
