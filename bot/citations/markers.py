"""Citation markers in an answer: parse, attach to sentences, clean, render.

Pure functions over strings and small dataclasses; the support check (does the cited passage
really say this?) lives elsewhere and records its verdict on each :class:`Claim`.

Pipeline for a raw LLM answer::

    claims = split_claims(raw)                     # sentences + the numbers attached to each
    claims, dropped = clean_numbers(claims, valid)  # forget numbers that point at no passage
    ... support check sets claim.supported / claim.score, may drop numbers ...
    text = render_answer(claims)                   # "Sentence one. [1][2] Sentence two. [3]"

(bot/citations/grounding.py runs it, and numbers the citations it keeps 1..N by first appearance.)

:func:`clean_answer` runs the first two steps and the sentinel check in one call.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ingest.text.sentences import split_sentences
from prompts.templates import CANNOT_ANSWER

__all__ = [
    "Citation",
    "Claim",
    "CleanedAnswer",
    "Marker",
    "clean_answer",
    "clean_numbers",
    "is_abstention",
    "parse_markers",
    "render_answer",
    "split_claims",
    "split_hedge",
    "split_hedge_text",
    "strip_markers",
]

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Citation:
    """A numbered source shown under an answer.

    ``quote`` is the supporting sentence; ``quote_start``/``quote_end`` are its offsets in the
    ARTICLE text (``article.text[quote_start:quote_end] == quote``), so the UI can highlight it.
    """

    n: int
    chunk_id: str
    article_id: str
    title: str
    text: str  # the whole chunk (passage) the model saw
    quote: str
    quote_start: int
    quote_end: int
    date: str | None = None
    source: str | None = None
    url: str | None = None
    lang: str | None = None  # the article's language ("ar", "en"), shown next to its title
    score: float | None = None  # support score of the quote for its claim (higher = better)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Claim:
    """One sentence of an answer and the citation numbers attached to it.

    ``start``/``end`` delimit the raw sentence in the answer it came from, markers included.
    ``separator`` is what stood between it and the previous sentence: " ", or "\n" / "\n\n"
    when the answer had a line break there (kept so bullet lists and paragraphs survive).
    ``supported``/``score``/``quotes`` are for the support check to fill in: ``quotes`` maps a
    citation number to the ``(start, end)`` article offsets of the sentence that supports it.
    """

    text: str
    numbers: list[int] = field(default_factory=list)
    start: int = 0
    end: int = 0
    separator: str = " "
    supported: bool | None = None
    score: float | None = None
    quotes: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Marker:
    """A citation marker found in text: ``text[start:end]`` is e.g. "[1, 2]"; numbers in order."""

    start: int
    end: int
    numbers: tuple[int, ...]


# --- parsing --------------------------------------------------------------------------------

# Arabic-Indic (U+0660..) and extended (U+06F0..) digits -> ASCII, as models echo the answer's script.
_DIGITS = str.maketrans({chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)})
_D = r"[0-9\u0660-\u0669\u06f0-\u06f9]+"
_SEP = r"\s*[,،;]\s*"
_RANGE_DASH = r"\s*[-–—]\s*"
# "[1]", "[1, 2]", "[١]", "【1】", "［1］", "[1-3]", and the (invalid but common) "[Passage 1]" /
# "[Source 2]". Number lists must be the whole bracket content, so "[sic]" or "[see 1]" are text.
_ITEM = rf"{_D}(?:{_RANGE_DASH}{_D})?"
_MARKER = re.compile(
    rf"[\[【［]\s*(?:(?:passages?|sources?|refs?)\s*)?({_ITEM}(?:{_SEP}{_ITEM})*)\s*[\]】］]",
    re.IGNORECASE,
)
_MAX_RANGE = 20  # "[1-3]" expands; "[1990-2024]" is a year range, not 35 citations


def _numbers(group: str) -> tuple[int, ...]:
    out: list[int] = []
    for item in re.split(_SEP, group.translate(_DIGITS).strip()):
        lo_hi = re.split(_RANGE_DASH, item)
        if len(lo_hi) == 2:
            lo, hi = int(lo_hi[0]), int(lo_hi[1])
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= _MAX_RANGE else (lo, hi))
        else:
            out.append(int(item))
    return tuple(out)


def parse_markers(text: str) -> list[Marker]:
    """All citation markers in ``text``, in order. Adjacent markers ("[1][2]") are separate."""
    return [Marker(m.start(), m.end(), _numbers(m.group(1))) for m in _MARKER.finditer(text)]


# Only from where a run of whitespace starts, possessive: linear on a run of 50,000 spaces.
_SPACE_BEFORE_PUNCT = re.compile(r"(?<!\s)\s++([.,!?؟،؛;:۔…)\]»”])")
_SPACES = re.compile(r"[ \t\u00a0]+")


def strip_markers(text: str) -> str:
    """``text`` without citation markers, spaces tidied ("X [1]." → "X.")."""
    out = _MARKER.sub(" ", text)
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", out)
    return _SPACES.sub(" ", out).strip()


def _dedupe(numbers: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(numbers))


# --- claims ---------------------------------------------------------------------------------

_TERMINAL = ".!?؟۔…"


def is_abstention(text: str) -> bool:
    """Whether the model's reply contains the "cannot answer" sentinel."""
    return CANNOT_ANSWER in text


