"""The offline answerer: quotes the 1-3 sentences that best answer the question, or abstains.

It never writes a word of its own: every claim is a sentence of an article, so every claim is
supported by construction. What it must get right is *which* sentences, and *when to say
nothing*.

Abstention cannot be a fixed cosine cut: this embedder puts almost every question/sentence pair
of a topic in a narrow band (about 0.73-0.89 on the seed article). The rule is a small logistic
model over relative, scale-free evidence: how far the best sentence stands above the other
candidates, how far the best passage stands above the tail of the dense ranking, whether BM25
and the dense ranking agree, and how much of the question's vocabulary the best sentence holds
(when the question and the corpus share a language). Its weights were fitted by
``benchmarks/calibrate_abstention.py`` on the ARCD dev questions with and without their gold
article in the corpus (leave-article-out makes realistic unanswerable questions); the script
prints the fit and a cross-validated accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.retrieval import Evidence, Retrieval
from bot.textnorm import tokenize

# Sentence ranking: cosine to the question + word/name overlap (+ optional priors for the
# passage's rank and cosine). Chosen by benchmarks/tune_evidence.py on the ARCD dev questions
# (Arabic, and English versions of 157 of them): the priors did not help.
LEXICAL_WEIGHT = 0.05
RANK_WEIGHT = 0.0
PASSAGE_WEIGHT = 0.0
# Further sentences join the best one only when they score almost as well.
EXTRA_MARGIN = 0.04
MAX_SENTENCES = 3


@dataclass(frozen=True)
class AbstentionModel:
    """P(answerable) = sigmoid(bias + w · features)."""

    bias: float
    weights: tuple[float, ...]
    threshold: float = 0.5

    FEATURES = ("top_sentence", "sentence_margin", "passage_margin", "bm25_agree", "overlap", "passage_overlap")

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features[name] for w, name in zip(self.weights, self.FEATURES))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class AbstentionRule:
    """One model for questions in the passages' language, one for cross-lingual questions:
    cross-lingual cosines sit systematically lower (about 0.81 vs 0.88 for the best sentence
    of an answerable question on the ARCD dev set), so one pooled cut would fail both."""

    same: AbstentionModel
    cross: AbstentionModel

    def model(self, features: dict[str, float]) -> AbstentionModel:
        return self.cross if features.get("cross_lingual") else self.same

    def probability(self, features: dict[str, float]) -> float:
        return self.model(features).probability(features)

    def answerable(self, features: dict[str, float]) -> bool:
        return self.probability(features) >= self.model(features).threshold


# Fitted by benchmarks/calibrate_abstention.py (figures in its output and the closing notes).
DEFAULT_ABSTENTION = AbstentionRule(
    same=AbstentionModel(bias=-39.9026, weights=(44.2596, 14.4818, 29.6181, -1.4513, 3.9855, -0.3147)),
    cross=AbstentionModel(bias=-40.7707, weights=(49.8748, -4.9598, 34.8085, -0.0448, 2.9673, -0.6654)),
)


def rank_evidence(evidence: list[Evidence]) -> list[Evidence]:
    for ev in evidence:
        passage = ev.passage.dense if ev.passage.dense is not None else 0.0
        ev.score = (
            ev.dense
            + LEXICAL_WEIGHT * ev.lexical
            + RANK_WEIGHT / max(ev.passage.rank, 1)
            + PASSAGE_WEIGHT * passage
        )
    return sorted(evidence, key=lambda ev: -ev.score)


def abstention_features(retrieval: Retrieval, ranked: list[Evidence]) -> dict[str, float]:
    """Scale-free evidence strength features (see the module docstring)."""
    top = ranked[0]
    others = [ev.score for ev in ranked[1:]]
    median_other = float(np.median(others)) if others else top.score - 0.05
    dense_scores = [p.dense for p in retrieval.passages if p.dense is not None]
    best_dense = max(dense_scores) if dense_scores else top.dense
    # "Same corpus, unrelated" level for this question: the middle of the dense ranking's tail.
    tail_scores = retrieval.dense_scores[5:20]
    tail = float(np.median(tail_scores)) if tail_scores else (min(dense_scores) if dense_scores else best_dense)
    first = retrieval.passages[0] if retrieval.passages else None
    bm25_agree = 1.0 if first is not None and first.bm25 is not None and first.dense is not None else 0.0
    return {
        "top_sentence": top.dense,
        "sentence_margin": top.score - median_other,
        "passage_margin": best_dense - tail,
        "bm25_agree": bm25_agree,
        "overlap": top.lexical,
        "passage_overlap": retrieval.passage_overlap,
        "cross_lingual": 1.0 if retrieval.cross_lingual else 0.0,
    }


def select_sentences(ranked: list[Evidence], max_sentences: int = MAX_SENTENCES) -> list[Evidence]:
    """The best sentence, plus up to two more that score almost as well (no repeats)."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    for ev in ranked[1:]:
        if len(chosen) >= max_sentences or ev.score < ranked[0].score - EXTRA_MARGIN:
            break
        if any(_same_text(ev, c) for c in chosen):
            continue
        chosen.append(ev)
    # Read in article order within a passage, passages in rank order.
    chosen.sort(key=lambda ev: (ev.passage.rank, ev.start))
    return chosen


def _same_text(a: Evidence, b: Evidence) -> bool:
    """Near-duplicates (a paragraph repeated with a word changed) are quoted once."""
    ta, tb = set(tokenize(a.text)), set(tokenize(b.text))
    if not ta or not tb:
        return " ".join(a.text.split()) == " ".join(b.text.split())
    return len(ta & tb) / len(ta | tb) >= 0.8
