"""An incremental, thread-safe Okapi BM25 index over (chunk_id, text) pairs.

Kept in memory next to the vector store for hybrid retrieval. Adding or removing a document
costs O(its tokens) and a search costs O(postings of the query terms): nothing is rebuilt per
question, and all statistics are integers, so an index built in any add/remove order scores
exactly like one built fresh from the same documents.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable

from bot.textnorm import tokenize

__all__ = ["BM25Index"]

logger = logging.getLogger(__name__)


class BM25Index:
    """Okapi BM25 with Lucene's non-negative idf: ``ln(1 + (N - df + 0.5) / (df + 0.5))``.

    ``tokenizer`` defaults to :func:`bot.textnorm.tokenize` (normalised, lightly stemmed terms).
    Adding an id that is already indexed replaces its text.
    """

    def __init__(
        self,
        items: Iterable[tuple[str, str]] = (),
        *,
        k1: float = 1.5,
        b: float = 0.75,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self._tokenize = tokenizer
        self._postings: dict[str, dict[str, int]] = {}  # term -> {doc id: term frequency}
        self._doc_terms: dict[str, dict[str, int]] = {}  # doc id -> {term: tf}, for removal
        self._doc_len: dict[str, int] = {}
        self._total_len = 0
        # Re-entrant so a caller's `allowed` callback may query the index (e.g. `in`).
        self._lock = threading.RLock()
        self.add(items)

    # --- mutation ---------------------------------------------------------------------------

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Index ``(id, text)`` pairs; an id already present is replaced."""
        # Tokenise outside the lock: it is the expensive part and needs no shared state.
        prepared = [(doc_id, Counter(self._tokenize(text))) for doc_id, text in items]
        with self._lock:
            for doc_id, tfs in prepared:
                self._remove_one(doc_id)
                self._doc_terms[doc_id] = dict(tfs)
                length = sum(tfs.values())
                self._doc_len[doc_id] = length
                self._total_len += length
                for term, tf in tfs.items():
                    self._postings.setdefault(term, {})[doc_id] = tf

    def remove(self, ids: Iterable[str]) -> None:
        """Forget documents; unknown ids are ignored."""
        with self._lock:
            for doc_id in ids:
                self._remove_one(doc_id)

    def clear(self) -> None:
        with self._lock:
            self._postings.clear()
            self._doc_terms.clear()
            self._doc_len.clear()
            self._total_len = 0

    def _remove_one(self, doc_id: str) -> None:
        terms = self._doc_terms.pop(doc_id, None)
        if terms is None:
            return
        self._total_len -= self._doc_len.pop(doc_id)
        for term in terms:
            posting = self._postings[term]
            del posting[doc_id]
            if not posting:  # keep the vocabulary from growing with deleted documents
                del self._postings[term]

    # --- queries ----------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._doc_len)

    def __contains__(self, doc_id: object) -> bool:
        with self._lock:
            return doc_id in self._doc_len

    def df(self, term: str) -> int:
        """Number of indexed documents containing an already-tokenised term."""
        with self._lock:
            return len(self._postings.get(term, ()))

    def idf(self, term: str) -> float:
        """idf of an already-tokenised term (0 docs -> 0.0)."""
        with self._lock:
            n = len(self._doc_len)
            df = len(self._postings.get(term, ()))
        if n == 0:
            return 0.0
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int, allowed: Callable[[str], bool] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, score)`` pairs for ``query``, best first (ties by id).

        ``allowed`` filters candidates (e.g. a metadata filter) before ranking, so the k
        results are k allowed ones. Documents sharing no term with the query are not returned.
        """
        if k <= 0:
            return []
        # Each distinct query term counts once: repeating a word in a question should not
        # multiply its weight.
        terms = list(dict.fromkeys(self._tokenize(query)))
        with self._lock:
            n = len(self._doc_len)
            if n == 0 or not terms:
                return []
            avgdl = self._total_len / n
            k1, b = self.k1, self.b
            scores: dict[str, float] = {}
            verdict: dict[str, bool] = {}
            for term in terms:
                posting = self._postings.get(term)
                if not posting:
                    continue
                df = len(posting)
                idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
                for doc_id, tf in posting.items():
                    if allowed is not None:
                        ok = verdict.get(doc_id)
                        if ok is None:
                            ok = verdict[doc_id] = bool(allowed(doc_id))
                        if not ok:
                            continue
                    norm = k1 * (1.0 - b + b * self._doc_len[doc_id] / avgdl) if avgdl else k1
                    scores[doc_id] = scores.get(doc_id, 0.0) + idf * tf * (k1 + 1.0) / (tf + norm)
        return heapq.nsmallest(k, scores.items(), key=lambda kv: (-kv[1], kv[0]))
