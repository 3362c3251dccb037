"""Shared fixtures: real Chroma in a temp dir, the fake (interpretable) embedder, paths."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_ARTICLES = SHARED / "articles"
SEED_QUESTIONS = SHARED / "eval" / "seed-dev.jsonl"
ARCD = SHARED / "eval" / "arcd-dev"
SEED = SEED_ARTICLES / "yevkurov-haftar-2024-06-03.txt"  # the one seed article the chain tests ingest

# Nothing in the test suite may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

needs_shared = pytest.mark.skipif(not SEED_ARTICLES.is_dir(), reason="../shared (test data) is not beside the repo")


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """Where converted embedding models are cached: the user's cache, so CI converts once per machine."""
    from bot.settings import Settings

    return Settings().model_dir


@pytest.fixture
def fake_embeddings(tmp_path: Path):
    from ingest.embeddings.factory import make_embeddings

    return make_embeddings("fake", model_dir=tmp_path / "models")


@pytest.fixture
def store(tmp_path: Path, fake_embeddings):
    from ingest.store.articles import open_store

    return open_store(collection="test", embeddings=fake_embeddings, embedder_id="fake", db=tmp_path / "db")


@pytest.fixture(scope="session")
def e5_embeddings(model_dir: Path):
    """The real bundled embedder (converted once per machine, then loaded from the cache)."""
    from ingest.embeddings.factory import make_embeddings

    return make_embeddings("e5", model_dir=model_dir)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for servers started by tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
