"""The two ways to install agree, and the pins are exact."""
import re
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
