"""A Dask grading cluster is on loopback or behind mutual TLS, never open to the network.

Real clusters, started with the README's own commands (free ports instead of the documented
ones): every socket of the loopback set-up listens on loopback only; the TLS set-up serves
nothing in plain text off loopback and refuses clients without a certificate from its CA; both
grade. The grader refuses a plain address of another machine before doing anything.
"""
from __future__ import annotations

import re
import shlex
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.cluster import DaskTLS, check_address, is_loopback_host
from autograder.errors import UsageError
from autograder.grade import GradeOptions, grade_assignment
from tests import minicourse as M

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).parent / "dask")
UNROUTABLE = "192.0.2.10"  # TEST-NET-1: documentation only, never a real machine


def readme_commands(tls: bool) -> tuple[list[str], list[str]]:
    """The README's `dask scheduler` and `dask worker` command lines for one set-up."""
    found = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\s*(?:\.venv/bin/)?dask (scheduler|worker)\b(.*)$", line)
        if match and ("tls" in line) == tls and match.group(1) not in found:
            found[match.group(1)] = shlex.split(match.group(2))
    assert set(found) == {"scheduler", "worker"}, f"the README documents both commands (tls={tls}): {found}"
    return found["scheduler"], found["worker"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def substitute(args: list[str], values: dict[str, str]) -> list[str]:
    out = []
    for arg in args:
        for old, new in values.items():
            arg = arg.replace(old, new)
        out.append(arg)
    return out


# A client that tries to connect, in a process of its own: a refused distributed.Client is left half
# made, and its __del__ can run inside the next Client's start-up and wait there forever on the lock
# that start-up holds (seen in a suite run: the test hung until the CI time limit).
TRY_CLIENT = """
import sys
import distributed
from autograder.cluster import DaskTLS
address, *files = sys.argv[1:]
kwargs = {"security": DaskTLS(*files).security()} if files else {}
try:
    distributed.Client(address, timeout="5s", **kwargs).close()
except Exception as error:
    print(type(error).__name__)
    sys.exit(1)
print("connected")
"""


def try_client(address: str, *files: str) -> subprocess.CompletedProcess:
    """Connect to `address` as a Dask client (with these TLS files: CA, certificate, key)."""
    return subprocess.run([sys.executable, "-c", TRY_CLIENT, address, *files], capture_output=True, text=True,
                          timeout=180, cwd=ROOT)


def handshake_without_certificate(address: str, ca_file: str) -> str:
    """Open TLS to `address` trusting its CA but showing no certificate of our own (Dask's client
    cannot even try this); returns how the server refused, or "" if it answered."""
    host, port = address.split("://", 1)[1].rsplit(":", 1)
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=20) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                tls.sendall(b"\0" * 8)  # under TLS 1.3 the verdict on a missing certificate comes after the handshake
                return "" if tls.recv(1) else "closed"
        except (ssl.SSLError, OSError) as error:
            return f"{type(error).__name__}: {error}"


