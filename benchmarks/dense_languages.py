"""The dense channel over a corpus in several languages: one query per language, or one without
a language filter first?

    .venv/bin/python benchmarks/dense_languages.py --db ~/.cache/newsbot/bench/sized-<model>-100000/db \
        --collection bench [--rounds 5]

``HybridRetriever._dense`` (``bot/retrieval/hybrid.py``) gives every language of the corpus its
own ``fetch`` nearest chunks. Chroma answers a query with a ``where`` on the language by filtering
before it searches, which grows with the corpus; this script times, on an existing store (the
bench's sized stores hold English and Arabic), a query without a filter, the same with a language
filter, and the retriever's dense channel as shipped (one unfiltered query for
``WIDE_FETCH_PER_LANGUAGE * fetch`` per language, a filtered query only for a language short of
``fetch`` there), and how much of each language's filtered top ``fetch`` the channel got (the unfiltered search is
approximate). It prints medians in ms and their ratio to the unfiltered query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUESTIONS = [
    "What did the minister say about the harbour budget?",
    "ماذا قال الوزير عن ميزانية الميناء؟",
    "Who won the election in the northern province?",
    "When did the port reopen?",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a newsbot store folder (with chroma.sqlite3)")
    ap.add_argument("--collection", default="bench")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    os.environ.update({"NEWSBOT_DB": str(args.db), "NEWSBOT_COLLECTION": args.collection})

    import numpy as np

    from bot.retrieval.filters import Filters
    from bot.settings import Settings
    from bot.wiring import App
    from ingest.store.schema import ChunkScope

    app = App(Settings())
    retriever = app.chain.retriever
    retriever.sync()
    store = retriever.store
    langs = sorted(retriever._lang_chunks)
    fetch = retriever.fetch_k
    print(f"{len(retriever.bm25)} chunks, languages {retriever._lang_chunks}, fetch {fetch}")
    overlap: list[float] = []
    top1: list[bool] = []
    times: dict[str, list[float]] = {"unfiltered": [], **{f"lang={lang}": [] for lang in langs}, "dense channel": []}
    for q in QUESTIONS:
        qvec = np.asarray(app.query_embeddings.embed_query(q), dtype=np.float32)
        store.query(qvec, fetch)  # Chroma loads its index on the first query
        for _ in range(args.rounds):
            t = time.perf_counter()
            store.query(qvec, fetch)
            times["unfiltered"].append(time.perf_counter() - t)
            for lang in langs:
                t = time.perf_counter()
                store.query(qvec, fetch, replace(ChunkScope(), lang=lang))
                times[f"lang={lang}"].append(time.perf_counter() - t)
            t = time.perf_counter()
            _, by_lang = retriever._dense(qvec, Filters(), fetch)
            times["dense channel"].append(time.perf_counter() - t)
        dense, by_lang = retriever._dense(qvec, Filters(), fetch)
        for lang in langs:
            own = [c.id for c, _ in store.query(qvec, fetch, replace(ChunkScope(), lang=lang))]
            got = [cid for cid, (c, _) in dense.items() if c.metadata.get("lang") == lang]
            overlap.append(len(set(own) & set(got)) / max(len(own), 1))
            top1.append(bool(own) and own[0] in got[:1])
    print(
        f"the channel's top {fetch} per language against the filtered query's: overlap "
        f"{statistics.mean(overlap):.3f}, same first chunk {statistics.mean(top1):.3f} ({len(top1)} rankings)"
    )
    base = statistics.median(times["unfiltered"])
    print(f"\n{'query':<16}{'median ms':>10}{'x unfiltered':>14}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<16}{1000 * med:>10.1f}{med / base:>14.1f}")


if __name__ == "__main__":
    main()
