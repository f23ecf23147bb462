"""The kernel's configuration (autograder/sandbox/config.py): checked when made, the command line's
defaults, serialised once for the kernel and parsed strictly there."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import reuse
from autograder.cli import build_parser, kernel_config
from autograder.grade import GradeOptions, batch_config, default_workers
from autograder.sandbox.config import ConfigError, KernelConfig, KernelSetup
from autograder.sandbox.isolation import Isolation, SandboxPlan


@pytest.mark.parametrize("name, value, allowed", [
    ("cell_timeout", -1, "a positive number of seconds"),
    ("notebook_timeout", 0, "a positive number of seconds"),
    ("start_timeout", "60", "a positive number of seconds"),
    ("memory_bytes", 1.5, "a positive int (bytes)"),
    ("output_limit_bytes", True, "a positive int (bytes)"),
    ("cpu_seconds", 0, "a positive int (seconds)"),
    ("processes", -3, "a positive int"),
    ("threads", 0, "a positive int or None"),
])
def test_a_bad_value_is_refused_with_its_name_value_and_what_is_allowed(name, value, allowed):
    with pytest.raises(ConfigError) as caught:
        KernelConfig(**{name: value})
    message = str(caught.value)
    assert message.startswith(f"The {name!r} parameter of KernelConfig must be {allowed}")
    assert message.endswith(f"Got {value!r} instead.")


def test_the_configuration_is_frozen_and_a_value_error():
    config = KernelConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.cell_timeout = 1  # type: ignore[misc]
    assert issubclass(ConfigError, ValueError)


def test_round_trip_of_the_configuration_and_of_the_kernel_setup():
    config = KernelConfig(cell_timeout=7.5, notebook_timeout=90, memory_bytes=2 * 1024**3, threads=2)
    assert KernelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    setup = KernelSetup(config=config, preimports=("numpy", "pandas"), protected_modules=("numpy",),
                        protected_paths=("/srv/source",), allowed_paths=("/srv/run/scratch",), deny_processes=True)
    assert KernelSetup.from_json(setup.to_json()) == setup


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(surprise=1), ["unknown key(s) 'surprise'"]),
    (lambda d: d.pop("preimports"), ["missing key(s) 'preimports'"]),
    (lambda d: d["config"].pop("processes"), ["missing key(s) 'processes'", "KernelConfig"]),
    (lambda d: d["config"].update(limits={}), ["unknown key(s) 'limits'", "KernelConfig"]),
])
def test_the_kernel_side_parse_is_strict(change, words):
    data = json.loads(KernelSetup(config=KernelConfig()).to_json())
    change(data)
    with pytest.raises(ConfigError) as caught:
        KernelSetup.from_json(json.dumps(data))
    for word in words:
        assert word in str(caught.value)


def test_the_sandbox_plan_carries_the_setup_serialised_once(tmp_path):
    setup = KernelSetup(config=KernelConfig(memory_bytes=1024**3), preimports=("numpy",))
    plan = SandboxPlan(isolation=Isolation(bwrap=None, uid=None, gid=None, user=None, layers=(), missing=()),
                       setup=setup, scratch=tmp_path, sockets=tmp_path, run_dir=tmp_path)
    text = plan.to_json()["kernel"]
    assert isinstance(text, str) and text == setup.to_json()
    assert KernelSetup.from_json(text) == setup
    assert "limits" not in plan.to_json(), "the limits travel inside the setup, not beside it"


def test_the_launcher_refuses_a_setup_it_does_not_understand(tmp_path):
    """A plan whose kernel setup has a key the launcher does not know stops the launch with a
    message naming it, before any kernel starts (it used to be read with silent defaults)."""
    data = json.loads(KernelSetup(config=KernelConfig()).to_json())
    data["protected"] = ["numpy"]  # the old name of protected_modules
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"kernel": json.dumps(data), "key_file": str(tmp_path / "key")}))
    proc = subprocess.run([sys.executable, "-m", "autograder.sandbox.launch", "--plan", str(plan), "-f",
                           str(tmp_path / "connection.json")], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "unknown key(s) 'protected'" in proc.stderr
    assert not (tmp_path / "connection.json").exists()


def test_the_command_line_defaults_are_the_configuration_defaults():
    args = build_parser().parse_args(["grade", "01-problem-framing", "subs"])
    assert (args.cell_timeout, args.timeout, args.memory_limit, args.output_limit) == (None, None, None, None)
    assert kernel_config(args.cell_timeout, args.timeout, args.memory_limit, args.output_limit) == KernelConfig()
    given = build_parser().parse_args(["grade", "A", "subs", "--timeout", "30", "--memory-limit", "1G"])
    assert kernel_config(given.cell_timeout, given.timeout, given.memory_limit, given.output_limit) == \
        KernelConfig(notebook_timeout=30.0, memory_bytes=1024**3)
    check = build_parser().parse_args(["check", "nb.ipynb"])
    assert kernel_config(check.cell_timeout) == KernelConfig()
    grade_help = build_parser()._subparsers._group_actions[0].choices["grade"].format_help()
    assert f"default {KernelConfig().notebook_timeout:g}" in grade_help and "default 4G" in grade_help


def test_threads_are_one_share_of_the_cores_unless_given_and_never_in_the_reuse_key():
    cores = default_workers()
    assert batch_config(GradeOptions(), 1).threads == cores
    assert batch_config(GradeOptions(), cores + 1).threads == 1
    assert batch_config(GradeOptions(dask_address="tcp://127.0.0.1:1"), 1).threads == 1
    assert batch_config(GradeOptions(config=KernelConfig(threads=3)), 2).threads == 3
    assert reuse.settings_digest(KernelConfig(threads=1)) == reuse.settings_digest(KernelConfig(threads=4))
    assert reuse.settings_digest(KernelConfig(cell_timeout=1)) != reuse.settings_digest(KernelConfig())


def test_nothing_else_of_the_grader_is_loaded_with_the_configuration():
    """The launcher and the kernel read the configuration inside the sandbox."""
    code = "import sys, autograder.sandbox.config\nprint(sorted(n for n in sys.modules if n.startswith('autograder')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['autograder', 'autograder.sandbox', 'autograder.sandbox.config']"