def listening(processes: list[subprocess.Popen]) -> set[tuple[str, int]]:
    found = set()
    for popen in processes:
        try:
            root = psutil.Process(popen.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in tree:
            try:
                found |= {(c.laddr.ip, c.laddr.port) for c in process.net_connections(kind="inet")
                          if c.status == psutil.CONN_LISTEN}
            except psutil.NoSuchProcess:
                pass
    return found


class Cluster:
    """A scheduler and one worker started as the README says, stopped by their own pids."""

    def __init__(self, tls: bool, certs: Path | None, log_dir: Path):
        scheduler, worker = readme_commands(tls)
        self.port = free_port()
        values = {"8786": str(self.port), "127.0.0.1:8787": f"127.0.0.1:{free_port()}",
                  "SCHEDULER": "127.0.0.1", "certs/": f"{certs}/" if certs else "certs/"}
        self.address = f"{'tls' if tls else 'tcp'}://127.0.0.1:{self.port}"
        self.processes = []
        self.logs = []
        for kind, args in (("scheduler", scheduler), ("worker", worker)):
            log = open(log_dir / f"{kind}.log", "w")
            self.logs.append(log)
            self.processes.append(subprocess.Popen([DASK, kind, *substitute(args, values)],
                                                   stdout=log, stderr=subprocess.STDOUT))
            if kind == "scheduler":
                self._wait_for_port()

    def _wait_for_port(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ("127.0.0.1", self.port) in listening(self.processes[:1]) or \
                    ("0.0.0.0", self.port) in listening(self.processes[:1]):
                return
            assert self.processes[0].poll() is None, "the scheduler exited"
            time.sleep(0.5)
        raise AssertionError("the scheduler did not start listening")

    def wait_for_worker(self, security=None) -> dict:
        kwargs = {"security": security} if security is not None else {}
        with distributed.Client(self.address, timeout="60s", **kwargs) as client:
            client.wait_for_workers(1, timeout=120)
            return client.scheduler_info(n_workers=-1)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()


def _submissions(course, folder: Path) -> Path:
    for student, answers in {"ann": M.PERFECT, "ben": M.WRONG}.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(M.submission(course, answers), folder / student / f"{M.ASSIGNMENT}.ipynb")
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return M.build(tmp_path_factory.mktemp("dask-security") / "course")


def test_loopback_cluster_of_the_readme_listens_on_loopback_only_and_grades(course, tmp_path):
    cluster = Cluster(tls=False, certs=None, log_dir=tmp_path)
    try:
        info = cluster.wait_for_worker()
        sockets = listening(cluster.processes)
        assert len(sockets) >= 4, f"scheduler, its web server, nanny and worker: {sockets}"
        exposed = [s for s in sockets if not is_loopback_host(s[0])]
        assert exposed == [], f"listening off loopback (dashboard and health pages included): {exposed}"
        assert all(a.startswith("tcp://127.0.0.1:") for a in info["workers"]), info["workers"]
        results = grade_assignment(course, M.ASSIGNMENT, _submissions(course, tmp_path / "subs"), tmp_path / "out",
                                   GradeOptions(dask_address=cluster.address, progress=False), log=lambda *a: None)
        assert {r.student_id: r.score for r in results} == {"ann": M.MAX_SCORE, "ben": 0}
    finally:
        cluster.stop()


def test_tls_cluster_of_the_readme_grades_and_admits_only_its_own_certificates(course, tmp_path):
    certs, stranger = tmp_path / "certs", tmp_path / "stranger"
    for folder in (certs, stranger):
        subprocess.run(["sh", str(ROOT / "scripts" / "dask-tls-certs.sh"), str(folder)], check=True,
                       capture_output=True)
    assert (certs / "node-key.pem").stat().st_mode & 0o077 == 0, "the private key is readable by its owner only"
    cluster = Cluster(tls=True, certs=certs, log_dir=tmp_path)
    tls = DaskTLS(str(certs / "ca.pem"), str(certs / "node.pem"), str(certs / "node-key.pem"))
    try:
        info = cluster.wait_for_worker(tls.security())
        addresses = [info["address"], *info["workers"],
                     *[w.get("nanny") for w in info["workers"].values() if w.get("nanny")]]
        assert all(a.startswith("tls://") for a in addresses), addresses
        tls_ports = {int(a.rsplit(":", 1)[1]) for a in addresses}
        plain_off_loopback = [s for s in listening(cluster.processes)
                              if not is_loopback_host(s[0]) and s[1] not in tls_ports]
        assert plain_off_loopback == [], f"only TLS endpoints may listen off loopback: {plain_off_loopback}"

        for label, address, files in (
                ("plain TCP", cluster.address.replace("tls://", "tcp://"), ()),
                ("a certificate of another CA", cluster.address,
                 (str(stranger / "ca.pem"), str(stranger / "node.pem"), str(stranger / "node-key.pem")))):
            refused = try_client(address, *files)
            assert refused.returncode == 1, f"{label}: {refused.stdout} {refused.stderr[-2000:]}"
            print(f"{label}: refused with {refused.stdout.strip()}")
        refusal = handshake_without_certificate(cluster.address, str(certs / "ca.pem"))
        assert refusal, "a client without a certificate of the cluster's CA must be refused"
        assert "CERTIFICATE_VERIFY_FAILED" not in refusal, f"we trusted the cluster, it refused us: {refusal}"
        print(f"the cluster's CA but no certificate: refused with {refusal}")
        admitted = try_client(cluster.address, str(certs / "ca.pem"), str(certs / "node.pem"), str(certs / "node-key.pem"))
        assert admitted.returncode == 0, f"the cluster's own certificate is admitted: {admitted.stderr[-2000:]}"

        results = grade_assignment(course, M.ASSIGNMENT, _submissions(course, tmp_path / "subs"), tmp_path / "out",
                                   GradeOptions(dask_address=cluster.address, dask_tls=tls, progress=False),
                                   log=lambda *a: None)
        assert {r.student_id: r.score for r in results} == {"ann": M.MAX_SCORE, "ben": 0}
    finally:
        cluster.stop()


def test_grade_refuses_an_unauthenticated_cluster_off_this_machine(course, tmp_path):
    subs = _submissions(course, tmp_path / "subs")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT,
                           str(subs), "--out", str(tmp_path / "out"), "--dask", f"tcp://{UNROUTABLE}:8786"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "refusing to grade on it" in proc.stderr and "tls://" in proc.stderr and "127.0.0.1" in proc.stderr
    assert time.monotonic() - started < 60, "refused before trying to connect"
    assert not (tmp_path / "out" / "grades.csv").exists(), "nothing was graded"
    proc = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root), "grade", M.ASSIGNMENT,
                           str(subs), "--out", str(tmp_path / "out"), "--dask", f"tls://{UNROUTABLE}:8786"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--dask-tls-ca-file" in proc.stderr, proc.stderr


@pytest.mark.parametrize("address, fine", [
    ("tcp://127.0.0.1:8786", True), ("127.0.0.1:8786", True), ("tcp://localhost:8786", True),
    ("tcp://[::1]:8786", True), (f"tcp://{UNROUTABLE}:8786", False), ("tcp://0.0.0.0:8786", False),
    ("ucx://127.0.0.1:8786", False), ("ws://10.0.0.1:8786", False),
])
def test_which_addresses_need_tls(address, fine):
    if fine:
        assert check_address(address) == []
    else:
        with pytest.raises(UsageError, match="refusing"):
            check_address(address)
        warnings = check_address(address, allow_insecure=True)
        assert len(warnings) == 1 and "anyone who can reach it can run code on the workers" in warnings[0]
