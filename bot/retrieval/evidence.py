"""How much of a question a sentence or passage covers: idf-weighted shares of its terms (words and name keys), and headings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bot.retrieval.bm25 import BM25Index
from bot.retrieval.names import name_keys
from bot.retrieval.results import Passage
from ingest.chunking import is_heading_line
from ingest.text.textnorm import tokenize


def matched_terms(terms: dict[str, float], text: str) -> frozenset[str]:
    """The ``terms`` that occur in ``text`` (as words or name keys)."""
    present = set(tokenize(text)) | set(name_keys(text))
    return frozenset(t for t in terms if t in present)


def share_of(terms: dict[str, float], matched: Iterable[str]) -> float:
    """idf-weighted share of ``terms`` in ``matched``."""
    total = sum(terms.values())
    return sum(terms[t] for t in set(matched) if t in terms) / total if total else 0.0


def term_overlap(terms: dict[str, float], text: str) -> float:
    """idf-weighted share of ``terms`` that occur in ``text`` (as words or name keys)."""
    return share_of(terms, matched_terms(terms, text))


def is_heading_sentence(passage: Passage, start: int, end: int) -> bool:
    """Is this sentence a whole line shaped like a heading (see ingest.chunking)? Spaces or tabs
    around it on its line don't count (scraped text often ends a line with one)."""
    text = passage.text
    s, e = start - passage.start, end - passage.start
    line_start, line_end = text.rfind("\n", 0, s) + 1, text.find("\n", e)
    rest = text[line_start:s] + text[e : len(text) if line_end < 0 else line_end]
    return not rest.strip(" \t") and is_heading_line(text[s:e])


def term_coverage(index: BM25Index, tokens: Sequence[str]) -> float:
    """idf-weighted share of ``tokens`` the index knows; unknown tokens weigh the most."""
    terms = list(dict.fromkeys(tokens))
    n = len(index)
    if not terms or n == 0:
        return 0.0
    max_idf = math.log(1.0 + (n + 0.5) / 0.5)
    total = known = 0.0
    for t in terms:
        if index.df(t):
            weight = index.idf(t)
            known += weight
        else:
            weight = max_idf
        total += weight
    return known / total if total else 0.0
