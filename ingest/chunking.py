"""Sentence-aware chunking with exact character offsets.

Every chunk is a contiguous slice of the article text: ``article.text[chunk.start:chunk.end] ==
chunk.text``. That invariant is what lets a citation highlight an exact sentence later.

How an article becomes chunks:

1. The text is cut into lines (paragraphs). A paragraph repeated verbatim inside the article is kept
   only the first time; a skipped duplicate is a hard boundary (a chunk never spans it, otherwise
   the duplicate would sneak back in through the slice).
2. Short lines without closing punctuation (titles, headings, datelines, captions) are glued to the
   paragraph that follows: measured on the seed article, standalone headings outrank the
   paragraphs that actually answer questions.
3. Sentences are packed greedily up to ``size`` characters (never above ``max_size`` unless one
   sentence alone is longer, in which case it is cut at whitespace), preferring to close a chunk at
   a paragraph boundary, and the next chunk starts with the last ``overlap`` sentences of the
   previous one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.sentences import split_sentences
from ingest.types import Article, Chunk

#: Chunk target and hard limit in characters, and sentences repeated at the start of the next
#: chunk: the defaults of the settings (NEWSBOT_CHUNK_SIZE / _MAX / _OVERLAP) and of the ingestor.
#: Chosen between 700 / 1000 / 1 and 1000 / 1400 / 1 with ``benchmarks/dev_matrix.py`` (the
#: variables set, stores built for each) on every dev set of ``../shared/eval``: the larger chunks
#: raised the citation hit on arcd (.834 -> .861), coqa (.699 -> .753), mlqa Arabic (.691 -> .730)
#: and English (.606 -> .651) questions, kept the quote hit (.701 / .589 / .466 / .388 ->
#: .700 / .616 / .476 / .388), and cut the chunks to embed by about a third (ingest time).
CHUNK_SIZE, CHUNK_MAX, CHUNK_OVERLAP = 1000, 1400, 1


@dataclass(frozen=True)
class ChunkingOptions:
    """How articles are cut (the one place with the defaults; settings and the bench build it)."""

    size: int = CHUNK_SIZE
    max_size: int = CHUNK_MAX
    overlap: int = CHUNK_OVERLAP

    def __post_init__(self) -> None:
        if self.max_size < self.size:
            raise ValueError(f"the chunk maximum ({self.max_size}) must be >= the chunk size ({self.size})")


# A line this short without sentence-final punctuation reads as a heading / dateline / caption.
HEADING_MAX_CHARS = 120
_SENTENCE_END = re.compile(r"[.!?؟؛۔:]['\"”’»)\]]*\s*$")
_WS = re.compile(r"\s+")


@dataclass
class _Sentence:
    start: int
    end: int
    para_start: bool  # first sentence of a paragraph (a good place to start a chunk)
    barrier: bool  # a skipped duplicate paragraph lies before it: never join across
    heading: bool  # a heading-like line that must stay with what follows

    @property
    def length(self) -> int:
        return self.end - self.start


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def is_heading_line(line: str) -> bool:
    """A short line without sentence-final punctuation: a title, heading, dateline or caption."""
    return len(line) <= HEADING_MAX_CHARS and not _SENTENCE_END.search(line)


def _cut_long(start: int, end: int, text: str, max_size: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at whitespace so no piece exceeds ``max_size``."""
    pieces = []
    while end - start > max_size:
        cut = text.rfind(" ", start + max_size // 2, start + max_size)
        if cut <= start:
            cut = start + max_size
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def _sentences(text: str, max_size: int) -> list[_Sentence]:
    seen: set[str] = set()
    out: list[_Sentence] = []
    barrier = False
    for ps, pe in _paragraph_spans(text):
        para = text[ps:pe]
        key = _WS.sub(" ", para)
        if len(key) > HEADING_MAX_CHARS and key in seen:
            barrier = True
            continue
        seen.add(key)
        heading = is_heading_line(para)
        spans = [(ps, pe)] if heading else split_sentences(para, ps)
        first = True
        for ss, se in spans:
            for cs, ce in _cut_long(ss, se, text, max_size):
                out.append(_Sentence(cs, ce, para_start=first, barrier=barrier, heading=heading))
                first = False
                barrier = False
    return out


def chunk_text(
    text: str, *, size: int = CHUNK_SIZE, max_size: int = CHUNK_MAX, overlap: int = CHUNK_OVERLAP
) -> list[tuple[int, int]]:
    """Return chunk spans ``(start, end)`` into ``text``."""
    max_size = max(max_size, size)
    chunks: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    n_carry = 0  # leading sentences of ``current`` repeated from the previous chunk

    def close(carry_over: bool = True) -> None:
        nonlocal current, n_carry
        # A heading at the end of a chunk belongs to the chunk that follows it.
        tail: list[_Sentence] = []
        while len(current) > n_carry + 1 and current[-1].heading:
            tail.insert(0, current.pop())
        chunks.append(current)
        # Repeat the last sentence(s), unless that would repeat the whole chunk.
        carry = current[-overlap:] if (overlap and carry_over and not tail and overlap < len(current)) else []
        carry = [c for c in carry if not c.heading]
        current = carry + tail
        n_carry = len(carry)

    for s in _sentences(text, max_size):
        if s.barrier:
            fresh_part = current[n_carry:]
            if any(not c.heading for c in fresh_part):
                close(carry_over=False)
            # Headings left over here titled the duplicate that was skipped: drop them.
            current, n_carry = [], 0
        fresh = len(current) > n_carry
        if current:
            new_len = s.end - current[0].start
            if new_len > max_size:
                if fresh:
                    close()
                # Drop the overlap (then any pending heading) rather than exceed the hard limit.
                while current and s.end - current[0].start > max_size:
                    current.pop(0)
                    n_carry = max(0, n_carry - 1)
            elif fresh and not current[-1].heading:
                full = current[-1].end - current[0].start
                if new_len > size or (s.para_start and full >= 0.6 * size):
                    close()
        current.append(s)
    if len(current) > n_carry:
        chunks.append(current)
    return [(g[0].start, g[-1].end) for g in chunks]


def chunk_article(
    article: Article, *, size: int = CHUNK_SIZE, max_size: int = CHUNK_MAX, overlap: int = CHUNK_OVERLAP
) -> list[Chunk]:
    """Split an article into chunks carrying offsets and the article's metadata."""
    meta = article.metadata()
    chunks = []
    for i, (s, e) in enumerate(chunk_text(article.text, size=size, max_size=max_size, overlap=overlap)):
        chunks.append(Chunk(article_id=article.id, index=i, text=article.text[s:e], start=s, end=e, metadata=dict(meta)))
    return chunks
