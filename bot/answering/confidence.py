"""How sure the extractive answer is: ``high``, ``low`` or ``none``.

- **high**: the quoted sentence very likely holds the answer: it is quoted as the answer.
- **low**: something relevant was found but the evidence is weak: the answer says so (a hedge in
  the question's language) and shows the closest sentence with its citation.
- **none**: nothing relevant was retrieved: "The articles don't say."

One small logistic model estimates P(the quoted sentence's passage holds the answer) from
evidence features that mean the same in every language and corpus, large or of one article
(:func:`features`): the best sentence's cosine against the typical cosine of a question to text
in that script, its margin over the other sentences in units of the dense ranking's spread (never
below a floor: a one-article corpus has almost none), and term overlaps as shares. Two thresholds cut it into the three
levels. The weights and both thresholds are fitted by ``benchmarks/fit_confidence.py`` on the
four dev sets at once (answerable questions, and the same questions with their article left out
of the corpus); its output has the leave-one-dataset-out figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.retrieval.results import Evidence, Retrieval

Confidence = Literal["high", "low", "none"]

# Ranks of the dense ranking below which its spread is measured (the background, not the hits).
SPREAD_FROM_RANK = 5


@dataclass(frozen=True)
class Scale:
    """What the cosine features are measured against.

    In a large corpus the question's own dense ranking is the background: cosines are taken
    relative to its typical one and divided by its spread. A corpus of one or a few articles has
    no background (every passage is about the same story: the spread is tiny and any passage
    looks far above it), so the spread is never taken below ``spread_floor``, and the best
    sentence's cosine is also measured against the typical cosine of questions in general
    (``typical_same`` / ``typical_cross``: passage in the question's script or in another),
    in units of ``typical_sd``. All four are fitted with the model.
    """

    spread_floor: float
    typical_same: float
    typical_cross: float
    typical_sd: float


@dataclass(frozen=True)
class ConfidenceModel:
    """P(correct) = sigmoid(bias + w · features); ``high`` at or above ``high``, ``none`` below
    ``none``, ``low`` between.

    A question with no term to look for in the passages (an English question over Arabic text
    with no name the corpus knows) has no term-overlap evidence at all, rather than evidence of
    absence: it is scored by a second weight vector over the cosine features only
    (``bias_no_terms``, ``weights_no_terms``, in :data:`NO_TERMS_FEATURES` order), which decides
    between ``low`` and ``none``; such a question is never ``high`` (:meth:`level`).
    """

    bias: float
    weights: tuple[float, ...]
    bias_no_terms: float
    weights_no_terms: tuple[float, ...]
    high: float
    none: float
    scale: Scale

    # Chosen by the feature ablation of benchmarks/fit_confidence.py: the best sentence's cosine
    # relative to its own ranking (divided by the spread) helped on one set at most once the
    # cosine against questions in general (sentence_abs) was there, and is left out.
    FEATURES = ("sentence_margin", "sentence_abs", "lexical", "passage_lexical", "dense_agree")
    NO_TERMS_FEATURES = ("sentence_margin", "sentence_abs", "dense_agree")

    def probability(self, features: dict[str, float]) -> float:
        if features.get("has_terms", 1.0):
            z = self.bias + sum(w * features[name] for w, name in zip(self.weights, self.FEATURES))
        else:
            z = self.bias_no_terms + sum(w * features[name] for w, name in zip(self.weights_no_terms, self.NO_TERMS_FEATURES))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def level(self, p: float, *, has_terms: bool = True) -> Confidence:
        """The level for probability ``p``; never ``high`` for a question with no term to look for.

        Without a word or name of the question in the passages, the cosines say the sentence is
        about the topic, not that it answers. On the dev matrix's dump the cut alone would answer
        such questions ``high`` 9 times, 5 of them citing the gold passage (coqa-news-dev 1 of 2,
        mlqa-dev's English questions 4 of 7), where questions with terms cite it 0.92-1.00 of the
        time on every set (``benchmarks/fit_confidence.py`` prints both). No constant is fitted:
        their best sentence is shown ``low``, hedged, and the cuts stay as fitted.
        """
        if p < self.none:
            return "none"
        return "high" if p >= self.high and has_terms else "low"


# Fitted by benchmarks/fit_confidence.py on the dump of benchmarks/dev_matrix.py over arcd-dev,
# mlqa-dev (en + ar), coqa-news-dev and seed-dev (answerable questions, the same with their
# article left out, and both over a corpus of one article): high-confidence precision >= 0.92,
# at most 0.5% of unanswerable rows "high" and at most 1% of answerable questions "none" on each
# set and language of the fit, as asked and over one article; its output has the
# leave-one-dataset-out figures and the feature ablation. Refitted with the same features when
# chunks grew to 1,000 characters (ingest.chunking.CHUNK_SIZE): a passage holds the answer more
# often, so the same evidence earns more trust. Refitted again when the sentence ranking's passage
# weight fell to 0.1 (bot.answering.extractive.W_PASSAGE): the margins between sentences shrank.
DEFAULT_CONFIDENCE = ConfidenceModel(
    bias=-3.9119,
    weights=(0.1254, 0.4779, 2.6150, -1.1461, 0.4660),
    bias_no_terms=-3.6770,
    weights_no_terms=(0.1989, 0.4266, 0.3703),
    high=0.9660,
    none=0.0190,
    scale=Scale(spread_floor=0.00630, typical_same=0.7957, typical_cross=0.7398, typical_sd=0.01416),
)


def measurements(retrieval: Retrieval, ranked: list[Evidence]) -> dict[str, float]:
    """What the confidence features are made of, for the best sentence (``ranked[0]``)."""
    top = ranked[0]
    tail = retrieval.dense_scores[SPREAD_FROM_RANK:]
    others = [ev.score for ev in ranked[1:]]
    passages = retrieval.passages
    dense_best = max(passages, key=lambda p: p.dense if p.dense is not None else -1.0) if passages else None
    return {
        "passage_rel": passages[0].relative if passages else top.relative,
        "sentence_rel": top.relative,
        "margin": top.score - float(np.median(others)) if others else 0.0,
        "spread": float(np.std(tail)) if len(tail) >= 2 else 0.0,
        "sentence_cos": top.dense,
        "typical": top.dense - top.relative,  # the question's typical cosine in that language
        "same_script": 1.0 if top.passage.same_script else 0.0,
        "lexical": top.lexical,
        "passage_lexical": retrieval.passage_overlap,
        "dense_agree": 1.0 if dense_best is not None and dense_best.chunk_id == top.passage.chunk_id else 0.0,
        "has_terms": 1.0 if any(top.terms.values()) else 0.0,
    }


def model_inputs(raw: dict[str, float], scale: Scale) -> dict[str, float]:
    """The model's scale-free features from :func:`measurements`."""
    spread = max(raw["spread"], scale.spread_floor)
    typical = scale.typical_same if raw["same_script"] else scale.typical_cross
    return {
        "passage_z": raw["passage_rel"] / spread,
        "sentence_z": raw["sentence_rel"] / spread,
        "sentence_margin": raw["margin"] / spread,
        "sentence_abs": (raw["sentence_cos"] - typical) / scale.typical_sd,
        "lexical": raw["lexical"],
        "passage_lexical": raw["passage_lexical"],
        "dense_agree": raw["dense_agree"],
        "has_terms": raw["has_terms"],
    }


def features(retrieval: Retrieval, ranked: list[Evidence], scale: Scale = DEFAULT_CONFIDENCE.scale) -> dict[str, float]:
    """Scale-free evidence features of the best sentence and its retrieval, with the raw
    measurements they come from (the fitting script recomputes the features from those)."""
    raw = measurements(retrieval, ranked)
    return {**raw, **model_inputs(raw, scale)}
