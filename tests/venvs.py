"""A fresh virtual environment for tests that install a package the way a student or a grading
machine would, without downloading torch and friends again.

`borrowed_venv(folder)` creates a venv (no pip of its own) whose site-packages points, through a
`.pth` file, at this project's installed third-party packages. It does NOT see this checkout's
own `course` and `autograder` (they are installed here in editable mode, through a finder that a
`.pth` path line does not activate), so whatever `pip install` puts into the new venv is what
runs there. `pip` and `setuptools` come from the borrowed packages; installs use
`--no-index --no-build-isolation`, so nothing is downloaded. The borrowed packages' commands
(`alembic`, `jupyter`, ...) are copied into the new venv's bin/ with its own python, as an install
would put them there. With ``jupyter_data=True`` it also gets the borrowed packages' Jupyter
settings (``etc/jupyter``, copied) and lab extensions (``share/jupyter/labextensions``, linked), as
their wheels would have installed them, so `jupyter lab` there sees what a student's would.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path


def borrowed_venv(folder: Path, jupyter_data: bool = False) -> Path:
    """Create the venv; returns its python."""
    folder = Path(folder)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=300)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=120).stdout.strip()
    Path(purelib, "borrowed-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    ours = Path(sys.executable).parent
    for script in sorted(ours.iterdir()):
        target = folder / "bin" / script.name
        if target.exists() or script.name in ("autograder",) or not script.is_file():
            continue
        head = script.read_bytes()[:200]
        if b"\n" in head and re.fullmatch(rb"#!\S*/python[\d.]*", head.split(b"\n", 1)[0]):
            body = script.read_text().split("\n", 1)[1]
            target.write_text(f"#!{python}\n{body}")
            target.chmod(0o755)
    if jupyter_data:
        shutil.copytree(Path(sys.prefix, "etc", "jupyter"), folder / "etc" / "jupyter", dirs_exist_ok=True)
        extensions = Path(sys.prefix, "share", "jupyter", "labextensions")
        (folder / "share" / "jupyter" / "labextensions").mkdir(parents=True, exist_ok=True)
        for package in sorted(extensions.glob("*")):
            (folder / "share" / "jupyter" / "labextensions" / package.name).symlink_to(package)
    return python


def pip_install(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation",
                           *args], capture_output=True, text=True, timeout=900)
