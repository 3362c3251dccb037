"""The ``fake`` embedder: deterministic hashed bags of normalised words, for tests (no model)."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from ingest.embeddings.backends import ArrayEmbeddings, empty_array
from ingest.errors import ConfigError

_TOKEN_RE = re.compile(r"\w+")

# Arabic short vowels, tanween, shadda, sukun, superscript alef, and tatweel: optional marks
# that news text uses inconsistently, so the same word should hash the same with or without.
_ARABIC_MARKS_RE = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")

_ALEF_RE = re.compile("[\u0622\u0623\u0625\u0671]")  # alef with madda/hamza/wasla -> bare alef


def normalize_words(text: str) -> list[str]:
    """Lower-cased NFKC words with Arabic diacritics removed and alef variants unified."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ALEF_RE.sub("\u0627", _ARABIC_MARKS_RE.sub("", text))
    return _TOKEN_RE.findall(text)


class FakeEmbeddings(ArrayEmbeddings):
    """Deterministic, model-free embeddings for tests: a hashed bag of words and trigrams.

    Each normalised word adds weight 1 to one of ``dim`` buckets and each of its ``n``
    character trigrams of ``#word#`` adds ``trigram_weight / sqrt(n)`` (so "reports" is
    close to "report");
    each feature has a hashed sign, and the vector is unit-normalised. Texts sharing words
    have clearly positive cosine, unrelated texts about zero. Buckets and signs come from
    BLAKE2b, so vectors are identical across processes (unlike ``hash()``). Queries and
    documents are embedded the same way.
    """

    def __init__(self, dim: int = 384, *, trigram_weight: float = 1.0) -> None:
        if dim < 8:
            raise ConfigError(f"fake embedding dimension must be at least 8, got {dim}")
        self.dim = dim
        self.trigram_weight = trigram_weight
        self.name = f"fake:hash-{dim}"
        self.space = self.name

    def _add(self, vec: np.ndarray, feature: str, weight: float) -> None:
        digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
        # A hashed sign makes colliding unrelated features cancel on average instead of
        # always adding up, so unrelated texts score about 0.
        vec[(digest >> 1) % self.dim] += weight if digest & 1 else -weight

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float64)
        words = normalize_words(text)
        for word in words:
            self._add(vec, "w:" + word, 1.0)
            padded = f"#{word}#"
            grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
            for gram in grams:  # / sqrt(n): a word's trigrams weigh as much as the word (L2)
                self._add(vec, "c:" + gram, self.trigram_weight / math.sqrt(len(grams)))
        norm = float(np.linalg.norm(vec))
        if norm == 0:  # no words (or exact cancellation): still a unit vector, so cosine is defined
            self._add(vec, "<empty>", 1.0)
            norm = 1.0
        return (vec / norm).astype(np.float32)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return empty_array(self.dim)
        return np.stack([self._vector(t) for t in texts])

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_query_array(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)
