"""An incremental, thread-safe Okapi BM25 index over (chunk_id, text) pairs.

Kept in memory next to the vector store for hybrid retrieval. Adding or removing a document
costs O(its tokens) and a search costs O(postings of the query terms): nothing is rebuilt per
question, and all statistics are integers, so an index built in any add/remove order scores
exactly like one built fresh from the same documents.

Memory is what limits a corpus of 100k chunks, so the index is compact: documents and terms are
small integers, each term's posting list is a pair of C arrays (document slots, term
frequencies), and a search scores a posting list in one numpy operation. About 10 bytes per
(document, term) pair, instead of ~200 for dicts of dicts.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ingest.text.textnorm import tokenize

__all__ = ["BM25Index"]

logger = logging.getLogger(__name__)

_ADD_SLICE = 512  # documents tokenised per step of add()


class BM25Index:
    """Okapi BM25 with Lucene's non-negative idf: ``ln(1 + (N - df + 0.5) / (df + 0.5))``.

    ``tokenizer`` defaults to :func:`ingest.text.textnorm.tokenize` (normalised, lightly stemmed terms).
    Adding an id that is already indexed replaces its text. Term frequencies above 65535 in one
    document count as 65535.
    """

    _dl_cache: np.ndarray | None  # document lengths as floats, rebuilt after a change

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
        # Re-entrant so a caller's `allowed` callback may query the index (e.g. `in`).
        self._lock = threading.RLock()
        self.clear()
        self.add(items)

    # --- mutation ---------------------------------------------------------------------------

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Index ``(id, text)`` pairs; an id already present is replaced."""
        # In slices, so that indexing a whole corpus never holds all its tokens at once.
        it = iter(items)
        while batch := list(itertools.islice(it, _ADD_SLICE)):
            self._add_slice(batch)

    def _add_slice(self, items: list[tuple[str, str]]) -> None:
        # Tokenise outside the lock: it is the expensive part and needs no shared state.
        prepared = [(doc_id, Counter(self._tokenize(text))) for doc_id, text in items]
        with self._lock:
            self._dl_cache = None
            doc_terms = self._doc_terms_by_slot()
            self._remove_many([doc_id for doc_id, _ in prepared])  # replaced documents
            for doc_id, tfs in prepared:
                if doc_id in self._slot:  # the same id twice in one call: the last one wins
                    self._remove_many([doc_id])
                slot = self._free_slots.pop() if self._free_slots else len(self._ids)
                length = sum(tfs.values())
                if slot == len(self._ids):
                    self._ids.append(doc_id)
                    self._doc_len.append(length)
                    doc_terms.append(None)
                else:
                    self._ids[slot] = doc_id
                    self._doc_len[slot] = length
                self._slot[doc_id] = slot
                self._total_len += length
                term_ids = array("i")
                for term, tf in tfs.items():
                    tid = self._vocab.get(term)
                    if tid is None:
                        tid = self._new_term(term)
                    self._post_docs[tid].append(slot)
                    self._post_tfs[tid].append(min(tf, 65535))
                    term_ids.append(tid)
                doc_terms[slot] = term_ids

    def _new_term(self, term: str) -> int:
        if self._free_terms:
            tid = self._free_terms.pop()
            self._terms[tid] = term
            self._post_docs[tid] = array("i")
            self._post_tfs[tid] = array("H")
        else:
            tid = len(self._terms)
            self._terms.append(term)
            self._post_docs.append(array("i"))
            self._post_tfs.append(array("H"))
        self._vocab[term] = tid
        return tid

    def remove(self, ids: Iterable[str]) -> None:
        """Forget documents; unknown ids are ignored."""
        with self._lock:
            self._dl_cache = None
            self._remove_many(ids)

    def clear(self) -> None:
        with self._lock:
            self._vocab: dict[str, int] = {}  # term -> term id
            self._terms: list[str | None] = []  # term id -> term (None: free)
            self._post_docs: list[array[int]] | _SavedPostings = []  # term id -> document slots
            self._post_tfs: list[array[int]] | _SavedPostings = []  # term id -> term frequency in each of those
            self._free_terms: list[int] = []
            self._slot: dict[str, int] = {}  # doc id -> slot
            self._ids: list[str | None] = []  # slot -> doc id (None: free)
            self._doc_len = array("i")  # slot -> length in terms
            # slot -> its term ids, for removal; None until needed after loading a saved index
            # (:meth:`_doc_terms_by_slot` derives it from the postings).
            self._doc_terms: list[array[int] | None] | None = []
            self._free_slots: list[int] = []
            self._total_len = 0
            self._dl_cache = None

    def _remove_many(self, ids: Iterable[str]) -> None:
        slots_by_term: dict[int, list[int]] = {}
        doc_terms = None
        for doc_id in ids:
            slot = self._slot.pop(doc_id, None)
            if slot is None:
                continue
            self._total_len -= self._doc_len[slot]
            doc_terms = doc_terms if doc_terms is not None else self._doc_terms_by_slot()
            for tid in doc_terms[slot] or ():
                slots_by_term.setdefault(tid, []).append(slot)
            self._ids[slot] = None
            self._doc_len[slot] = 0
            doc_terms[slot] = None
            self._free_slots.append(slot)
        for tid, slots in slots_by_term.items():
            docs = self._post_docs[tid]
            view = np.frombuffer(docs, dtype=np.int32)  # must be gone before the array shrinks
            if len(slots) == 1:
                where = int(np.flatnonzero(view == slots[0])[0])
                del view
                del docs[where]
                del self._post_tfs[tid][where]
            else:
                keep = ~np.isin(view, slots)
                tfs = np.frombuffer(self._post_tfs[tid], dtype=np.uint16)
                self._post_docs[tid] = array("i", view[keep].tobytes())
                self._post_tfs[tid] = array("H", tfs[keep].tobytes())
                del view, tfs
            term = self._terms[tid]
            if not self._post_docs[tid] and term is not None:  # keep the vocabulary from growing
                del self._vocab[term]
                self._terms[tid] = None
                self._free_terms.append(tid)

    # --- saving and loading ------------------------------------------------------------------

    def export_state(self) -> dict[str, np.ndarray]:
        """The index as plain arrays (no pickles): live documents and terms only, so a loaded
        index is compact whatever was added and removed before (all statistics are integers:
        it scores exactly as this one does)."""
        with self._lock:
            live_slots = [i for i, doc in enumerate(self._ids) if doc is not None]
            new_slot = np.full(len(self._ids), -1, dtype=np.int64)
            new_slot[live_slots] = np.arange(len(live_slots))
            live_terms = [t for t, term in enumerate(self._terms) if term is not None]
            docs = [np.frombuffer(self._post_docs[t], dtype=np.int32) for t in live_terms]
            tfs = [np.frombuffer(self._post_tfs[t], dtype=np.uint16) for t in live_terms]
            offsets = np.zeros(len(live_terms) + 1, dtype=np.int64)
            np.cumsum([len(d) for d in docs], out=offsets[1:])
            return {
                "ids": _json_bytes([self._ids[i] for i in live_slots]),
                "doc_len": np.array([self._doc_len[i] for i in live_slots], dtype=np.int32),
                "terms": _json_bytes([self._terms[t] for t in live_terms]),
                "post_offsets": offsets,
                "post_docs": new_slot[np.concatenate(docs)].astype(np.int32) if docs else np.zeros(0, np.int32),
                "post_tfs": np.concatenate(tfs) if tfs else np.zeros(0, np.uint16),
                "params": np.array([self.k1, self.b], dtype=np.float64),
            }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], tokenizer: Callable[[str], list[str]] = tokenize) -> BM25Index:
        """The index :meth:`export_state` saved (the same tokenizer must have built it)."""
        k1, b = (float(x) for x in state["params"])
        index = cls(k1=k1, b=b, tokenizer=tokenizer)
        ids: list[str] = _from_json_bytes(state["ids"])
        terms: list[str] = _from_json_bytes(state["terms"])
        doc_len = np.asarray(state["doc_len"], dtype=np.int32)
        offsets = np.asarray(state["post_offsets"], dtype=np.int64)
        post_docs = np.asarray(state["post_docs"], dtype=np.int32)
        post_tfs = np.asarray(state["post_tfs"], dtype=np.uint16)
        if len(doc_len) != len(ids) or len(offsets) != len(terms) + 1 or len(post_docs) != len(post_tfs):
            raise ValueError("inconsistent keyword index state")
        if len(post_docs) != offsets[-1] or (len(post_docs) and (post_docs.min() < 0 or post_docs.max() >= len(ids))):
            raise ValueError("inconsistent keyword index postings")
        index._ids = list(ids)
        index._slot = {doc: i for i, doc in enumerate(ids)}
        index._doc_len = array("i", doc_len.tobytes())
        index._total_len = int(doc_len.sum())
        index._terms = list(terms)
        index._vocab = {term: t for t, term in enumerate(terms)}
        # Each term's C arrays are cut from the saved ones when first needed: a server that only
        # answers touches the postings of its questions' terms, not all of them.
        index._post_docs = _SavedPostings("i", post_docs, offsets)
        index._post_tfs = _SavedPostings("H", post_tfs, offsets)
        # Each document's term ids are only needed to remove or replace a document: derived from
        # the postings then (half the load time at 100k chunks, which a server that only answers
        # never needs).
        index._doc_terms = None
        return index

    def _doc_terms_by_slot(self) -> list[array[int] | None]:
        """Each slot's term ids (None: a free slot), regrouped from the postings the first time
        they are needed after loading a saved index (call with the lock held)."""
        if self._doc_terms is None:
            slots = len(self._ids)
            docs = [np.frombuffer(d, dtype=np.int32) for d in self._post_docs]
            lengths = np.array([len(d) for d in docs], dtype=np.int64)
            post_docs = np.concatenate(docs) if docs else np.zeros(0, np.int32)
            term_of = np.repeat(np.arange(len(docs), dtype=np.int32), lengths)
            order = np.argsort(post_docs, kind="stable")
            counts = np.bincount(post_docs, minlength=slots)
            parts = np.split(term_of[order], np.cumsum(counts)[:-1]) if slots else []
            self._doc_terms = [
                array("i", part.tobytes()) if self._ids[slot] is not None else None for slot, part in enumerate(parts)
            ]
        return self._doc_terms

    # --- queries ----------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._slot)

    def __contains__(self, doc_id: object) -> bool:
        with self._lock:
            return doc_id in self._slot

    def df(self, term: str) -> int:
        """Number of indexed documents containing an already-tokenised term."""
        with self._lock:
            tid = self._vocab.get(term)
            return 0 if tid is None else len(self._post_docs[tid])

    def matched(self, doc_id: str, terms: Iterable[str]) -> set[str]:
        """Which of the (already tokenised) ``terms`` the document holds; empty if unknown."""
        with self._lock:
            slot = self._slot.get(doc_id)
            if slot is None:
                return set()
            found = set()
            for t in terms:
                tid = self._vocab.get(t)
                if tid is not None and bool((np.frombuffer(self._post_docs[tid], dtype=np.int32) == slot).any()):
                    found.add(t)
            return found

    def idf(self, term: str) -> float:
        """idf of an already-tokenised term (0 docs -> 0.0)."""
        with self._lock:
            n = len(self._slot)
            df = self.df(term)
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
            n = len(self._slot)
            if n == 0 or not terms:
                return []
            avgdl = self._total_len / n
            k1, b = self.k1, self.b
            doc_len = self._dl_cache
            if doc_len is None:
                doc_len = self._dl_cache = np.array(self._doc_len, dtype=np.float64)
            scores = np.zeros(len(self._ids), dtype=np.float64)
            touched = np.zeros(len(self._ids), dtype=bool)
            for term in terms:
                tid = self._vocab.get(term)
                if tid is None:
                    continue
                docs = np.array(self._post_docs[tid], dtype=np.intp)
                tf = np.array(self._post_tfs[tid], dtype=np.float64)
                df = len(docs)
                idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
                # Same operations in the same order as the scalar formula: identical floats.
                norm = k1 * (1.0 - b + b * doc_len[docs] / avgdl) if avgdl else k1
                scores[docs] += idf * tf * (k1 + 1.0) / (tf + norm)
                touched[docs] = True
            candidates = np.flatnonzero(touched)
            if allowed is not None and len(candidates):
                keep = np.array([bool(allowed(str(self._ids[i]))) for i in candidates], dtype=bool)
                candidates = candidates[keep]
            if len(candidates) > k:  # the k best, and anything tied with the k-th (ties go by id)
                cand_scores = scores[candidates]
                kth = np.partition(cand_scores, len(cand_scores) - k)[len(cand_scores) - k]
                candidates = candidates[cand_scores >= kth]
            ranked = sorted(((str(self._ids[i]), float(scores[i])) for i in candidates), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:k]


