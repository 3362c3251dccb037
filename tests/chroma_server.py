"""A real Chroma server for tests: ``chroma run --path TMP --host 127.0.0.1 --port FREE``.

``chroma_server(path)`` starts the ``chroma`` executable of the chromadb package (the one beside
this Python), waits (bounded) for its heartbeat, and stops it at the end. Listens on loopback only.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port

START_TIMEOUT = 60.0  # seconds for the server to answer its heartbeat
STOP_TIMEOUT = 15.0


def chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    if beside.is_file():
        return str(beside)
    return shutil.which("chroma")


@dataclass
class ChromaServer:
    path: Path
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heartbeat(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/api/v2/heartbeat", timeout=timeout) as r:
                return r.status == 200 and b"heartbeat" in r.read()
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


def start_chroma_server(path: Path, *, log: Path | None = None, attempts: int = 3) -> ChromaServer:
    """Start a server on a free loopback port; raises RuntimeError (with its log) if it won't come up."""
    exe = chroma_executable()
    if exe is None:
        raise RuntimeError("the `chroma` executable (from the chromadb package) is not installed")
    log = log or path.parent / f"{path.name}-chroma.log"
    last = ""
    for _ in range(attempts):  # a free port can be taken between probing and binding: retry
        port = free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = ChromaServer(path=path, port=port, process=proc, log=log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if server.heartbeat():
                return server
            time.sleep(0.2)
        server.stop()
        last = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"Chroma server did not start within {START_TIMEOUT:.0f}s; log tail:\n{last}")


@contextlib.contextmanager
def chroma_server(path: Path, *, log: Path | None = None) -> Iterator[ChromaServer]:
    server = start_chroma_server(path, log=log)
    try:
        yield server
    finally:
        server.stop()
