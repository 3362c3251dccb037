"""Paths of the repository and of the test data beside it, a free port, and a confidence model that
gives every answer one level (``always``): imported by tests and
helpers (``from helpers import ROOT``). They are not in conftest.py: a conftest.py in a folder below
tests/ takes the module name ``conftest`` for itself, so ``from conftest import`` would stop working."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel

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


def always(level: str) -> ConfidenceModel:
    """A confidence model that gives every answer ``level`` (the evidence scores don't matter)."""
    cuts = {"high": (0.5, 0.1), "low": (0.99, 0.1), "none": (0.99, 0.99)}[level]
    return ConfidenceModel(
        bias=0.0,
        weights=tuple(0.0 for _ in ConfidenceModel.FEATURES),
        bias_no_terms=0.0,
        weights_no_terms=tuple(0.0 for _ in ConfidenceModel.NO_TERMS_FEATURES),
        high=cuts[0],
        none=cuts[1],
        scale=DEFAULT_CONFIDENCE.scale,
    )
