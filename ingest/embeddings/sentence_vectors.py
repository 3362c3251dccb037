"""Sentence vectors that cost nothing extra at ingest, stored compactly with their chunk.

Answers point at sentences, so every question scores the sentences of its top passages. Embedding
those sentences per question would cost more than the rest of the question together; embedding
them separately at ingest would halve ingest speed. Instead, the chunk is encoded once and each
sentence vector is the mean of the chunk's contextual token embeddings over the sentence's tokens
("late chunking"), normalised — the same mean pooling the model applies to a whole passage.

How well they pick the sentence that holds the answer, beside the same sentences embedded on
their own (benchmarks/late_chunking.py: the gold chunk's sentences ranked against the question,
top sentence holds the gold; standalone dev questions, e5 fp32):

    set        n    pooled  own
    arcd/ar   149   0.772   0.691
    mlqa/ar    70   0.600   0.614
    mlqa/en    80   0.388   0.688   (English questions over Arabic text)
    coqa/en    33   0.697   0.848

Pooled vectors win on Arabic questions over Arabic text and lose badly across scripts, so the
retriever embeds the sentences of passages in the other script on their own at question time
(``HybridRetriever.own_vectors_across_scripts``). The English same-script row is small (33) and
favours embedding on their own; not acted on yet (it costs an encode per sentence per question).

Vectors are stored in the chunk's metadata as int8 (unit vectors scaled by 127, base64): 384
bytes a sentence, a cosine error around 1e-3.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

SCALE = 127.0


def encode_vectors(vectors: np.ndarray) -> str:
    """Unit vectors ``(n, dim)`` → compact text for Chroma metadata."""
    q = np.clip(np.rint(np.asarray(vectors, dtype=np.float32) * SCALE), -127, 127).astype(np.int8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def decode_vectors(text: str, count: int) -> npt.NDArray[np.float32]:
    """The inverse of :func:`encode_vectors` for ``count`` vectors, rows re-normalised to unit length."""
    raw = np.frombuffer(base64.b64decode(text), dtype=np.int8).astype(np.float32)
    if not count:
        return np.zeros((0, 0), dtype=np.float32)
    raw = raw.reshape(count, -1)
    norms: npt.NDArray[np.float32] = np.linalg.norm(raw, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return raw / norms


def encode_spans(spans: Sequence[tuple[int, int]]) -> str:
    return json.dumps([[int(s), int(e)] for s, e in spans], separators=(",", ":"))


def decode_spans(text: str) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s, e in json.loads(text)]


def pool_spans(
    token_embeddings: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    shift: int = 0,
) -> list[np.ndarray | None]:
    """Mean-pool token embeddings over each character span, unit-normalised.

    ``offsets`` are the tokens' character offsets in the encoded string, which is the text with
    ``shift`` characters of prompt in front. A span with no token (cut off by truncation) gives
    None, and the caller embeds that sentence on its own.
    """
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = ends > starts  # special tokens have empty offsets
    out: list[np.ndarray | None] = []
    for s, e in spans:
        a, b = s + shift, e + shift
        mask = real & (starts < b) & (ends > a)
        if not mask.any():
            out.append(None)
            continue
        v = token_embeddings[mask].mean(axis=0)
        norm = float(np.linalg.norm(v))
        out.append(v / norm if norm else None)
    return out
