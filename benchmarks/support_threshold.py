"""Where ``SUPPORT_COSINE`` (bot/citations/grounding.py) comes from: the cosine, passage prompt on both sides,
of a claim restating a sentence (a translation) against two different statements on one topic.

    .venv/bin/python benchmarks/support_threshold.py [--shared ../shared] [--pairs 300]

Data (read from ``../shared/eval``, never copied): MLQA dev asks each question in English and in
Arabic, so

- **same statement**: a question and its translation (``<id>-en`` / ``<id>-ar``);
- **different statements, same topic**: two different questions about the same article, in the
  same language and across languages.

Each is embedded as the grounding check embeds a claim and a sentence (``embed_documents``: the
passage prompt on both sides). Prints the quantiles of both, the cut that separates them best
(balanced accuracy), and how the current ``SUPPORT_COSINE`` does. No figure here is tuned: the
constant is judged, not fitted.
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

from bot.citations.grounding import SUPPORT_COSINE  # noqa: E402
from bot.measure.evaluation import load_questions  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.wiring import App  # noqa: E402


def quantiles(x: np.ndarray) -> str:
    q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    return " ".join(f"{v:.3f}" for v in q) + f"  (n={len(x)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--pairs", type=int, default=300, help="pairs of each kind (sampled, seed 0)")
    args = ap.parse_args()
    path = args.shared / "eval" / "mlqa-dev" / "questions.jsonl"
    if not path.is_file():
        sys.exit(f"skipped: {path} is not there (../shared is test data beside the repo)")
    questions = load_questions(path)
    by_id = {q.id: q for q in questions}
    rng = random.Random(0)

    same = [
        (by_id[i].question, by_id[i[:-3] + "-ar"].question)
        for i in sorted(by_id)
        if i.endswith("-en") and i[:-3] + "-ar" in by_id
    ]
    by_article: dict[str, list] = defaultdict(list)
    for q in questions:
        by_article[q.gold_article or ""].append(q)
    different: dict[str, list[tuple[str, str]]] = {"same language": [], "across languages": []}
    for qs in by_article.values():
        for a in qs:
            for b in qs:
                if a.id[:-3] == b.id[:-3] or a.id >= b.id:
                    continue
                kind = "same language" if a.lang == b.lang else "across languages"
                different[kind].append((a.question, b.question))
    rng.shuffle(same)
    for pairs in different.values():
        rng.shuffle(pairs)
    same = same[: args.pairs]
    different = {k: v[: args.pairs] for k, v in different.items()}

    emb = App(Settings()).embeddings

    def cosines(pairs: list[tuple[str, str]]) -> np.ndarray:
        left = np.asarray(emb.embed_documents([a for a, _ in pairs]))
        right = np.asarray(emb.embed_documents([b for _, b in pairs]))
        return np.sum(left * right, axis=1)

    pos = cosines(same)
    negs = {k: cosines(v) for k, v in different.items()}
    neg = np.concatenate(list(negs.values()))
    print("cosine quantiles 5% 25% 50% 75% 95%")
    print(f"  same statement (translation):        {quantiles(pos)}")
    for k, v in negs.items():
        print(f"  different statements, {k:<16} {quantiles(v)}")
    cuts = np.linspace(0.6, 1.0, 401)
    balanced = [(np.mean(pos >= c) + np.mean(neg < c)) / 2 for c in cuts]
    best = float(cuts[int(np.argmax(balanced))])
    for label, c in (("best cut", best), ("SUPPORT_COSINE", SUPPORT_COSINE)):
        print(
            f"{label:<15} {c:.3f}: same statements supported {np.mean(pos >= c):.3f}, "
            f"different statements supported {np.mean(neg >= c):.3f} "
            f"(same language {np.mean(negs['same language'] >= c):.3f}, "
            f"across {np.mean(negs['across languages'] >= c):.3f})"
        )


if __name__ == "__main__":
    main()
