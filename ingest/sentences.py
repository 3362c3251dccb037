"""Sentence spans for Arabic and English text (placeholder; replaced by the full splitter)."""

from __future__ import annotations

import re

_END = re.compile(r"[.!?؟؛۔]+[\"'”’»)\]]*(?=\s|$)|\n+")


def split_sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _END.finditer(text):
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((start + s, start + e))
    return out
