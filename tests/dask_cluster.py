"""A real Dask scheduler and worker as subprocesses on loopback, for the tests that
kill them (or the command using them) part-way. The worker runs without a nanny (one
process), so stopping it leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskProcesses:
    """``dask scheduler`` + one single-threaded ``dask worker`` (cwd: the repository, so
    test-only task code imports); ``close()`` stops both and waits for them."""

    def __init__(self) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        dask_bin = str(Path(sys.executable).parent / "dask")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.scheduler = subprocess.Popen(
            [dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env,
            **quiet,
        )
        self.worker = subprocess.Popen(
            [
                dask_bin,
                "worker",
                self.address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--death-timeout",
                "5",
            ],
            env=env,
            cwd=ROOT,
            **quiet,
        )

    def close(self) -> None:
        for proc in (self.worker, self.scheduler):
            if proc.poll() is None:
                proc.terminate()
        for proc in (self.worker, self.scheduler):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
