"""How sure the extractive answer is: ``high``, ``low`` or ``none``.

- **high**: the quoted sentence very likely holds the answer: it is quoted as the answer.
- **low**: something relevant was found but the evidence is weak: the answer says so (a hedge in
  the question's language) and shows the closest sentence with its citation.
- **none**: nothing relevant was retrieved: "The articles don't say."

One small logistic model estimates P(the quoted sentence's passage holds the answer) from
evidence features that mean the same in every language and corpus (:func:`features`): cosines are
taken relative to the question's typical cosine in the passage's language and divided by the
spread of the dense ranking, term overlaps are shares. Two thresholds cut it into the three
levels. The weights and both thresholds are fitted by ``benchmarks/fit_confidence.py`` on the
four dev sets at once (answerable questions, and the same questions with their article left out
of the corpus); its output has the leave-one-dataset-out figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.retrieval import Evidence, Retrieval

Confidence = Literal["high", "low", "none"]

# Ranks of the dense ranking below which its spread is measured (the background, not the hits).
SPREAD_FROM_RANK = 5
MIN_SPREAD = 1e-3


@dataclass(frozen=True)
class ConfidenceModel:
    """P(correct) = sigmoid(bias + w · features); ``high`` at or above ``high``, ``none`` below
    ``none``, ``low`` between.

    A question with no term to look for in the passages (an English question over Arabic text
    with no name the corpus knows) has no term-overlap evidence at all, rather than evidence of
    absence: it is scored by a second weight vector over the cosine features only
    (``bias_no_terms``, ``weights_no_terms``, in :data:`NO_TERMS_FEATURES` order).
    """

    bias: float
    weights: tuple[float, ...]
    bias_no_terms: float
    weights_no_terms: tuple[float, ...]
    high: float
    none: float

    FEATURES = ("passage_z", "sentence_z", "sentence_margin", "lexical", "passage_lexical", "dense_agree")
    NO_TERMS_FEATURES = ("passage_z", "sentence_z", "sentence_margin", "dense_agree")

    def probability(self, features: dict[str, float]) -> float:
        if features.get("has_terms", 1.0):
            z = self.bias + sum(w * features[name] for w, name in zip(self.weights, self.FEATURES))
        else:
            z = self.bias_no_terms + sum(
                w * features[name] for w, name in zip(self.weights_no_terms, self.NO_TERMS_FEATURES)
            )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def level(self, p: float) -> Confidence:
        return "high" if p >= self.high else "none" if p < self.none else "low"


# Fitted by benchmarks/fit_confidence.py on the dump of benchmarks/dev_matrix.py over arcd-dev,
# mlqa-dev (en + ar), coqa-news-dev and seed-dev (answerable questions, and the same with their
# article left out): high-confidence precision >= 0.92 and at most 1% of answerable questions
# "none" on each set and language of the fit; its output has the leave-one-dataset-out figures.
DEFAULT_CONFIDENCE = ConfidenceModel(
    bias=-3.5049,
    weights=(0.1059, 0.1277, -0.0235, 4.1335, -1.0860, 0.3555),
    bias_no_terms=-2.1195,
    weights_no_terms=(0.1757, -0.0182, 0.0651, -0.1385),
    high=0.9385,
    none=0.0560,
)


def features(retrieval: Retrieval, ranked: list[Evidence]) -> dict[str, float]:
    """Scale-free evidence features of the best sentence (``ranked[0]``) and its retrieval."""
    top = ranked[0]
    tail = retrieval.dense_scores[SPREAD_FROM_RANK:]
    spread = max(float(np.std(tail)) if len(tail) >= 2 else 0.0, MIN_SPREAD)
    others = [ev.score for ev in ranked[1:]]
    margin = top.score - float(np.median(others)) if others else 0.0
    passages = retrieval.passages
    dense_best = max(passages, key=lambda p: p.dense if p.dense is not None else -1.0) if passages else None
    return {
        "passage_z": (passages[0].relative if passages else top.relative) / spread,
        "sentence_z": top.relative / spread,
        "sentence_margin": margin / spread,
        "lexical": top.lexical,
        "passage_lexical": retrieval.passage_overlap,
        "dense_agree": 1.0 if dense_best is not None and dense_best.chunk_id == top.passage.chunk_id else 0.0,
        "has_terms": 1.0 if any(top.terms.values()) else 0.0,
    }