def split_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences, each with the citation numbers attached to it.

    A marker belongs to the sentence it stands in or ends ("X [1]." and "X. [1]" both give
    "X." → [1]); markers before the first sentence go to the first. Sentences are split on a
    copy with markers blanked out, so "[1]" never looks like text, and a marker right after a
    sentence's final punctuation also ends that sentence ("X.[1]Y." is two sentences).
    """
    markers = parse_markers(answer)
    masked = list(answer)
    for m in markers:
        masked[m.start : m.end] = " " * (m.end - m.start)
    masked_text = "".join(masked)

    # Forced boundaries: the end of each marker that follows terminal punctuation.
    cuts = [0]
    for m in markers:
        before = masked_text[: m.start].rstrip()
        if before and before[-1] in _TERMINAL and m.end > cuts[-1]:
            cuts.append(m.end)
    cuts.append(len(answer))
    spans: list[tuple[int, int]] = []
    for lo, hi in itertools.pairwise(cuts):
        spans.extend(split_sentences(masked_text[lo:hi], start=lo))
    if not spans:
        if markers:
            logger.warning("answer has citation markers but no text: %r", answer)
        return []

    claims = [Claim(text="", start=s, end=e) for s, e in spans]
    for m in markers:
        # The last sentence starting at or before the marker, else the first sentence.
        idx = 0
        for i, (s, _e) in enumerate(spans):
            if s <= m.start:
                idx = i
            else:
                break
        claim = claims[idx]
        claim.numbers.extend(m.numbers)
        claim.start = min(claim.start, m.start)
        claim.end = max(claim.end, m.end)
    prev_end = 0
    for claim, (s, e) in zip(claims, spans, strict=True):
        breaks = answer.count("\n", prev_end, s)
        claim.separator = "\n\n" if breaks > 1 else "\n" if breaks else " "
        prev_end = e
        claim.numbers = _dedupe(claim.numbers)
        # The text comes from the sentence itself, not from the stretch widened to take in
        # markers around it (which may hold stray punctuation: "[1]. X").
        claim.text = strip_markers(answer[s:e])
    return [c for c in claims if c.text]


def clean_numbers(claims: Iterable[Claim], valid: Collection[int]) -> tuple[list[Claim], list[int]]:
    """Copies of ``claims`` keeping only numbers in ``valid``; the others, once each, in order.

    A number outside ``valid`` points at no passage the model was shown: invented or a year
    like "[2024]". It is logged and removed, the sentence itself is kept.
    """
    valid_set = set(valid)
    out: list[Claim] = []
    dropped: list[int] = []
    for claim in claims:
        keep = [n for n in claim.numbers if n in valid_set]
        dropped.extend(n for n in claim.numbers if n not in valid_set)
        out.append(replace(claim, numbers=keep, quotes={n: q for n, q in claim.quotes.items() if n in valid_set}))
    dropped = _dedupe(dropped)
    if dropped:
        logger.warning("dropped citation numbers %s: no such passage (valid: %s)", dropped, sorted(valid_set))
    return out, dropped


def _markers(numbers: Iterable[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def render_answer(claims: Iterable[Claim]) -> str:
    """Answer text with normalised markers: "Sentence one. [1][2] Sentence two. [3]"

    Markers follow the whole sentence, its punctuation included. That form parses back to the
    same claims whatever the sentence ends with ("U.S.", a closing quote, a lowercase next
    sentence), so cleaning a cleaned answer changes nothing. Sentences are joined by their
    ``separator`` (a space, or the answer's line breaks).
    """
    parts: list[str] = []
    for i, claim in enumerate(claims):
        text = f"{claim.text} {_markers(claim.numbers)}" if claim.numbers else claim.text
        parts.append(text if i == 0 else claim.separator + text)
    return "".join(parts)


# --- one call -------------------------------------------------------------------------------


@dataclass
class CleanedAnswer:
    """A raw answer after parsing and cleaning: ``text`` is ``render_answer(claims)``.

    ``abstained`` is true when the model replied with the sentinel (then ``text`` is exactly
    :data:`prompts.templates.CANNOT_ANSWER` and ``claims`` is empty) or wrote no sentence at all.
    """

    text: str
    claims: list[Claim]
    dropped: list[int]
    abstained: bool


def clean_answer(raw: str, valid: Collection[int]) -> CleanedAnswer:
    """Split ``raw`` into claims, drop invalid numbers, handle the sentinel, re-render.

    Sentences containing the sentinel are removed; if nothing else is left the whole answer is
    an abstention. (A model sometimes answers one part and declares the rest unanswerable.)
    """
    claims = split_claims(raw)
    if is_abstention(raw):
        claims = [c for c in claims if CANNOT_ANSWER not in c.text]
        if not claims:
            return CleanedAnswer(text=CANNOT_ANSWER, claims=[], dropped=[], abstained=True)
    claims, dropped = clean_numbers(claims, valid)
    return CleanedAnswer(text=render_answer(claims), claims=claims, dropped=dropped, abstained=not claims)


def split_hedge(result: Mapping[str, Any]) -> tuple[str | None, str]:
    """``(hedge, the rest of the answer)`` of a chain result's JSON (see :func:`split_hedge_text`)."""
    hedge = result.get("hedge")
    return split_hedge_text(
        str(result.get("answer", "")), hedge if isinstance(hedge, str) else None, result.get("confidence", "low")
    )


def split_hedge_text(answer: str, hedge: str | None, confidence: str) -> tuple[str | None, str]:
    """``(hedge, the rest of the answer)``; the hedge is None unless the answer is a
    low-confidence one that starts with it."""
    if confidence == "low" and hedge and answer.startswith(hedge):
        return hedge, answer[len(hedge) :].strip()
    return None, answer
