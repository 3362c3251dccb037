"""Fit the extractive answerer's abstention rule on dev questions (leave-article-out).

Every answerable dev question is asked up to three times over the same corpus: as is (label:
answer); with its gold article left out of retrieval (label: abstain — the corpus no longer holds
the answer, but still holds related articles); and with only the gold article's chunks that hold
the gold text left out (label: abstain, kind "passage" — the topic is still in the corpus, the
fact is not: "the articles know Haftar but not his birth date"). The shipped rule is fitted on
the first two; the third is reported, to show how often it catches the harder kind.
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

from bot.evaluation import Question, contains, load_questions, score_result  # noqa: E402
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


def _gold_chunks(app: App, titles: dict[str, str], questions: list[Question]) -> dict[str, tuple[str, ...]]:
    """For each question, the committed chunks of its gold article that hold the gold text:
    leaving them out keeps the article's topic in the corpus but takes the fact away (the
    "the articles know X but not X's birth date" kind of unanswerable question)."""
    revisions = app.store.revisions()
    out: dict[str, tuple[str, ...]] = {}
    by_article: dict[str, list] = {}
    for q in questions:
        aid = titles[q.gold_article]
        if aid not in by_article:
            by_article[aid] = app.store.committed_chunks(aid, revisions[aid])
        out[q.id] = tuple(c.id for c in by_article[aid] if contains(c.text, q.gold))
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
    gold_chunks = _gold_chunks(app, titles, questions)
    rows = []
    t0 = time.time()
    for i, q in enumerate(questions):
        asks = [(1, "answerable", {}), (0, "article", {"exclude": (titles[q.gold_article],)})]
        if gold_chunks.get(q.id):
            asks.append((0, "passage", {"exclude_chunks": gold_chunks[q.id]}))
        for label, kind, filters in asks:
            result = chain.invoke({"question": q.question, "k": args.k, "filters": filters})
            verdict = score_result(q, result) if label else {}
            rows.append({"id": q.id, "lang": q.lang, "label": label, "kind": kind, **result["evidence"], **verdict})
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
    """The shipped rule's figures on these rows, then cross-validated accuracy and the fitted
    models, one per condition (same / cross-lingual)."""
    from bot.extractive import DEFAULT_ABSTENTION

    for cond, name in ((0.0, "same"), (1.0, "cross")):
        sub = [r for r in rows if r.get("cross_lingual", 0.0) == cond]
        if not sub:
            continue
        line = f"[{name}] shipped rule:"
        for kind in ("answerable", "article", "passage"):
            rs = [r for r in sub if r.get("kind", "answerable" if r["label"] else "article") == kind]
            if rs:
                answered = np.mean([DEFAULT_ABSTENTION.answerable(r) for r in rs])
                line += f" {kind} (n={len(rs)}) " + (f"false_abstention={1 - answered:.3f}" if kind == "answerable"
                                                     else f"abstention_accuracy={1 - answered:.3f}")
        print(line)
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
        kinds = np.array([r.get("kind", "article" if not r["label"] else "answerable") for r in sub])
        train = kinds != "passage"  # fitted on answerable vs left-out article; "passage" only reported
        pred = np.zeros(len(sub))
        for f in range(5):
            w, b = fit_logistic(x[(fold != f) & train], y[(fold != f) & train])
            pred[fold == f] = 1 / (1 + np.exp(-(x[fold == f] @ w + b)))
        for kind in sorted(set(kinds) - {"answerable"}):
            m = kinds == kind
            print(f"[{name}] 5-fold CV, left-out {kind} (n={m.sum()}): abstention_accuracy={np.mean(pred[m] < 0.5):.3f}")
        langs = np.array([r["lang"] for r in sub])
        for lang in sorted(set(langs)):
            m = (langs == lang) & train
            ans = pred[m] >= 0.5
            print(f"[{name}/{lang}] 5-fold CV (n={m.sum()}): accuracy={np.mean(ans == y[m]):.3f} "
                  f"false_abstention={np.mean(~ans[y[m] == 1]):.3f} abstention_accuracy={np.mean(~ans[y[m] == 0]):.3f}")
        w, b = fit_logistic(x[train], y[train])
        models[name] = f"AbstentionModel(bias={b:.4f}, weights=({', '.join(f'{v:.4f}' for v in w)}))"
    print("fitted on the answerable and left-out-article rows (features: %s):" % (FEATURES,))
    print("AbstentionRule(")
    for name, text in models.items():
        print(f"    {name}={text},")
    print(")")


if __name__ == "__main__":
    main()
