"""Fit the extractive answerer's abstention rule on dev questions (leave-article-out).

Every answerable dev question is asked twice over the same corpus: once as is (label: answer),
once with its gold article left out of retrieval (label: abstain — the corpus no longer holds the
answer, but still holds related articles, which is what makes unanswerable questions hard).
The features are those the chain reports in ``result["evidence"]``; a logistic regression
(numpy, no extra dependency) is fitted on them and cross-validated by question.

    .venv/bin/python benchmarks/calibrate_abstention.py --db /tmp/nbdev \\
        ../shared/eval/arcd-dev/questions.jsonl benchmarks/data/arcd-dev-en.jsonl

English question files that carry only ``id``/``question`` are joined with the Arabic file's
gold fields by id. Prints figures and the ``AbstentionModel(...)`` to put in bot/extractive.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.evaluation import Question, load_questions, score_result  # noqa: E402
from bot.extractive import AbstentionModel, AbstentionRule  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.wiring import App  # noqa: E402

FEATURES = AbstentionModel.FEATURES
_YES = AbstentionModel(bias=100.0, weights=tuple(0.0 for _ in FEATURES))
ALWAYS = AbstentionRule(same=_YES, cross=_YES)


def load_all(paths: list[Path]) -> list[Question]:
    by_id: dict[str, Question] = {}
    out: list[Question] = []
    for path in paths:
        for q in load_questions(path):
            base = by_id.get(q.id)
            if base is not None and not q.gold:
                q = Question(q.id + "-" + q.lang, q.question, q.lang, base.answerable, base.answers, base.gold,
                             base.gold_article)
            else:
                by_id.setdefault(q.id, q)
            out.append(q)
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on standardised features; returns weights and bias in the raw feature space."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    zb = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(zb.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-zb @ w))
        grad = zb.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (zb * (p * (1 - p))[:, None]).T @ zb + l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
        w -= np.linalg.solve(hess, grad)
    weights = w[:-1] / sd
    bias = w[-1] - float((w[:-1] * mu / sd).sum())
    return weights, bias


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="*", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--embedding", default="e5")
    ap.add_argument("--limit", type=int, default=0, help="questions per file (0 = all)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--dump", type=Path, help="write the feature rows here (JSONL)")
    ap.add_argument("--refit", type=Path, help="fit again from a --dump file (no questions asked)")
    args = ap.parse_args()
    if args.refit:
        report([json.loads(line) for line in args.refit.open(encoding="utf-8")])
        return

    app = App(Settings(db=args.db, embedding=args.embedding))
    chain = app.chain
    chain.abstention = ALWAYS
    titles = {r.title: r.id for r in app.store.articles()}
    questions = [q for q in load_all(args.questions) if q.answerable and q.gold_article in titles]
    if args.limit:
        rng = random.Random(0)
        by_lang: dict[str, list[Question]] = {}
        for q in questions:
            by_lang.setdefault(q.lang, []).append(q)
        questions = [q for qs in by_lang.values() for q in rng.sample(qs, min(args.limit, len(qs)))]
    rows = []
    t0 = time.time()
    for i, q in enumerate(questions):
        for label, exclude in ((1, ()), (0, (titles[q.gold_article],))):
            result = chain.invoke({"question": q.question, "k": args.k, "filters": {"exclude": exclude}})
            verdict = score_result(q, result) if label else {}
            rows.append({"id": q.id, "lang": q.lang, "label": label, **result["evidence"], **verdict})
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{len(questions)} questions, {time.time() - t0:.0f}s", file=sys.stderr)
    if args.dump:
        with args.dump.open("w") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")

    for lang in sorted({r["lang"] for r in rows}):
        pos = [r for r in rows if r["lang"] == lang and r["label"] == 1]
        print(f"[{lang}] no abstention: citation_hit={np.mean([r['citation_hit'] for r in pos]):.3f} "
              f"answer_hit={np.mean([r['answer_hit'] for r in pos]):.3f} "
              f"retrieval_hit@{args.k}={np.mean([r['retrieval_hit'] for r in pos]):.3f} (n={len(pos)})")

    report(rows)


def report(rows: list[dict]) -> None:
    """Cross-validated accuracy and the fitted models, one per condition (same / cross-lingual)."""
    models = {}
    for cond in (0.0, 1.0):
        sub = [r for r in rows if r.get("cross_lingual", 0.0) == cond]
        name = "cross" if cond else "same"
        if len(sub) < 20:
            print(f"[{name}] too few rows ({len(sub)}) to fit")
            continue
        x = np.array([[r[f] for f in FEATURES] for r in sub])
        y = np.array([r["label"] for r in sub], dtype=float)
        ids = sorted({r["id"] for r in sub})
        random.Random(1).shuffle(ids)
        folds = {qid: i % 5 for i, qid in enumerate(ids)}
        fold = np.array([folds[r["id"]] for r in sub])
        pred = np.zeros(len(sub))
        for f in range(5):
            w, b = fit_logistic(x[fold != f], y[fold != f])
            pred[fold == f] = 1 / (1 + np.exp(-(x[fold == f] @ w + b)))
        langs = np.array([r["lang"] for r in sub])
        for lang in sorted(set(langs)):
            m = langs == lang
            ans = pred[m] >= 0.5
            print(f"[{name}/{lang}] 5-fold CV (n={m.sum()}): accuracy={np.mean(ans == y[m]):.3f} "
                  f"false_abstention={np.mean(~ans[y[m] == 1]):.3f} abstention_accuracy={np.mean(~ans[y[m] == 0]):.3f}")
        w, b = fit_logistic(x, y)
        models[name] = f"AbstentionModel(bias={b:.4f}, weights=({', '.join(f'{v:.4f}' for v in w)}))"
    print("fitted on all rows (features: %s):" % (FEATURES,))
    print("AbstentionRule(")
    for name, text in models.items():
        print(f"    {name}={text},")
    print(")")


if __name__ == "__main__":
    main()
