"""Sentence spans for Arabic and English text: the unit a citation highlights.

``split_sentences`` returns ``(start, end)`` character offsets, never copies, so
``text[s:e]`` is exactly the sentence as written in the article and can be highlighted there.

Rules (in order):

- a line break always ends a sentence (headlines, datelines and bullet lines stand alone);
- ``. ! ? ؟ ؛ ۔ …`` (a run of them, plus closing quotes/brackets) followed by whitespace or the
  end of the line ends a sentence, so decimals ("3.5") and "U.S.-backed" never split;
- except a full stop after a known abbreviation ("Dr.", "Mr.", "No."), a dotted initialism
  ("U.S.", "e.g."), a single letter (initials "J. Smith", Arabic "د. محمد"), or before a
  lowercase Latin word ("approx. three");
- the Arabic comma ، never ends a sentence, but a sentence longer than ``max_len`` characters
  is cut at ، ; or , (the last one that keeps the piece within ``max_len``);
- spans are trimmed of whitespace and invisible format characters; spans without any letter or
  digit are dropped.
"""

from __future__ import annotations

import re

__all__ = ["MAX_SENTENCE", "split_sentences"]

MAX_SENTENCE = 400
#: A sentence with no soft break is left whole up to this many times ``max_len``, then cut.
HARD_FACTOR = 4

# Lowercased abbreviations (without the final dot) after which "." does not end a sentence.
# Titles and list/unit words that are almost never sentence-final in news text.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st gen col lt sgt capt cmdr adm maj gov sen rep rev hon pres amb
    vs etc approx est dept jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp bros
    mt ft
    """.split()
)
# Abbreviations only when a number follows ("No. 5", "vol. 2"): "no." is also a plain word.
_NUMBER_ABBREVIATIONS = frozenset("no nos vol fig ch pp art".split())

_LINE_BREAKS = re.compile(r"\r\n|[\n\r\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85]")
# A run of terminators, optional closing quotes/brackets, then whitespace or end of string. The
# match starts only where a run starts and never gives back what it took (possessive): a run of
# 20,000 dots is one attempt, not 20,000 overlapping ones that each backtrack through the rest.
_CLOSERS = "\"'”’»)]"
_TERMINATOR = re.compile(r"(?<![.!?؟؛۔…])[.!?؟؛۔…]++[\"'”’»)\]]*+(?=\s|$)")
_INITIALISM = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")  # "U.S" / "e.g" (the final dot is the terminator)
_SOFT_BREAK = re.compile(r"[،;,](?=\s)")
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u061c\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e\ufeff"
_OPENERS = "\"'“‘«([{"


def _word_before(text: str, lo: int, i: int) -> str:
    j = i
    while j > lo and not text[j - 1].isspace():
        j -= 1
    return text[j:i].lstrip(_OPENERS)


def _next_char(text: str, i: int, hi: int) -> str:
    while i < hi and text[i].isspace():
        i += 1
    return text[i] if i < hi else ""


def _is_boundary(text: str, lo: int, hi: int, match: re.Match[str]) -> bool:
    """Whether a terminator ``match`` inside the line ``text[lo:hi]`` really ends a sentence."""
    run = match.group(0).rstrip(_CLOSERS)
    if any(c in "!?؟؛۔" for c in run):
        return True
    word = _word_before(text, lo, match.start())
    if run == ".":
        if word.lower() in _ABBREVIATIONS or _INITIALISM.search(word):
            return False
        if len(word) == 1 and word.isalpha():  # initials: "J. Smith", "د. محمد"
            return False
    nxt = _next_char(text, match.end(), hi)
    if run == "." and nxt.isdigit() and word.lower() in _NUMBER_ABBREVIATIONS:
        return False
    # A full stop or ellipsis before a lowercase word does not end the sentence
    # ("approx. three", "he said... and then"). Arabic has no case, so this never fires there.
    return not (nxt.isalpha() and nxt.islower())


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and (text[s].isspace() or text[s] in _INVISIBLE):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in _INVISIBLE):
        e -= 1
    return s, e


def _cut_long(text: str, s: int, e: int, max_len: int) -> list[tuple[int, int]]:
    """Cut a too-long sentence at soft breaks (، ; ,) into pieces of at most ``max_len`` if possible.

    With no soft break left the rest stays whole rather than cut mid-clause, up to
    ``HARD_FACTOR * max_len``: a longer run (a page of text with no punctuation, hostile or broken)
    is cut at the last space before that, or right there, so no sentence is unbounded.
    """
    pieces: list[tuple[int, int]] = []
    hard = HARD_FACTOR * max_len
    while e - s > max_len:
        cut = -1
        for m in _SOFT_BREAK.finditer(text, s, min(e, s + hard)):
            if m.end() - s > max_len and cut != -1:
                break
            cut = m.end()
        if cut == -1:
            if e - s <= hard:
                break  # no soft break at all: leave the rest whole rather than cut mid-clause
            space = text.rfind(" ", s + max_len, s + hard)
            cut = space + 1 if space != -1 else s + hard
        pieces.append((s, cut))
        s, _ = _strip(text, cut, e)
    pieces.append((s, e))
    return [(a, b) for a, b in pieces if b > a]


def split_sentences(text: str, start: int = 0, max_len: int = MAX_SENTENCE) -> list[tuple[int, int]]:
    """Sentence spans ``(start + s, start + e)`` of ``text``, in order, non-overlapping, stripped.

    ``start`` shifts the offsets, e.g. to the position of a chunk in its article.
    """
    spans: list[tuple[int, int]] = []
    breaks = list(_LINE_BREAKS.finditer(text))
    line_starts = [0] + [m.end() for m in breaks]
    line_ends = [m.start() for m in breaks] + [len(text)]
    for ls, le in zip(line_starts, line_ends, strict=True):
        pos = ls
        # endpos=le makes "$" in the pattern match at the end of the line.
        for m in _TERMINATOR.finditer(text, ls, le):
            if _is_boundary(text, ls, le, m):
                spans.append((pos, m.end()))
                pos = m.end()
        spans.append((pos, le))

    out: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = _strip(text, s, e)
        if not any(c.isalnum() for c in text[s:e]):
            continue
        for ps, pe in _cut_long(text, s, e, max_len):
            ps, pe = _strip(text, ps, pe)
            if any(c.isalnum() for c in text[ps:pe]):
                out.append((start + ps, start + pe))
    return out


#: Spans shorter than this ("1.", "-") are not evidence: they are neither stored with vectors nor scored.
MIN_EVIDENCE_CHARS = 3


def evidence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of ``text`` that can serve as evidence (see :data:`MIN_EVIDENCE_CHARS`)."""
    return [(s, e) for s, e in split_sentences(text) if e - s >= MIN_EVIDENCE_CHARS]
