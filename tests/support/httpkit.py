"""Loopback HTTP helpers for tests that run the service as a subprocess."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import orjson


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(
    port: int,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
    try:
        conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen[bytes], log: Path, within: float = 30) -> None:
    """Wait until ``GET /readyz`` answers 200; fail with the server's log if it does not."""
    deadline = time.monotonic() + within
    while True:
        try:
            if request(port, "GET", "/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the server did not come up:\n{log.read_text()[-4000:]}")
        time.sleep(0.1)


def kill_group(server: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the server's process group (master and workers); reap the master."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, sig)
    server.wait(timeout=30)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` is still alive."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
