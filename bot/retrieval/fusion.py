"""Fusing the dense and keyword channels into one ranking of candidate passages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest.store.schema import StoredChunk

# Fusion weights (see :func:`fuse`). Chosen by benchmarks/fit_fusion.py on the four dev sets of
# ../shared/eval (arcd, mlqa en+ar, coqa, seed) at once; its output gives the leave-one-set-out
# figures. Neither channel may cost any set or language more than 0.01 hit@1 or hit@5 against
# plain dense retrieval.
W_WORDS = 0.08
W_NAMES = 0.04
# The "typical" cosine of a question in a language: the median of its dense ranking from this
# rank on (the few best are the candidates themselves, not the background).
TYPICAL_FROM_RANK = 5


@dataclass(frozen=True)
class FusionWeights:
    words: float = W_WORDS
    names: float = W_NAMES
    conversation: float = 0.0  # head start of passages in the conversation's articles (bot/answering/chain.py)


@dataclass
class Candidate:
    """A passage proposed by some channel, with what every channel says of it."""

    chunk: StoredChunk
    dense: float  # cosine to the question
    relative: float  # cosine minus the question's typical cosine in the passage's language
    bm25: float  # raw BM25 score over words (0: not among BM25's best)
    words: float  # BM25 / the question's best BM25, times the corpus' coverage of its words
    names: float  # idf-weighted share of the question's (corpus-known) name keys it holds
    same_script: bool  # written in the question's script
    prior: bool = False  # in an article the conversation was about


@dataclass
class CandidateSet:
    question: str
    query_vector: np.ndarray
    items: list[Candidate]
    dense_scores: list[float] = field(default_factory=list)  # cosines of the dense ranking(s), best first

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.items)


def fuse(cands: Iterable[Candidate], weights: FusionWeights = FusionWeights()) -> list[tuple[Candidate, float]]:
    """Rank candidates: relative cosine, plus BM25 for passages in the question's script (an
    English word matching an English article says nothing about an Arabic one), plus the share of
    the question's names for passages in another script (Haftar ↔ حفتر). Both lexical terms are
    0..1 per question, so the weights mean the same in every corpus and language."""
    scored = [
        (
            c,
            c.relative + (weights.words * c.words if c.same_script else weights.names * c.names) + weights.conversation * c.prior,
        )
        for c in cands
    ]
    scored.sort(key=lambda cs: (-cs[1], cs[0].chunk.id))
    return scored


def typical_cosine(scores: Sequence[float]) -> float:
    tail = scores[TYPICAL_FROM_RANK:] or scores[-1:]
    return float(np.median(tail))
