"""What retrieval hands on: passages, the sentence evidence in them, and one question's retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Passage:
    """A retrieved chunk with its scores."""

    chunk_id: str
    article_id: str
    text: str
    start: int  # offsets of the chunk in the article text
    end: int
    meta: dict[str, Any]
    score: float = 0.0  # fused (RRF)
    dense: float | None = None  # cosine similarity to the question
    bm25: float | None = None
    rank: int = 0
    relative: float = 0.0  # dense minus the question's typical cosine in the passage's language
    same_script: bool = True  # written in the question's script

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))


@dataclass
class Evidence:
    """A sentence of a retrieved passage, scored against the question."""

    passage: Passage
    start: int  # offsets in the ARTICLE text
    end: int
    text: str
    dense: float
    lexical: float
    relative: float = 0.0  # dense minus the question's typical cosine in the passage's language
    score: float = 0.0
    # The question's terms that count over this passage (idf-weighted; shared, not copied) and
    # those the sentence holds: ``lexical`` is the weighted share of ``terms`` in ``matched``.
    terms: dict[str, float] = field(default_factory=dict)
    matched: frozenset[str] = frozenset()


@dataclass
class Retrieval:
    question: str
    passages: list[Passage]
    query_vector: np.ndarray
    dense_scores: list[float] = field(default_factory=list)  # cosines of the whole dense ranking
    passage_overlap: float = 0.0  # share of the question's terms found in the top passages
    evidence: list[Evidence] = field(default_factory=list)
    # Set by the chain: what was searched (an LLM may condense a follow-up) and with what context.
    search_question: str = ""
    conversation: Any = None
    prior_articles: tuple[str, ...] = ()
