"""course.torchsetup: the thread budget from the environment, and the quick exit. (torch's lazy
start-up is done by the grader's kernel: tests/test_sandbox_policy.py.)"""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from course.torchsetup import configure_torch, threads_from_env
from tests.helpers import ROOT


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


def test_the_kernel_skips_the_final_collection_at_exit(tmp_path):
    """configure_torch registers gc.freeze at exit once, however often it is called; handlers
    registered before it still run (after it), and a file left open is still written out."""
    left_open = tmp_path / "left-open.txt"
    script = f"""
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))
from course.torchsetup import configure_torch
before = atexit._ncallbacks()
configure_torch(1)
configure_torch(1)
print("handlers added:", atexit._ncallbacks() - before, flush=True)
handle = open({str(left_open)!r}, "w")
handle.write("written at exit")
"""
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["handlers added: 1", "frozen at exit: True"], run.stdout
    assert left_open.read_text() == "written at exit"
