"""The two ways to install agree, and the pins are exact."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    pins = {}
    for line in lines:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?\s*==\s*([^\s;]+)\s*", line)
        assert match, f"not an exact pin: {line!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(3)
    return pins


def test_pyproject_and_environment_yml_pin_the_same_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip_section) == declared
    assert "python=3.11" in env["dependencies"]


def test_torch_is_pinned_to_the_cpu_build_on_disk():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]


def test_constraints_cover_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    lines = [l for l in (ROOT / "constraints.txt").read_text().splitlines() if l and not l.startswith("#")]
    constraints = _pins(lines)
    for name, version in declared.items():
        assert constraints.get(name) == version, f"constraints.txt pins {name}=={constraints.get(name)}, pyproject {version}"


def _make_venv_python(venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "venv-python", f"VENV={venv}",
                           f"PYTHON={sys.executable}"], capture_output=True, text=True, timeout=120)


def test_make_removes_a_venv_made_by_another_python_and_keeps_a_good_one(tmp_path):
    """`make setup` first removes a .venv whose Python is not the one it builds with, so the
    environment is rebuilt from nothing (make's own target, run on throwaway environments)."""
    wrong = tmp_path / "wrong"
    (wrong / "bin").mkdir(parents=True)
    (wrong / "bin" / "python").write_text("#!/bin/sh\necho 3.99\n")
    (wrong / "bin" / "python").chmod(0o755)
    (wrong / ".installed").touch()
    gone = tmp_path / "gone"
    (gone / "bin").mkdir(parents=True)
    (gone / "bin" / "python").symlink_to(tmp_path / "no-such-python3.11")
    good = tmp_path / "good"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(good)], check=True, timeout=120)

    for venv, why in ((wrong, "Python 3.99"), (gone, "none that runs")):
        made = _make_venv_python(venv)
        assert made.returncode == 0, made.stderr
        assert not venv.exists(), f"{venv.name} should be removed"
        assert why in made.stderr and "removing it to rebuild it" in made.stderr, made.stderr
    made = _make_venv_python(good)
    assert made.returncode == 0 and made.stderr == "", made.stderr
    assert (good / "bin" / "python").exists(), "a venv of the right Python is kept"
