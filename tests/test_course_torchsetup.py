"""course.torchsetup: the thread budget from the environment. (torch's lazy start-up is done by the
grader's kernel: tests/test_sandbox_policy.py.)"""
from __future__ import annotations

import pytest
import torch

from course.torchsetup import configure_torch, threads_from_env


@pytest.mark.parametrize("env, cap, want", [
    (None, 2, 2), ("1", 2, 1), ("2", 2, 2), ("8", 2, 2), ("8", 4, 4), ("0", 2, 2), ("-3", 2, 2),
    ("two", 2, 2), ("", 2, 2), (" 1 ", 2, 1), ("1", 0, 1),
])
def test_threads_from_env(monkeypatch, env, cap, want):
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert threads_from_env(cap) == want


def test_configure_torch_sets_the_thread_count(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_torch() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
