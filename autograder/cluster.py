"""Grading on a Dask distributed cluster, safely.

Whoever can talk to a Dask scheduler or worker can run any code on the workers and read every
task's data: here, the hidden tests and every submission, and the results on their way back to
the one writer. Dask has no authentication of its own besides TLS client certificates. So the
grader connects only to a cluster that is either

* on this machine: a `tcp://` address that resolves to loopback only (started with
  `--host 127.0.0.1` and `--dashboard-address 127.0.0.1:...`), or
* protected by mutual TLS: a `tls://` address, with a CA, certificate and key that Dask's security
  settings use to encrypt traffic and to refuse any peer without a certificate from that CA.

Anything else (a plain `tcp://` address of another machine, say) is refused unless the instructor
explicitly accepts it (`--dask-insecure`), and then a warning is printed however quiet the run is.
After connecting, workers that listen for plain TCP off this machine are refused the same way.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from autograder.errors import UsageError

ENCRYPTED_SCHEMES = {"tls", "wss"}
LOCAL_SCHEMES = {"inproc"}
SAFE_SET_UP = ("start the cluster on this machine only (dask scheduler --host 127.0.0.1 ...) or with TLS "
               "(tls:// and --dask-tls-ca-file/--dask-tls-cert/--dask-tls-key; README, 'A big class')")


@dataclass(frozen=True)
class DaskTLS:
    """Files of the cluster's own certificate authority, as Dask's TLS settings take them."""

    ca_file: str
    cert: str
    key: str | None = None

    def security(self):
        from distributed.security import Security

        return Security(tls_ca_file=self.ca_file, tls_client_cert=self.cert, tls_client_key=self.key,
                        require_encryption=True)


def _split(address: str) -> tuple[str, str]:
    if "://" not in address:
        address = "tcp://" + address  # Dask's default protocol
    parts = urlsplit(address)
    return parts.scheme.lower(), parts.hostname or ""


def is_loopback_host(host: str) -> bool:
    """True when every address `host` stands for is on this machine's loopback interface."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def _configured_tls() -> bool:
    """Whether Dask's own configuration (files or DASK_* variables) gives a client its TLS files."""
    import dask

    return bool(dask.config.get("distributed.comm.tls.ca-file", None)
                and dask.config.get("distributed.comm.tls.client.cert", None))


def check_address(address: str, tls: DaskTLS | None = None, allow_insecure: bool = False) -> list[str]:
    """Refuse (UsageError) a scheduler address that is neither loopback nor TLS-protected;
    returns the warnings to print when the instructor accepted an insecure one."""
    scheme, host = _split(address)
    if scheme in ENCRYPTED_SCHEMES:
        if tls is None and not _configured_tls():
            raise UsageError(f"{address} uses TLS: give the cluster's CA, certificate and key with "
                             "--dask-tls-ca-file, --dask-tls-cert and --dask-tls-key (or Dask's "
                             "distributed.comm.tls settings)")
        return []
    if tls is not None:
        raise UsageError(f"--dask-tls-* files were given but {address} is not a tls:// address; "
                         f"use tls://{host or 'HOST'}:PORT")
    if scheme in LOCAL_SCHEMES or (scheme == "tcp" and is_loopback_host(host)):
        return []
    problem = (f"the Dask scheduler at {address} is reached without encryption or authentication "
               f"({scheme}:// off this machine): anyone who can reach it can run code on the workers and read "
               "the hidden tests and every submission")
    if not allow_insecure:
        raise UsageError(f"refusing to grade on it: {problem}. Either {SAFE_SET_UP}. If the network is "
                         "private and only you can reach it, pass --dask-insecure to accept the risk")
    return [f"{problem}. Accepted because of --dask-insecure."]


def check_workers(worker_addresses: list[str], allow_insecure: bool = False) -> list[str]:
    """The same rule for the workers the scheduler reports (they accept tasks directly)."""
    exposed = [a for a in worker_addresses
               if _split(a)[0] not in ENCRYPTED_SCHEMES | LOCAL_SCHEMES and not is_loopback_host(_split(a)[1])]
    if not exposed:
        return []
    problem = (f"{len(exposed)} Dask worker(s) listen without encryption or authentication off this machine "
               f"({', '.join(exposed[:4])})")
    if not allow_insecure:
        raise UsageError(f"refusing to grade on this cluster: {problem}. Either {SAFE_SET_UP}, or pass "
                         "--dask-insecure to accept the risk")
    return [f"{problem}. Accepted because of --dask-insecure."]


def warn_loudly(message: str) -> None:
    """Printed whatever --quiet says: accepting an exposed cluster must never go unnoticed."""
    print(f"autograder: WARNING: {message}", file=sys.stderr, flush=True)


def connect(address: str, tls: DaskTLS | None = None, allow_insecure: bool = False, timeout: str = "30s",
            warn=warn_loudly):
    """A distributed.Client for a cluster that passed `check_address` and `check_workers`."""
    from distributed import Client

    for warning in check_address(address, tls, allow_insecure):
        warn(warning)
    kwargs = {"security": tls.security()} if tls is not None else {}
    try:
        client = Client(address, timeout=timeout, **kwargs)
    except Exception as error:  # noqa: BLE001
        raise UsageError(f"could not connect to the Dask scheduler at {address}: {type(error).__name__}: {error}"
                         ) from None
    try:
        workers = list(client.scheduler_info(n_workers=-1).get("workers", {}))
        for warning in check_workers(workers, allow_insecure):
            warn(warning)
    except BaseException:
        client.close()
        raise
    return client
