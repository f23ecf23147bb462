"""PostgreSQL for tests, never a real gradebook.

`own_database(server_url)` creates a database of the test's own on a running server (the shared
one that scripts/start-postgres.sh prints) and drops it afterwards. `PrivateServer` starts a
server of the test's own with that same script, on a temporary data folder and a free port, so
a test may stop and restart it without touching anyone else's.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "start-postgres.sh"


@contextlib.contextmanager
def own_database(server_url: str):
    import sqlalchemy

    name = f"autograder_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        yield str(sqlalchemy.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateServer:
    """A PostgreSQL server of one test's own, started by the repo's script."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="autograder-pg-test-"))
        os.chmod(self.base, 0o755)  # the postgres user must reach its data folder
        self.data = self.base / "data"
        self.port = _free_port()
        self.env = {**os.environ, "AUTOGRADER_PG_DATA": str(self.data), "AUTOGRADER_PG_PORT": str(self.port)}
        self.url = ""

    def start(self) -> str:
        proc = subprocess.run(["sh", str(SCRIPT)], env=self.env, capture_output=True, text=True, timeout=300)
        self.url = proc.stdout.strip()
        if not self.url:
            raise RuntimeError(f"PostgreSQL did not start: {proc.stderr.strip()}")
        return self.url

    def stop(self) -> None:
        subprocess.run(["sh", str(SCRIPT), "stop"], env=self.env, capture_output=True, text=True, timeout=120)

    def kill(self) -> None:
        """Stop it the hard way (as a crash or an operator would), without the script."""
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        command = [bins[-1], "-D", str(self.data), "-m", "immediate", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, capture_output=True, timeout=120)

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
