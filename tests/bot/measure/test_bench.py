"""``newsbot bench`` runs end to end (tiny sizes, the fake embedder) and reports what it promises.

These check the benchmark's plumbing and its JSON, not the figures (they are not timed tests).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from bot.measure.bench.corpus import SyntheticNews
from bot.measure.bench.runner import parse_sizes
from ingest.chunking import chunk_article
from ingest.errors import ConfigError


def _bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update({"NEWSBOT_EMBEDDING": "fake", "NEWSBOT_MODEL_DIR": str(tmp_path / "models"), "PYTHONPATH": str(ROOT)})
    return subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--cache-dir", str(tmp_path / "cache"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_parse_sizes() -> None:
    assert parse_sizes("10000,1000, 100k") == [1000, 10000, 100000]
    for bad in ("", "x", "5"):
        with pytest.raises(ConfigError):
            parse_sizes(bad)


def test_synthetic_news_is_deterministic_and_chunkable() -> None:
    a, b = SyntheticNews(3), SyntheticNews(3)
    assert a.article(7).text == b.article(7).text != a.article(8).text
    article = a.article(7)
    for c in chunk_article(article, size=700, max_size=1000, overlap=1):
        assert article.text[c.start : c.end] == c.text


def test_bench_json_has_the_figures_and_ratios(tmp_path: Path) -> None:
    proc = _bench(tmp_path, "--json", "--sizes", "60,120", "--questions", "5", "--no-serve")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["ingest_ratio"] > 0 and r["ingest"]["ingest_chunks_per_s"] > 0 and r["ingest"]["raw_chunks_per_s"] > 0
    assert r["ingest"]["ingest_peak_rss_mb"] > 0 and r["ingest"]["raw_peak_rss_mb"] > 0
    # The plain LangChain pipeline ran on the same files: all of them stored, a ratio in the same run.
    peer = r["ingest"]["peer"]
    assert peer["articles"] == r["ingest"]["articles"] and peer["chunks"] > 0 and peer["articles_per_s"] > 0
    # Ratios are medians of per-round ratios (each round runs all three, order rotated).
    rounds = r["ingest"]["per_round"]
    assert r["ingest"]["rounds"] == len(rounds) == 3 and all(set(x) == {"raw", "ingest", "peer"} for x in rounds)
    assert r["ingest"]["vs_peer"] == pytest.approx(statistics.median(x["peer"] / x["ingest"] for x in rounds), rel=0.01)
    assert r["ingest_ratio"] == pytest.approx(statistics.median(x["raw"] / x["ingest"] for x in rounds), rel=0.01)
    assert set(r["query_ratio"]) == {"60", "120"}
    for size, s in r["sizes"].items():
        assert s["chunks"] == int(size) and s["questions"] == 5
        assert s["answer_p50_ms"] > 0 and s["baseline_p50_ms"] > 0
        assert s["index_build_s"] > 0 and s["index_load_s"] > 0  # without and with the index file
        assert r["query_ratio"][size] == s["ratio_p50"]
    assert r["serve_rss_mb"] is None and r["first_answer_s"] is None
    assert any("synthetic" in n for n in r["notes"])
    # Second run: the sized stores come from the cache.
    again = _bench(tmp_path, "--sizes", "60", "--questions", "5", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "cached store" in again.stderr
    assert "goal >= 0.85x" in again.stdout and "MB ingesting" in again.stdout and "questions @" in again.stdout
    assert "the plain LangChain pipeline" in again.stdout and "keyword index: built" in again.stdout


@pytest.mark.slow
def test_bench_measures_newsbot_serve(tmp_path: Path) -> None:
    proc = _bench(tmp_path, "--json", "--sizes", "60", "--questions", "5")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["serve_rss_mb"] > 50 and r["first_answer_s"] > 0
    assert r["first_answer_cold_s"] > 0 and r["serve"]["first_answer_warm_s"] == r["first_answer_s"]
    assert r["serve"]["questions"] == 50
    assert r["met"]["serve_rss_mb"] in (True, False)


@pytest.mark.slow
def test_the_peer_runs_the_same_model_as_langchain_users_run_it(e5_embeddings) -> None:
    from bot.measure.bench.runner import PlainSentenceTransformerEmbeddings, plain_embeddings
    from ingest.embeddings.fake import FakeEmbeddings

    peer = plain_embeddings(e5_embeddings)
    assert isinstance(peer, PlainSentenceTransformerEmbeddings) and peer.model is e5_embeddings._model
    texts = ["The port reopened on Monday after the storm.", "أعيد فتح الميناء يوم الاثنين بعد العاصفة."]
    # Same model, same prompts: the same vectors as newsbot's own embedder; only the batching differs.
    ours, theirs = np.asarray(e5_embeddings.embed_documents(texts)), np.asarray(peer.embed_documents(texts))
    assert (ours * theirs).sum(1).min() > 0.99999
    assert float(np.dot(e5_embeddings.embed_query(texts[0]), peer.embed_query(texts[0]))) > 0.99999
    fake = FakeEmbeddings(384)
    assert plain_embeddings(fake) is fake  # not a sentence-transformers embedder: used as it is
