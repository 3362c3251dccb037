"""Choose the extractive answerer's sentence-ranking weights by measurement on dev questions.

Stage 1 retrieves once per question and dumps every candidate sentence with its features
(sentence cosine, word/name overlap, passage rank and cosine) and whether it holds the gold
text. Stage 2 grid-searches the few weights of ``bot.extractive`` offline and prints citation
hit / answer hit per language for the best settings, so the defaults are a measured choice.

    .venv/bin/python benchmarks/tune_evidence.py --db /tmp/nbe5 --dump /tmp/ev.jsonl \\
        ../shared/eval/arcd-dev/questions.jsonl benchmarks/data/arcd-dev-en.jsonl
    .venv/bin/python benchmarks/tune_evidence.py --dump /tmp/ev.jsonl      # grid search only
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.evaluation import answer_hit, contains  # noqa: E402


def dump(args: argparse.Namespace) -> None:
    from benchmarks.calibrate_abstention import load_all
    from bot.settings import Settings
    from bot.wiring import App

    app = App(Settings(db=args.db, embedding=args.embedding))
    retriever = app.chain.retriever
    questions = [q for q in load_all(args.questions) if q.answerable and q.gold]
    with args.dump.open("w", encoding="utf-8") as fh:
        for i, q in enumerate(questions):
            retrieval = retriever.retrieve(q.question, args.passages)
            evidence = retriever.sentence_evidence(retrieval, top_passages=args.passages)
            rows = []
            for ev in evidence:
                rows.append({
                    "dense": ev.dense,
                    "lexical": ev.lexical,
                    "rank": ev.passage.rank,
                    "pdense": ev.passage.dense if ev.passage.dense is not None else 0.0,
                    "start": ev.start,
                    "gold_sentence": contains(ev.text, q.gold),
                    "gold_passage": contains(ev.passage.text, q.gold),
                    "text": ev.text,
                })
            fh.write(json.dumps({"id": q.id, "lang": q.lang, "answers": q.answers, "rows": rows},
                                ensure_ascii=False) + "\n")
            if (i + 1) % 100 == 0:
                print(f"{i + 1}/{len(questions)}", file=sys.stderr)


def evaluate(items: list[dict], lex: float, rank: float, pdense: float, margin: float, max_n: int,
             passages: int) -> dict[str, tuple[float, float]]:
    out: dict[str, list[tuple[bool, bool]]] = {}
    for item in items:
        rows = [r for r in item["rows"] if r["rank"] <= passages]
        if not rows:
            out.setdefault(item["lang"], []).append((False, False))
            continue
        scores = np.array([r["dense"] + lex * r["lexical"] + rank / r["rank"] + pdense * r["pdense"] for r in rows])
        order = np.argsort(-scores)
        chosen = [order[0]]
        for j in order[1:]:
            if len(chosen) >= max_n or scores[j] < scores[order[0]] - margin:
                break
            chosen.append(j)
        cited = any(rows[j]["gold_passage"] for j in chosen)
        answer = " ".join(rows[j]["text"] for j in chosen)
        out.setdefault(item["lang"], []).append((cited, answer_hit(answer, item["answers"])))
    return {lang: (float(np.mean([c for c, _ in v])), float(np.mean([a for _, a in v]))) for lang, v in out.items()}


def search(path: Path) -> None:
    items = [json.loads(line) for line in path.open(encoding="utf-8")]
    grid = itertools.product([0.0, 0.05, 0.1, 0.2], [0.0, 0.01, 0.03], [0.0, 0.3, 0.6], [0.0, 0.01, 0.02, 0.04],
                             [1, 2, 3], [3, 5])
    results = []
    for lex, rank, pdense, margin, max_n, passages in grid:
        res = evaluate(items, lex, rank, pdense, margin, max_n, passages)
        # Both languages count equally; citation and answer hit equally.
        score = float(np.mean([c + a for c, a in res.values()]))
        results.append((score, (lex, rank, pdense, margin, max_n, passages), res))
    results.sort(key=lambda r: -r[0])
    print("lexical rank pdense margin max_sentences passages -> per language (citation_hit, answer_hit)")
    for score, params, res in results[:10]:
        print(params, {k: (round(c, 3), round(a, 3)) for k, (c, a) in sorted(res.items())}, round(score, 4))
    from bot import extractive

    current = (extractive.LEXICAL_WEIGHT, extractive.RANK_WEIGHT, extractive.PASSAGE_WEIGHT,
               extractive.EXTRA_MARGIN, extractive.MAX_SENTENCES, 5)
    res = evaluate(items, *current)
    print("current defaults", current, {k: (round(c, 3), round(a, 3)) for k, (c, a) in sorted(res.items())})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="*", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--embedding", default="e5")
    ap.add_argument("--passages", type=int, default=5)
    ap.add_argument("--dump", type=Path, required=True)
    args = ap.parse_args()
    if args.questions:
        dump(args)
    search(args.dump)


if __name__ == "__main__":
    main()
