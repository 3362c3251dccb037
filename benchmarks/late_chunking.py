"""Sentence vectors pooled from the chunk's pass ("late chunking", ingest/embeddings/sentence_vectors.py)
against the same sentences embedded on their own: which picks the sentence holding the answer?

    .venv/bin/python benchmarks/late_chunking.py [--stores DIR] [--sets arcd,mlqa,coqa] [--limit-per-set 150]

For each answerable, standalone dev question (``../shared/eval``, read, never copied): the chunk of
its gold article that contains the gold text; its sentences as stored (spans and pooled vectors
from the ingest pass), and the same sentences embedded one by one with the passage prompt. Each
way ranks the sentences by cosine to the question's query vector; a hit is a top sentence that
holds the gold (or lies inside it). Prints the hit rate of both per set and language, on the same
questions. Uses the dev stores of ``benchmarks/devsets.py`` (built on first use).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from devsets import add_arguments, loaded_sets  # noqa: E402

from bot.measure.evaluation import contains  # noqa: E402
from ingest.embeddings.sentence_vectors import decode_spans, decode_vectors  # noqa: E402
from ingest.text.sentences import MIN_EVIDENCE_CHARS  # noqa: E402


def top_holds(vectors: np.ndarray, query: np.ndarray, texts: list[str], gold: str) -> bool:
    """Does the sentence nearest the query hold the gold (or lie inside it)?"""
    top = texts[int(np.argmax(vectors @ query))]
    return contains(top, gold) or contains(gold, top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap, sets="arcd,mlqa,coqa")
    ap.add_argument("--limit-per-set", type=int, default=150, help="questions per set (sampled, seed 0)")
    args = ap.parse_args()
    hits: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    for loaded in loaded_sets(args):
        store, emb = loaded.app.store, loaded.app.embeddings
        revisions = store.revisions()
        pool = [q for q in loaded.questions if q.answerable and q.gold and not q.history and q.id in loaded.gold_ids]
        random.Random(0).shuffle(pool)
        for q in pool[: args.limit_per_set]:
            aid = loaded.gold_ids[q.id]
            chunk = next((c for c in store.committed_chunks(aid, revisions.get(aid, "")) if contains(c.text, q.gold)), None)
            if chunk is None or not chunk.metadata.get("sents"):
                continue
            stored = decode_spans(chunk.metadata["sents"])
            pooled = decode_vectors(chunk.metadata["sent_vecs"], count=len(stored))
            keep = [i for i, (s, e) in enumerate(stored) if e - s >= MIN_EVIDENCE_CHARS]
            if len(keep) < 2:
                continue  # one sentence: nothing to choose
            texts = [chunk.text[stored[i][0] : stored[i][1]] for i in keep]
            own = np.asarray(emb.embed_documents(texts))
            query = np.asarray(emb.embed_query(q.question))

            hits[f"{loaded.dev.name}/{q.lang}"].append(
                (
                    top_holds(pooled[keep], query, texts, q.gold),
                    top_holds(own, query, texts, q.gold),
                    top_holds((pooled[keep] + own) / 2, query, texts, q.gold),  # the mean of both cosines
                )
            )
    print(f"{'set':<12}{'n':>5}{'pooled':>9}{'own':>9}{'mean':>9}")
    for group, rows in sorted(hits.items()):
        rates = np.mean(np.array(rows, dtype=float), axis=0)
        print(f"{group:<12}{len(rows):>5}" + "".join(f"{r:>9.3f}" for r in rates))


if __name__ == "__main__":
    main()
