"""Hybrid retrieval: dense (Chroma, multilingual embedder) fused with BM25, then sentence evidence.

- Dense retrieval finds passages across languages (an English question, an Arabic article).
- BM25 over Arabic-aware tokens (``bot.textnorm``) rewards exact names and rare words. Its weight
  in the fusion scales with how much of the question the corpus vocabulary covers: an English
  question over Arabic articles shares no terms with them, and BM25 noise must not push good dense
  hits down.
- Reciprocal rank fusion combines the two rankings.
- Sentence evidence: the sentences of the top passages are scored against the question
  (embedder cosine + idf-weighted lexical overlap), so an answer points at sentences, not chunks.

The BM25 index is built once from the stored chunks and kept in step with the store through its
``generation`` token: when it changes, only the articles whose revision changed are re-read.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.bm25 import BM25Index
from bot.names import name_keys
from bot.textnorm import tokenize
from ingest.sentence_vectors import decode_spans, decode_vectors
from ingest.sentences import MIN_EVIDENCE_CHARS, evidence_spans
from ingest.chunking import is_heading_line
from ingest.errors import NewsbotError
from ingest.store import ArticleStore, StoredChunk, date_ordinal

logger = logging.getLogger(__name__)

RRF_K = 60


class InvalidFilter(NewsbotError):
    """A retrieval filter that cannot be applied (e.g. an unreadable date)."""


@dataclass
class Filters:
    """Restrict retrieval to an article, a source, or a date range (ISO dates, inclusive)."""

    article_id: str | None = None
    source: str | None = None
    since: str | None = None
    until: str | None = None
    exclude: tuple[str, ...] = ()  # article ids to leave out (evaluation: leave-article-out)
    exclude_chunks: tuple[str, ...] = ()  # chunk ids to leave out (calibration: leave-passage-out)

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value and date_ordinal(value) is None:
                raise InvalidFilter(f"--{name} {value!r}: expected a date like 2024-06-03, 2024-06 or 2024")
        # Parsed once: ``accepts`` runs for every BM25 candidate of a filtered question.
        self._lo = date_ordinal(self.since)
        self._hi = date_ordinal(self.until, end=True)

    def is_empty(self) -> bool:
        return not (self.article_id or self.source or self.since or self.until or self.exclude or self.exclude_chunks)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.article_id:
            clauses.append({"article_id": self.article_id})
        if self.source:
            clauses.append({"source": self.source})
        if self.exclude:
            clauses.append({"article_id": {"$nin": list(self.exclude)}})
        lo, hi = self._lo, self._hi
        if lo is not None:
            clauses.append({"date_ord": {"$gte": lo}})
        if hi is not None:
            clauses.append({"date_ord": {"$lte": hi}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any]) -> bool:
        if self.article_id and meta.get("article_id") != self.article_id:
            return False
        if self.source and meta.get("source") != self.source:
            return False
        if self.exclude and meta.get("article_id") in self.exclude:
            return False
        lo, hi = self._lo, self._hi
        if lo is not None or hi is not None:
            ordinal = meta.get("date_ord")
            if ordinal is None:
                return False
            if lo is not None and ordinal < lo:
                return False
            if hi is not None and ordinal > hi:
                return False
        return True


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

    @property
    def title(self) -> str:
        return str(self.meta.get("title", ""))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "chunk_id": self.chunk_id,
            "article_id": self.article_id,
            "title": self.title,
            "text": self.text,
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "bm25": None if self.bm25 is None else round(self.bm25, 6),
        }


@dataclass
class Evidence:
    """A sentence of a retrieved passage, scored against the question."""

    passage: Passage
    start: int  # offsets in the ARTICLE text
    end: int
    text: str
    dense: float
    lexical: float
    score: float = 0.0


@dataclass
class Retrieval:
    question: str
    passages: list[Passage]
    query_vector: np.ndarray
    dense_scores: list[float] = field(default_factory=list)  # cosines of the whole dense ranking
    passage_overlap: float = 0.0  # share of the question's terms found in the top passages
    cross_lingual: bool = False  # question and passages in different scripts
    evidence: list[Evidence] = field(default_factory=list)


def _chunk_filter_meta(chunk: StoredChunk) -> dict[str, Any]:
    meta = chunk.metadata
    return {k: meta.get(k) for k in ("article_id", "source", "date_ord")}


class HybridRetriever:
    """Dense + BM25 retrieval over an :class:`ArticleStore`, thread-safe."""

    def __init__(
        self,
        store: ArticleStore,
        embeddings: Any,
        *,
        fetch_k: int = 30,
        sentence_cache: int = 20000,
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.fetch_k = fetch_k
        self.bm25 = BM25Index()
        # Consonant-skeleton keys of names: the cross-script lexical channel (bot.names).
        self.names = BM25Index(tokenizer=name_keys)
        self._revisions: dict[str, str] = {}
        self._chunk_meta: dict[str, dict[str, Any]] = {}
        self._article_chunks: dict[str, list[str]] = {}
        self._generation: str | None = None
        self._sync_lock = threading.Lock()
        self._sent_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sent_cache_size = sentence_cache
        self._cache_lock = threading.Lock()

    # ---------------------------------------------------------------- keeping BM25 in step

    def sync(self) -> None:
        """Bring the BM25 index and the committed-revision map in step with the store."""
        generation = self.store.generation()
        if generation == self._generation:
            return
        with self._sync_lock:
            if generation == self._generation:
                return
            revisions = self.store.revisions()
            stale = [a for a, rev in self._revisions.items() if revisions.get(a) != rev]
            fresh = [a for a, rev in revisions.items() if self._revisions.get(a) != rev]
            for aid in stale:
                ids = self._article_chunks.pop(aid, [])
                self.bm25.remove(ids)
                self.names.remove(ids)
                for cid in ids:
                    self._chunk_meta.pop(cid, None)
            if fresh and not self._revisions:
                # First load: read all chunks in pages rather than one query per article.
                wanted = set(fresh)
                chunks: Iterator[StoredChunk] = (
                    c
                    for c in self.store.iter_chunks(sentences=False)  # BM25 needs no vectors
                    if c.article_id in wanted and revisions.get(c.article_id) == c.rev
                )
            else:
                chunks = (
                    c for aid in fresh for c in self.store.committed_chunks(aid, revisions[aid], sentences=False)
                )
            # Indexed a page at a time: holding all of a 100k-chunk corpus at once cost ~150 MB.
            while page := list(itertools.islice(chunks, 1000)):
                items = []
                for c in page:
                    self._article_chunks.setdefault(c.article_id, []).append(c.id)
                    self._chunk_meta[c.id] = _chunk_filter_meta(c)
                    items.append((c.id, c.text))
                self.bm25.add(items)
                self.names.add(items)
            self._revisions = revisions
            self._generation = generation
            logger.info("BM25 in step: %d articles, %d chunks", len(revisions), len(self.bm25))

    def is_empty(self) -> bool:
        self.sync()
        return not self._revisions

    # ---------------------------------------------------------------- retrieval

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def retrieve(
        self,
        question: str,
        k: int,
        filters: Filters | None = None,
        *,
        query_vector: np.ndarray | None = None,
    ) -> Retrieval:
        """The ``k`` best passages for ``question`` (fused dense + BM25 ranking)."""
        self.sync()
        filters = filters or Filters()
        qvec = self.embed_query(question) if query_vector is None else query_vector
        fetch = max(self.fetch_k, 3 * k)
        revisions = self._revisions

        dense_hits = self.store.query(qvec, fetch, where=filters.chroma_where())
        dense: list[tuple[StoredChunk, float]] = [
            (c, s) for c, s in dense_hits if revisions.get(c.article_id) == c.rev and c.id not in filters.exclude_chunks
        ]

        allowed = None
        if not filters.is_empty():
            allowed = lambda cid: cid not in filters.exclude_chunks and filters.accepts(  # noqa: E731
                self._chunk_meta.get(cid, {})
            )
        bm25_hits = self.bm25.search(question, fetch, allowed=allowed)
        coverage = self.lexical_coverage(question)
        name_hits = self.names.search(question, fetch, allowed=allowed)
        name_coverage = _coverage(self.names, name_keys(question))

        fused: dict[str, float] = {}
        for rank, (chunk, _) in enumerate(dense):
            fused[chunk.id] = fused.get(chunk.id, 0.0) + 1.0 / (RRF_K + rank + 1)
        bm25_weight = coverage
        for rank, (cid, _) in enumerate(bm25_hits):
            fused[cid] = fused.get(cid, 0.0) + bm25_weight / (RRF_K + rank + 1)
        # Names only get a say of their own when the words don't (another script).
        name_weight = name_coverage * (1.0 - coverage)
        for rank, (cid, _) in enumerate(name_hits):
            fused[cid] = fused.get(cid, 0.0) + name_weight / (RRF_K + rank + 1)

        top_ids = sorted(fused, key=lambda cid: -fused[cid])[:k]
        known = {c.id: (c, s) for c, s in dense}
        missing = [cid for cid in top_ids if cid not in known]
        if missing:
            # Found by BM25 only: its cosine comes from the vector stored with it.
            for chunk, vec in self.store.get_chunks_with_vectors(missing):
                known[chunk.id] = (chunk, float(np.asarray(vec, dtype=np.float32) @ qvec))
        bm25_scores = dict(bm25_hits)
        passages = []
        for cid in top_ids:
            if cid not in known:
                continue
            chunk, dscore = known[cid]
            passages.append(
                Passage(
                    chunk_id=chunk.id,
                    article_id=chunk.article_id,
                    text=chunk.text,
                    start=chunk.start,
                    end=chunk.end,
                    meta=chunk.metadata,
                    score=fused[cid],
                    dense=dscore,
                    bm25=bm25_scores.get(cid),
                    rank=len(passages) + 1,
                )
            )
        return Retrieval(
            question=question,
            passages=passages,
            query_vector=qvec,
            dense_scores=[score for _, score in dense],
        )

    def lexical_coverage(self, text: str) -> float:
        """idf-weighted share of the question's terms that occur in the corpus (0..1).

        Terms the corpus has never seen weigh as much as the rarest known term: an English
        question over Arabic articles scores ~0 and BM25 then has (almost) no say in the fusion.
        """
        return _coverage(self.bm25, tokenize(text))

    # ---------------------------------------------------------------- sentence evidence

    def _sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Passage-prompt vectors for sentences, cached (the same passages recur across questions)."""
        out: list[np.ndarray | None] = []
        todo: list[str] = []
        with self._cache_lock:
            for t in texts:
                v = self._sent_cache.get(t)
                if v is not None:
                    self._sent_cache.move_to_end(t)
                else:
                    todo.append(t)
                out.append(v)
        if todo:
            uniq = list(dict.fromkeys(todo))
            vecs = np.asarray(self.embeddings.embed_documents(uniq), dtype=np.float32)
            fresh = dict(zip(uniq, vecs))
            with self._cache_lock:
                for t, v in fresh.items():
                    self._sent_cache[t] = v
                while len(self._sent_cache) > self._sent_cache_size:
                    self._sent_cache.popitem(last=False)
            out = [v if v is not None else fresh[t] for v, t in zip(out, texts)]
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(out)

    def sentences(self, passage: Passage) -> list[tuple[int, int, str, np.ndarray]]:
        """``(start, end, text, vector)`` of a passage's sentences; offsets in the article.

        Vectors stored at ingest (late chunking, ``ingest.sentence_vectors``) are used when the
        chunk has them; otherwise the sentences are embedded now (and cached).
        """
        meta = passage.meta
        if meta.get("sents") and meta.get("sent_vecs"):
            stored = decode_spans(meta["sents"])
            all_vecs = decode_vectors(meta["sent_vecs"], count=len(stored))
            # Stores written before ingest applied MIN_EVIDENCE_CHARS still hold shorter spans.
            keep = [i for i, (s, e) in enumerate(stored) if e - s >= MIN_EVIDENCE_CHARS]
            spans, vecs = [stored[i] for i in keep], all_vecs[keep]
        else:
            spans = evidence_spans(passage.text)
            vecs = self._sentence_vectors([passage.text[s:e] for s, e in spans]) if spans else []
        return [
            (passage.start + s, passage.start + e, passage.text[s:e], v) for (s, e), v in zip(spans, vecs)
        ]

    def sentence_evidence(
        self,
        retrieval: Retrieval,
        *,
        top_passages: int = 5,
    ) -> list[Evidence]:
        """Score every sentence of the top passages against the question, best first."""
        spans: list[tuple[Passage, int, int, str, np.ndarray]] = []
        for p in retrieval.passages[:top_passages]:
            spans.extend((p, s, e, text, v) for s, e, text, v in self.sentences(p))
        # Titles and headings name a topic; they don't state the fact that answers a question.
        statements = [sp for sp in spans if not _is_heading(sp[0], sp[1], sp[2])]
        spans = statements or spans
        if not spans:
            return []
        dense = np.stack([v for *_, v in spans]) @ retrieval.query_vector
        query = retrieval.question
        passages = retrieval.passages[:top_passages]
        same_language = _same_script(query, passages)
        q_terms = self.question_terms(query, passages, same_language=same_language)
        retrieval.cross_lingual = not same_language
        retrieval.passage_overlap = _overlap(q_terms, " ".join(p.text for p in passages[:3]))
        out = []
        for (p, s, e, text, _), d in zip(spans, dense):
            lex = _overlap(q_terms, text)
            out.append(Evidence(passage=p, start=s, end=e, text=text, dense=float(d), lexical=lex))
        return out

    def salient_words(self, text: str, limit: int = 4) -> list[str]:
        """The words of ``text`` that say most about its topic: known to the corpus (as words or
        as names) and rare in it, highest idf first, as they are written in ``text``."""
        scored: dict[str, float] = {}
        for m in re.finditer(r"[^\W\d_][\w'’-]*", text):
            word = m.group()
            best = 0.0
            for t in tokenize(word):
                if self.bm25.df(t):
                    best = max(best, self.bm25.idf(t))
            for t in name_keys(word):
                if self.names.df(t):
                    best = max(best, self.names.idf(t))
            if best > 0:
                scored[word] = max(scored.get(word, 0.0), best)
        return sorted(scored, key=lambda w: -scored[w])[:limit]

    def question_terms(
        self, text: str, passages: Sequence[Passage], *, same_language: bool | None = None
    ) -> dict[str, float]:
        """The question's terms (words and name keys) weighted by idf.

        A word the corpus has never seen weighs as much as the rarest known one and counts as
        missing evidence — but only when the question is in the language of the passages: the
        English words of a question over Arabic passages say nothing either way (its names do),
        even when the corpus knows them from its English articles.
        """
        n = max(len(self.bm25), 1)
        max_idf = math.log(1.0 + (n + 0.5) / 0.5)
        if same_language is None:
            same_language = _same_script(text, passages)
        terms: dict[str, float] = {}
        for t in dict.fromkeys(tokenize(text)) if same_language else ():
            terms[t] = self.bm25.idf(t) if self.bm25.df(t) else max_idf
        for t in dict.fromkeys(name_keys(text)):
            if t not in terms:
                terms[t] = self.names.idf(t) if self.names.df(t) else max_idf
        return terms


def _same_script(question: str, passages: Sequence[Passage]) -> bool:
    """Is the question written in the script of the passages it retrieved?"""
    return bool(passages) and _script(question) == _script(" ".join(p.text[:300] for p in passages[:3]))


def _script(text: str) -> str:
    arabic = sum(1 for ch in text if "\u0600" <= ch <= "\u06ff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "ar" if arabic > latin else "latin"


def _overlap(terms: dict[str, float], text: str) -> float:
    """idf-weighted share of ``terms`` that occur in ``text`` (as words or name keys)."""
    total = sum(terms.values())
    if not total:
        return 0.0
    present = set(tokenize(text)) | set(name_keys(text))
    return sum(w for t, w in terms.items() if t in present) / total


def _is_heading(passage: Passage, start: int, end: int) -> bool:
    """Is this sentence a whole line shaped like a heading (see ingest.chunking)?"""
    text = passage.text
    s, e = start - passage.start, end - passage.start
    whole_line = (s == 0 or text[s - 1] == "\n") and (e == len(text) or text[e] == "\n")
    return whole_line and is_heading_line(text[s:e])


def _coverage(index: BM25Index, tokens: Sequence[str]) -> float:
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
