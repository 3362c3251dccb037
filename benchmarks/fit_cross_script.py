"""Choose how passages in another script than the question are re-scored by their best sentence
(``bot/retrieval/hybrid.py``: ``CROSS_SCRIPT_SENTENCE_WEIGHT``, ``HybridRetriever.rescore_across_scripts``)
on every dev set at once, with leave-one-dataset-out figures.

    .venv/bin/python benchmarks/fit_cross_script.py            # all sets, plus the mixed store

Every answerable dev question is asked of the shipped retriever; its fused ``--top`` best
passages are recorded with the chunk's cosine, the best cosine of its sentences embedded on their
own, and whether the passage holds the gold text (what ``rescore_across_scripts`` needs). They are then re-ranked offline for each weight
of a grid and scored hit@1 / hit@5 per set × language. Besides each set's own store, ARCD's and
CoQA's questions are also asked of the seed set's store, which mixes Arabic and English articles
(``arcd@seed``, ``coqa@seed``): there a re-scored passage competes with passages in the question's
own script, which the single-language stores never test.

The weight chosen is the one with the best mean hit@1 over the groups that have passages in
another script, among those that cost no group more than ``--tolerance`` hit@1 or hit@5 against
no re-scoring; leave-one-dataset-out repeats the choice without each set's groups.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import DEV_SETS, add_arguments, loaded_sets

from bot.measure.evaluation import contains, load_questions
from bot.retrieval.fusion import fuse
from bot.retrieval.hybrid import CROSS_SCRIPT_RESCORE_TOP, CROSS_SCRIPT_SENTENCE_WEIGHT
from ingest.text.sentences import evidence_spans

GRID = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
MIN_GROUP = 3


def collect(retriever: Any, questions: list[Any], group: str, top: int) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        if not q.answerable or not q.gold or q.history:
            continue
        cands = retriever.candidates(q.question)
        feats = []
        for c, score in fuse(cands, retriever.fusion)[:top]:
            best = c.dense
            if not c.same_script:
                spans = evidence_spans(c.chunk.text)
                if spans:
                    vecs = retriever.sentence_vectors([c.chunk.text[s:e] for s, e in spans])
                    best = float(np.max(vecs @ cands.query_vector))
            feats.append((score, c.dense, best, c.same_script, contains(c.chunk.text, q.gold), c.chunk.id))
        rows.append({"group": f"{group}/{q.lang}", "set": group.split("@")[-1], "cands": feats})
    return rows


def rescored(cands: list[tuple[Any, ...]], weight: float) -> list[tuple[Any, ...]]:
    """``HybridRetriever.rescore_across_scripts`` over the recorded features."""
    gains = [f[2] - f[1] for f in cands if not f[3]]
    if len(gains) < 2 or not weight:
        return cands
    typical = float(np.median(gains))
    return sorted(cands, key=lambda f: (-(f[0] + (0.0 if f[3] else weight * (f[2] - f[1] - typical))), f[5]))


def hits(rows: list[dict[str, Any]], weight: float) -> tuple[float, float]:
    h1 = h5 = 0
    for r in rows:
        order = rescored(r["cands"], weight)
        h1 += bool(order) and order[0][4]
        h5 += any(f[4] for f in order[:5])
    return h1 / len(rows), h5 / len(rows)


def choose(groups: dict[str, list[dict[str, Any]]], tolerance: float) -> float:
    crossing = {g: rs for g, rs in groups.items() if any(not f[3] for r in rs for f in r["cands"])}
    best, best_mean = 0.0, -1.0
    for w in GRID:
        ok = all(
            a >= b - tolerance and c >= d - tolerance
            for rs in groups.values()
            for (a, c), (b, d) in [(hits(rs, w), hits(rs, 0.0))]
        )
        mean = float(np.mean([hits(rs, w)[0] for rs in crossing.values()])) if crossing else 0.0
        if ok and mean > best_mean + 1e-9:
            best, best_mean = w, mean
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument("--top", type=int, default=CROSS_SCRIPT_RESCORE_TOP, help="fused passages re-scored")
    ap.add_argument("--tolerance", type=float, default=0.01, help="largest hit@1/hit@5 loss allowed on any group")
    args = ap.parse_args()

    rows: list[dict[str, Any]] = []
    for loaded in loaded_sets(args):
        retriever = loaded.app.chain.retriever
        rows += collect(retriever, loaded.questions, loaded.dev.name, args.top)
        if loaded.dev.name == "seed":
            # The mixed store: other sets' questions among Arabic and English articles.
            for other in ("arcd", "coqa"):
                for qfile in DEV_SETS[other].questions:
                    if (args.shared / qfile).exists():
                        rows += collect(retriever, load_questions(args.shared / qfile), f"{other}@seed", args.top)
        print(f"[{loaded.dev.name}] {len(rows)} questions so far", file=sys.stderr, flush=True)

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    groups = {g: rs for g, rs in sorted(groups.items()) if len(rs) >= MIN_GROUP}

    print(f"{'group':<16}{'n':>5}{'cross':>7}  " + "  ".join(f"w={w:<11}" for w in GRID))
    for g, rs in groups.items():
        cross = np.mean([not f[3] for r in rs for f in r["cands"]])
        cells = "  ".join(f"{a:.3f}/{b:.3f}  " for a, b in (hits(rs, w) for w in GRID))
        print(f"{g:<16}{len(rs):>5}{cross:>7.2f}  {cells}")
    print("(each cell: hit@1/hit@5)")

    chosen = choose(groups, args.tolerance)
    print(f"\nchosen on every set: {chosen} (shipped: {CROSS_SCRIPT_SENTENCE_WEIGHT})")
    print("leave one dataset out: the weight chosen without the set, and the set's hit@1/hit@5 with it")
    for held in sorted({r["set"] for r in rows}):
        w = choose({g: rs for g, rs in groups.items() if rs[0]["set"] != held}, args.tolerance)
        for g, rs in groups.items():
            if rs[0]["set"] == held:
                a, b = hits(rs, w)
                a0, b0 = hits(rs, 0.0)
                print(f"  without {held:<5} w={w:<5} {g:<16} {a:.3f}/{b:.3f}  (no re-scoring {a0:.3f}/{b0:.3f})")


if __name__ == "__main__":
    main()
