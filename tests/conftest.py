"""Shared fixtures: real Chroma in a temp dir, the fake (interpretable) embedder, the real one.

Paths and ``free_port`` are in ``helpers.py`` (``from helpers import ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Nothing in the test suite may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
