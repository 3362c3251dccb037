"""What the latent-term re-ordering across scripts (``extractive.rerank_across_scripts``) costs a
question: the time the chain spends in ``HybridRetriever.latent_similarity`` beside the whole
question's, on a dev set's questions asked once each, in order, in one fresh process (its caches
start cold and fill as questions come back to the same passages, as a server's do).

    .venv/bin/python benchmarks/latent_cost.py --sets mlqa --limit 200

Questions in the articles' own script never ask for latent terms (their rows show 0 ms).
Run it on an otherwise idle machine: the figures are times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import Loaded, add_arguments, loaded_sets

from bot.answering.chain import NewsbotChain


def measure(loaded: Loaded) -> None:
    retriever = loaded.app.chain.retriever
    measured = retriever.latent_similarity
    spent = [0.0]

    def timed(question: str, texts: Sequence[str]) -> list[float] | None:
        t = time.perf_counter()
        try:
            return measured(question, texts)
        finally:
            spent[-1] += time.perf_counter() - t

    retriever.latent_similarity = timed  # type: ignore[method-assign]
    chain = NewsbotChain(retriever)  # its answerer holds the timed function
    chain.invoke("warm up")
    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for q in loaded.questions:
        spent.append(0.0)
        t = time.perf_counter()
        chain.invoke({"question": q.question, "history": q.history})
        rows[q.lang].append((time.perf_counter() - t, spent[-1]))
    for lang, got in sorted(rows.items()):
        total = [a for a, _ in got]
        latent = [b for _, b in got]
        print(
            f"{loaded.dev.name}/{lang}: n={len(got)}  question p50 {statistics.median(total) * 1000:.0f} ms"
            f"  latent terms p50 {statistics.median(latent) * 1000:.0f} ms"
            f"  ({sum(latent) / sum(total):.2f} of all question time)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap, sets="mlqa")
    args = ap.parse_args()
    for loaded in loaded_sets(args):
        measure(loaded)


if __name__ == "__main__":
    main()