class _SavedPostings:
    """Posting lists loaded from a saved index: one flat array and each term's offsets in it.
    A term's C array is made the first time it is read, and from then on it is the list's own
    (added to, replaced), as in an index built in memory. Making all of them at load cost ~0.35 s
    of the ~1 s a 100k-chunk index took to load (``newsbot bench``)."""

    __slots__ = ("_code", "_flat", "_items", "_left", "_offsets")

    def __init__(self, code: str, flat: np.ndarray, offsets: np.ndarray) -> None:
        self._code, self._flat, self._offsets = code, flat, offsets
        self._items: list[array[int] | None] = [None] * (len(offsets) - 1)
        self._left = len(self._items)  # lists not made yet: the flat arrays go when none is left

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, tid: int) -> array[int]:
        item = self._items[tid]
        if item is None:
            item = array(self._code, self._flat[self._offsets[tid] : self._offsets[tid + 1]].tobytes())
            self[tid] = item
        return item

    def __setitem__(self, tid: int, value: array[int]) -> None:
        if self._items[tid] is None:
            self._left -= 1
            if not self._left:
                self._flat = self._offsets = np.zeros(0, dtype=np.int64)
        self._items[tid] = value

    def __iter__(self) -> Iterator[array[int]]:
        return (self[tid] for tid in range(len(self._items)))

    def append(self, value: array[int]) -> None:
        self._items.append(value)


def _json_bytes(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _from_json_bytes(data: np.ndarray) -> list[Any]:
    value = json.loads(np.asarray(data, dtype=np.uint8).tobytes().decode("utf-8"))
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value
