"""One batch at a time per output folder.

The lock is an advisory `flock` on OUT/.lock, so it is released by the kernel when its holder
exits, however it exits (kill -9 included): a crashed batch never leaves a folder locked. The
file also names the holder (pid, start time, host, command) for the message a second batch gets.
"""
from __future__ import annotations

import fcntl
import json
import socket
import sys
from pathlib import Path

from autograder.errors import FolderBusyError
from autograder.leftovers import me

LOCK_FILE = ".lock"


class OutputLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self.handle = None

    def __enter__(self) -> "OutputLock":
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            try:
                info = json.loads(holder)
                who = f"process {info['pid']} on {info['host']} ({info['command']})"
            except (ValueError, KeyError, TypeError):
                who = "another process"
            raise FolderBusyError(
                f"{self.path.parent} is being written by another batch: {who}. One batch at a time "
                "per output folder: wait for it to finish, then run this command again.") from None
        owner = me()
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": owner.pid, "started": owner.started, "host": socket.gethostname(),
                                 "command": " ".join(sys.argv)[:300]}))
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            try:
                self.handle.truncate(0)
            except OSError:
                pass
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
