"""Fit the confidence model (``bot/answering/confidence.py``: weights and the ``high`` / ``none`` thresholds)
on every dev set at once, and report leave-one-dataset-out figures.

    .venv/bin/python benchmarks/dev_matrix.py --dump /tmp/matrix.jsonl     # features + verdicts
    .venv/bin/python benchmarks/fit_confidence.py /tmp/matrix.jsonl

Rows (from the matrix's dump): every answerable dev question as asked (label: the best-scored
citation's passage holds the gold text, ``top_hit``), the same questions with their gold article
left out of the corpus (label: 0, unless another article holds the gold text too), and seed-dev's
unanswerable questions (label 0); and the matrix's "one-article" rows: questions asked of their
own article alone (label as above) and of one other article alone (label 0), a corpus of one
story. The cosine features' background (``Scale``: a floor under the ranking's spread, the typical
cosine of a question) is measured on the rows asked of the whole stores. A logistic regression
over ``ConfidenceModel.FEATURES`` gives P(correct). Thresholds are chosen on the training rows:

- ``high``: the lowest cut at which every training set × language with at least ``MIN_GROUP``
  answerable questions, as asked and over one article, keeps high-confidence precision >=
  ``--precision`` and gives at most ``--unanswerable-high`` of its unanswerable rows a
  high-confidence answer (0.5% by default: a question the articles do not answer should never be
  answered "high"; at 5% the larger chunks' fit put the cut at 0.79 and answered 1% of
  unanswerable rows "high");
- ``none``: the highest cut at which no such group has more than ``--max-none`` of its
  answerable questions below it ("nothing relevant" must be rare when the answer is there).

The cuts are chosen as if every question could be answered ``high``. The answerer then shows a
question with no term to look for ``low`` at any probability (``ConfidenceModel.level``), which
can only raise each group's high-confidence precision and lower its unanswerable "high" share:
the report tables apply that rule, and a section lists those questions, right and wrong.

Leave-one-dataset-out: the model and thresholds fitted on three sets, applied to the fourth;
those are the figures to expect on text never seen. A feature ablation (LODO log loss with each
feature left out) shows which features carry across sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.answering.confidence import ConfidenceModel, Scale, model_inputs

FEATURES = ConfidenceModel.FEATURES
NO_TERMS = [FEATURES.index(f) for f in ConfidenceModel.NO_TERMS_FEATURES]
RAW = (
    "passage_rel",
    "sentence_rel",
    "margin",
    "spread",
    "sentence_cos",
    "typical",
    "same_script",
    "lexical",
    "passage_lexical",
    "dense_agree",
    "has_terms",
)
MIN_GROUP = 20
# Features ``model_inputs`` computes that the model does not use (the ablation tries adding each).
CANDIDATES = ("passage_z", "sentence_z")
# Conditions the thresholds must hold in besides each set × language as asked: a corpus of one
# article (the dev matrix's "one-article" rows), where a user with a single story lands.
FITTED_PARTS = ("", "one-article")


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        ev = r.get("evidence") or {}
        if not all(f in ev for f in RAW):
            continue  # nothing retrieved: confidence none whatever the model says
        if r["kind"] == "asked" and r["answerable"]:
            if r.get("top_hit") is None:
                continue
            label = float(r["top_hit"])
        else:
            label = float(bool(r.get("gold_elsewhere")))
        part = r.get("part") or ""
        rows.append(
            {
                **r,
                "label": label,
                "group": f"{r['set']}/{r['lang']}" + (f" {part}" if part else ""),
                "raw": {f: float(ev[f]) for f in RAW},
                "has_terms": bool(ev.get("has_terms", 1.0)),
            }
        )
    return rows


def fit_scale(rows: list[dict[str, Any]]) -> Scale:
    """The background of a typical corpus, from the questions asked of the whole dev stores:
    the median spread of their dense rankings, and the typical cosine of a question (to passages
    in its own script, and in another) with its spread across questions."""
    base = [r["raw"] for r in rows if r["kind"] == "asked" and not r.get("part")]
    same = [v["typical"] for v in base if v["same_script"]]
    cross = [v["typical"] for v in base if not v["same_script"]]
    typical_same = float(np.median(same))
    typical_cross = float(np.median(cross)) if cross else typical_same
    deviations = [t - typical_same for t in same] + [t - typical_cross for t in cross]
    return Scale(
        spread_floor=float(np.median([v["spread"] for v in base])),
        typical_same=typical_same,
        typical_cross=typical_cross,
        typical_sd=float(np.std(deviations)) or 1e-3,
    )


def features_of(rows: list[dict[str, Any]], scale: Scale) -> np.ndarray:
    return np.array([[model_inputs(r["raw"], scale)[f] for f in FEATURES] for r in rows])


Model = tuple[np.ndarray, float, np.ndarray, float, Scale]


def fit_model(rows: list[dict[str, Any]]) -> Model:
    """The two weight vectors of ``ConfidenceModel``: over every feature for questions with terms
    to look for, over the cosine features only for those without (fitted on every row, so that
    it learns from all sets, not only the few cross-lingual questions without a known name)."""
    scale = fit_scale(rows)
    x = features_of(rows, scale)
    y = np.array([r["label"] for r in rows])
    has = np.array([r["has_terms"] for r in rows])
    w, b = fit_logistic(x[has], y[has])
    w0, b0 = fit_logistic(x[:, NO_TERMS], y)
    return w, b, w0, b0, scale


def predict(rows: list[dict[str, Any]], model: Model) -> np.ndarray:
    w, b, w0, b0, scale = model
    x = features_of(rows, scale)
    has = np.array([r["has_terms"] for r in rows])
    z = np.where(has, x @ w + b, x[:, NO_TERMS] @ w0 + b0)
    return 1 / (1 + np.exp(-np.clip(z, -50, 50)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on standardised features; weights and bias in the raw feature space."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    zb = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(zb.shape[1])
    reg = l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(zb @ w, -50, 50)))
        grad = zb.T @ (p - y) + reg @ w
        hess = (zb * (p * (1 - p))[:, None]).T @ zb + reg
        w -= np.linalg.solve(hess, grad)
    weights = w[:-1] / sd
    bias = w[-1] - float((w[:-1] * mu / sd).sum())
    return weights, bias


def _groups(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        out[r["group"]].append(i)
    return out


def high_at(row: dict[str, Any], p: float, cut: float) -> bool:
    """Shown ``high`` at this cut: a question with no term to look for never is
    (``ConfidenceModel.level``)."""
    return p >= cut and row["has_terms"]


def without_terms(rows: list[dict[str, Any]], p: np.ndarray, high: float) -> list[str]:
    """Answerable questions with no term to look for that the cut alone would answer ``high``,
    and how often the passage they quote holds the answer, per set; beside those with terms."""
    lines = []
    for g, idx in sorted(_groups(rows).items()):
        ans = [i for i in idx if rows[i]["kind"] == "asked" and rows[i]["answerable"] and p[i] >= high]
        bare = [i for i in ans if not rows[i]["has_terms"]]
        rest = [i for i in ans if rows[i]["has_terms"]]
        if bare:
            right = int(sum(rows[i]["label"] for i in bare))
            prec = np.mean([rows[i]["label"] for i in rest]) if rest else float("nan")
            lines.append(f"{g:<28} without terms {right}/{len(bare)} right; with terms {prec:.3f} of {len(rest)}")
    return lines


def thresholds(rows: list[dict[str, Any]], p: np.ndarray, args: argparse.Namespace) -> tuple[float, float]:
    # The groups the targets are set on: each set × language as asked, and over one article (the
    # "chained" and "switch" variants are reported, not fitted on).
    groups = [
        idx
        for g, idx in _groups(rows).items()
        if (rows[idx[0]].get("part") or "") in FITTED_PARTS
        and not rows[idx[0]].get("follow_up")
        and sum(1 for i in idx if rows[i]["kind"] == "asked" and rows[i]["answerable"]) >= MIN_GROUP
    ]
    cuts = np.unique(np.round(p, 4))
    high = 1.0
    for t in cuts:  # ascending: the lowest cut that holds everywhere
        ok = True
        for idx in groups:
            ans = [i for i in idx if rows[i]["kind"] == "asked" and rows[i]["answerable"]]
            una = [i for i in idx if not (rows[i]["kind"] == "asked" and rows[i]["answerable"])]
            hi = [i for i in ans if p[i] >= t]
            if hi and np.mean([rows[i]["label"] for i in hi]) < args.precision:
                ok = False
                break
            if una and np.mean([p[i] >= t and not rows[i]["label"] for i in una]) > args.unanswerable_high:
                ok = False
                break
        if ok:
            high = float(t)
            break
    none = 0.0
    for t in cuts:
        if t >= high:
            break
        if all(
            np.mean([p[i] < t for i in idx if rows[i]["kind"] == "asked" and rows[i]["answerable"]]) <= args.max_none
            for idx in groups
        ):
            none = float(t)
    return high, none


def report(rows: list[dict[str, Any]], p: np.ndarray, high: float, none: float) -> list[str]:
    lines = []
    head = f"{'group':<28}{'n':>5}{'none':>7}{'high':>7}{'hiPrec':>8}{'cite':>7} | {'unans':>5}{'u:high':>7}{'u:none':>7}"
    lines.append(head)
    for g, idx in sorted(_groups(rows).items()):
        ans = [i for i in idx if rows[i]["kind"] == "asked" and rows[i]["answerable"]]
        una = [i for i in idx if i not in set(ans)]
        hi = [i for i in ans if high_at(rows[i], p[i], high)]

        def f(v: float | None) -> str:
            return "      -" if v is None else f"{v:7.3f}"

        lines.append(
            f"{g:<28}{len(ans):>5}"
            + f(np.mean([p[i] < none for i in ans]) if ans else None)
            + f(np.mean([high_at(rows[i], p[i], high) for i in ans]) if ans else None)
            + " "
            + f(np.mean([rows[i]["label"] for i in hi]) if hi else None)
            # citation hit at any confidence: the shown citation, unless confidence is none
            + f(np.mean([rows[i]["label"] and p[i] >= none for i in ans]) if ans else None)
            + f" | {len(una):>5}"
            + f(np.mean([high_at(rows[i], p[i], high) and not rows[i]["label"] for i in una]) if una else None)
            + f(np.mean([p[i] < none for i in una]) if una else None)
        )
    return lines


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dump", type=Path, help="benchmarks/dev_matrix.py --dump output")
    ap.add_argument("--precision", type=float, default=0.92, help="high-confidence precision to keep per group")
    ap.add_argument("--unanswerable-high", type=float, default=0.005, help="largest share of unanswerable rows answered high")
    ap.add_argument("--max-none", type=float, default=0.01, help="largest share of answerable questions with confidence none")
    args = ap.parse_args()
    rows = load(args.dump)
    sets = sorted({r["set"] for r in rows})
    y = np.array([r["label"] for r in rows])
    print(f"{len(rows)} rows; without terms to look for: {sum(not r['has_terms'] for r in rows)}")

    model = fit_model(rows)
    p = predict(rows, model)
    high, none = thresholds(rows, p, args)
    print("== fitted on all sets (in-sample) ==")
    print("\n".join(report(rows, p, high, none)))
    print("\n== questions with no term to look for, at or above the high cut (shown low) ==")
    print("\n".join(without_terms(rows, p, high)))

    print("\n== leave one dataset out: fitted on the other sets, applied to the one named ==")
    lodo_p = np.zeros(len(rows))
    lodo_cuts: dict[str, tuple[float, float]] = {}
    for held in sets:
        train = [r for r in rows if r["set"] != held]
        fold = fit_model(train)
        cuts = thresholds(train, predict(train, fold), args)
        lodo_cuts[held] = cuts
        test_idx = [i for i, r in enumerate(rows) if r["set"] == held]
        lodo_p[test_idx] = predict([rows[i] for i in test_idx], fold)
        print(f"without {held}: high >= {cuts[0]:.4f}, none < {cuts[1]:.4f}")
    # Each held-out row judged with its own fold's thresholds: map them onto one scale.
    scaled = np.zeros(len(rows))
    for i, r in enumerate(rows):
        hi, no = lodo_cuts[r["set"]]
        scaled[i] = 2.0 if high_at(r, lodo_p[i], hi) else (0.0 if lodo_p[i] < no else 1.0)
    print("\n".join(report(rows, scaled, 1.5, 0.5)))

    print("\n== feature ablation: LODO log loss (lower is better) ==")
    print("   (each shipped feature left out; each candidate feature not shipped added)")
    for change in (None, *FEATURES, *CANDIDATES):
        columns = [f for f in FEATURES if f != change] + ([change] if change in CANDIDATES else [])
        losses = []
        for held in sets:
            tr = np.array([r["set"] != held for r in rows])
            scale = fit_scale([r for r in rows if r["set"] != held])
            x = np.array([[model_inputs(r["raw"], scale)[f] for f in columns] for r in rows])
            wt, bt = fit_logistic(x[tr], y[tr])
            pt = 1 / (1 + np.exp(-np.clip(x[~tr] @ wt + bt, -50, 50)))
            losses.append(log_loss(y[~tr], pt))
        label = "(shipped)" if change is None else (f"with {change}" if change in CANDIDATES else f"without {change}")
        print(f"  {label:<26}" + "  ".join(f"{s}={v:.4f}" for s, v in zip(sets, losses)) + f"  mean={np.mean(losses):.4f}")

    w, b, w0, b0, scale = model
    print("\nDEFAULT_CONFIDENCE = ConfidenceModel(")
    print(f"    bias={b:.4f},")
    print(f"    weights=({', '.join(f'{v:.4f}' for v in w)}),")
    print(f"    bias_no_terms={b0:.4f},")
    print(f"    weights_no_terms=({', '.join(f'{v:.4f}' for v in w0)}),")
    print(f"    high={high:.4f},")
    print(f"    none={none:.4f},")
    print(
        f"    scale=Scale(spread_floor={scale.spread_floor:.5f}, typical_same={scale.typical_same:.4f}, "
        f"typical_cross={scale.typical_cross:.4f}, typical_sd={scale.typical_sd:.5f}),"
    )
    print(")")


if __name__ == "__main__":
    main()
