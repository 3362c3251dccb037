"""Start-up with and without the saved keyword index (``bot/retrieval/index_file.py``), in one run.

    .venv/bin/python benchmarks/bench_keyword_index.py [--articles 5000]

Ingests ``--articles`` synthetic articles (two chunks each, the tests' generator) into a fresh
local store with the fake embedder (the keyword index does not depend on the embedder), then
times a retriever's first sync twice: with no index file (everything read from Chroma and
tokenised: what every start cost before) and with the file the first one saved. Prints both and
their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from synthetic import write_corpus  # noqa: E402

from bot.retrieval.hybrid import HybridRetriever  # noqa: E402
from ingest.embeddings.factory import make_embeddings  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from ingest.store.articles import open_store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        emb = make_embeddings("fake", model_dir=base / "models")
        store = open_store(collection="news", embeddings=emb, embedder_id="fake", db=base / "db")
        write_corpus(base / "in", args.articles)
        print(Ingestor(store).ingest_paths([base / "in"]).summary())
        path = base / "keyword-index.npz"

        t = time.perf_counter()
        cold = HybridRetriever(store, emb, index_path=path)
        cold.sync()
        cold_s = time.perf_counter() - t
        for th in threading.enumerate():
            if th.name == "keyword-index-save":
                th.join()

        t = time.perf_counter()
        warm = HybridRetriever(store, emb, index_path=path)
        warm.sync()
        warm_s = time.perf_counter() - t
        assert len(warm.bm25) == len(cold.bm25)
        print(
            f"{len(cold.bm25)} chunks: first sync without the index file {cold_s:.2f} s, "
            f"with it {warm_s:.2f} s ({cold_s / warm_s:.1f}x faster; file {path.stat().st_size / 1e6:.1f} MB)"
        )


if __name__ == "__main__":
    main()
