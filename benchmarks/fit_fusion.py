"""Choose the retriever's fusion weights (``bot/retrieval/hybrid.py``: ``W_WORDS``, ``W_NAMES``) on every
dev set at once, with leave-one-dataset-out figures.

    .venv/bin/python benchmarks/fit_fusion.py --dump /tmp/cands.jsonl     # ask the retriever
    .venv/bin/python benchmarks/fit_fusion.py --from /tmp/cands.jsonl     # compare, fit, LODO

The first form asks the shipped retriever (``HybridRetriever.candidates``) every answerable dev
question and records each candidate passage with what each channel said of it and whether it
holds the gold text. The second ranks those candidates offline with the shipped
``bot.retrieval.hybrid.fuse`` under a grid of weights and prints hit@1 / hit@5 per set × language for:
plain dense (cosine only: the baseline no rule may lose to by more than ``--tolerance`` on any
group), the shipped weights, the weights fitted on all sets, and for each set the weights fitted
on the other three (leave-one-dataset-out: the honest estimate for text never seen).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import add_arguments, group_of, loaded_sets

from bot.measure.evaluation import contains
from bot.retrieval.fusion import Candidate, FusionWeights, fuse
from ingest.store.schema import StoredChunk

K = 5
MIN_GROUP = 20
GRID = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2]


def dump(args: argparse.Namespace) -> None:
    with args.dump.open("w", encoding="utf-8") as out:
        for loaded in loaded_sets(args):
            name = loaded.dev.name
            retriever = loaded.app.chain.retriever
            for q in loaded.questions:
                if not q.answerable or not q.gold:
                    continue
                cands = retriever.candidates(q.question)
                rec = {
                    "set": name,
                    "id": q.id,
                    "lang": q.lang,
                    "follow_up": q.follow_up,
                    "cands": [
                        {
                            "id": c.chunk.id,
                            "article": c.chunk.article_id,
                            "dense": c.dense,
                            "relative": c.relative,
                            "words": c.words,
                            "names": c.names,
                            "same_script": c.same_script,
                            "gold": contains(c.chunk.text, q.gold),
                        }
                        for c in cands
                    ],
                }
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            print(f"[{name}] dumped", file=sys.stderr)


def _candidates(rec: dict[str, Any]) -> list[Candidate]:
    out = []
    for c in rec["cands"]:
        chunk = StoredChunk(c["id"], c["article"], "", "", 0, 0, {"gold": c["gold"]})
        out.append(Candidate(chunk, c["dense"], c["relative"], 0.0, c["words"], c["names"], c["same_script"]))
    return out


def hits(ranked: list[Candidate]) -> tuple[bool, bool]:
    gold = [c.chunk.metadata["gold"] for c in ranked[:K]]
    return bool(gold and gold[0]), any(gold)


def group_hits(
    groups: dict[tuple[str, str], list[list[Candidate]]], weights: FusionWeights | None
) -> dict[tuple[str, str], np.ndarray]:
    out = {}
    for g, questions in groups.items():
        h = []
        for cands in questions:
            ranked = (
                sorted(cands, key=lambda c: (-c.dense, c.chunk.id)) if weights is None else [c for c, _ in fuse(cands, weights)]
            )
            h.append(hits(ranked))
        out[g] = np.array(h, dtype=float).mean(0)
    return out


def fit(groups: dict[tuple[str, str], list[list[Candidate]]], tolerance: float) -> FusionWeights:
    """The grid point with the best mean (hit@1 + hit@5) over groups among those losing at most
    ``tolerance`` to dense on every group (else the one whose worst loss is smallest)."""
    dense = group_hits(groups, None)
    best, best_key = FusionWeights(0.0, 0.0), (-1e9, -1e9)
    for ww, wn in itertools.product(GRID, GRID):
        w = FusionWeights(ww, wn)
        h = group_hits(groups, w)
        worst = min(float((h[g] - dense[g]).min()) for g in groups)
        key = (0.0 if worst >= -tolerance else worst, float(np.mean([h[g].sum() for g in groups])))
        if key > best_key:
            best, best_key = w, key
    return best


def evaluate(args: argparse.Namespace) -> None:
    recs = [json.loads(line) for line in args.from_.open(encoding="utf-8")]
    groups: dict[tuple[str, str], list[list[Candidate]]] = defaultdict(list)
    for r in recs:
        groups[group_of(r)].append(_candidates(r))
    # Fitted on standalone questions (follow-ups are asked with their history, see bot/answering/chain.py)
    # of groups large enough to measure a loss of 0.01 (seed-dev's 3-4 per language are not).
    fit_groups = {g: qs for g, qs in groups.items() if not g[1].endswith("follow-up") and len(qs) >= MIN_GROUP}
    sets = sorted({g[0] for g in groups})
    columns: dict[str, dict[tuple[str, str], np.ndarray]] = {
        "dense": group_hits(groups, None),
        "shipped": group_hits(groups, FusionWeights()),
    }
    w_all = fit(fit_groups, args.tolerance)
    print(f"fitted on all sets: {w_all}   shipped: {FusionWeights()}")
    columns["fit all"] = group_hits(groups, w_all)
    lodo: dict[tuple[str, str], np.ndarray] = {}
    for held in sets:
        w = fit({g: qs for g, qs in fit_groups.items() if g[0] != held}, args.tolerance)
        print(f"fitted without {held}: {w}")
        lodo.update(group_hits({g: qs for g, qs in groups.items() if g[0] == held}, w))
    columns["LODO"] = lodo
    print(f"\n{'set/lang':<20}" + "".join(f"{n:>16}" for n in columns))
    print(f"{'':<20}" + "".join(f"{'hit@1 hit@5':>16}" for _ in columns))
    for g in sorted(groups):
        cells = "".join(f"{columns[n][g][0]:>10.3f}{columns[n][g][1]:>6.3f}" for n in columns)
        print(f"{g[0] + '/' + g[1]:<20}{cells}   (n={len(groups[g])})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument("--dump", type=Path, help="ask the retriever and write candidate records here")
    ap.add_argument("--from", dest="from_", type=Path, help="compare and fit fusion weights on these records")
    ap.add_argument("--tolerance", type=float, default=0.01, help="largest loss to dense allowed on any group")
    args = ap.parse_args()
    if args.dump:
        dump(args)
    if args.from_:
        evaluate(args)


if __name__ == "__main__":
    main()
