"""Paths of the repository and of the test data beside it, and a free port: imported by tests and
helpers (``from helpers import ROOT``). They are not in conftest.py: a conftest.py in a folder below
tests/ takes the module name ``conftest`` for itself, so ``from conftest import`` would stop working."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_ARTICLES = SHARED / "articles"
SEED_QUESTIONS = SHARED / "eval" / "seed-dev.jsonl"
ARCD = SHARED / "eval" / "arcd-dev"
SEED = SEED_ARTICLES / "yevkurov-haftar-2024-06-03.txt"  # the one seed article the chain tests ingest

needs_shared = pytest.mark.skipif(not SEED_ARTICLES.is_dir(), reason="../shared (test data) is not beside the repo")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for servers started by tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
