"""What the bench measures on the machine: wall time, resident memory (also its peak, sampled), free ports for the servers it starts."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def ms(values: Sequence[float], percent: float) -> float:
    """A percentile of durations in seconds, in milliseconds."""
    return round(float(np.percentile(values, percent)) * 1000, 1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int, field: str = "VmHWM") -> float | None:
    """Peak (``VmHWM``) or current (``VmRSS``) resident set size of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


class PeakRSS:
    """This process's highest resident set size while the block runs (sampled every 20 ms), so
    each phase of one process gets its own peak (``VmHWM`` only ever grows)."""

    def __enter__(self) -> PeakRSS:
        import threading

        self.peak_mb = rss_mb(os.getpid(), "VmRSS") or 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_mb = max(self.peak_mb, rss_mb(os.getpid(), "VmRSS") or 0.0)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb(os.getpid(), "VmRSS") or 0.0)


def wait_for_index_saves() -> None:
    """Let the thread that writes the keyword index file finish (bot/retrieval/hybrid.py)."""
    import threading

    for th in threading.enumerate():
        if th.name == "keyword-index-save":
            th.join()
