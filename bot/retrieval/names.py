"""Cross-script name keys: match "Haftar" in an English question to "حفتر" in an Arabic article.

An English question about Arabic news shares no words with it, and a small multilingual embedder
aligns rare names across scripts poorly. Names, though, keep their consonants when transliterated:
Haftar / حفتر → H F T R, Yevkurov / يفكيروف → F K R F, Benghazi / بنغازي → B N K Z. A name key is
that consonant skeleton: letters mapped to coarse sound classes (so q/k/g/ق/ك/غ or s/ص/س agree),
vowels and the letters that double as vowels (ا و ي, w, y) dropped, repeats collapsed. The
classes are coarse on purpose (ج is j in one name and g in another; ذ/ز/ظ/ض and d/z/dh are
written every which way), and a key needs three consonants, so short names don't match noise.

Keys are indexed for every Arabic word (with and without the article/conjunction prefixes it
may carry) and for capitalised Latin words, so the same BM25 machinery scores them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from ingest.text.textnorm import STOPWORDS, normalize_arabic

MIN_KEY = 3  # shorter skeletons match too many unrelated words

_AR_CLASS = {
    "ب": "B",
    "پ": "B",
    "ت": "T",
    "ط": "T",
    "ث": "T",
    "د": "D",
    "ض": "D",
    "ذ": "D",
    "ز": "D",
    "ظ": "D",
    "س": "S",
    "ص": "S",
    "ش": "C",
    "چ": "C",
    "ج": "K",
    "ك": "K",
    "ق": "K",
    "غ": "K",
    "گ": "K",
    "ح": "H",
    "ه": "H",
    "خ": "X",
    "ف": "F",
    "ڤ": "F",
    "ل": "L",
    "م": "M",
    "ن": "N",
    "ر": "R",
}
_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ب", "ل", "ف", "ك")

_LATIN_DIGRAPHS = [
    ("kh", "X"),
    ("gh", "K"),
    ("sh", "C"),
    ("ch", "C"),
    ("th", "T"),
    ("dh", "D"),
    ("ph", "F"),
    ("ck", "K"),
    ("dj", "K"),
    ("zh", "K"),
]
_LATIN_CLASS = {
    "b": "B",
    "p": "B",
    "t": "T",
    "d": "D",
    "z": "D",
    "s": "S",
    "j": "K",
    "k": "K",
    "q": "K",
    "g": "K",
    "c": "K",
    "x": "K",
    "h": "H",
    "f": "F",
    "v": "F",
    "l": "L",
    "m": "M",
    "n": "N",
    "r": "R",
}
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f'’-]+")


def _collapse(classes: list[str]) -> str:
    out: list[str] = []
    for c in classes:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def arabic_key(word: str) -> str:
    """Consonant skeleton of one Arabic word (already without prefixes)."""
    word = normalize_arabic(word)
    if word.endswith("ه") and len(word) > 3:  # ta marbuta / final ha is rarely transliterated
        word = word[:-1]
    return _collapse([_AR_CLASS[ch] for ch in word if ch in _AR_CLASS])


def latin_key(word: str) -> str:
    """Consonant skeleton of one Latin-script word."""
    w = unicodedata.normalize("NFKD", word.lower())
    w = "".join(ch for ch in w if "a" <= ch <= "z")
    if w.endswith("h") and len(w) > 3:
        w = w[:-1]
    # c before e/i/y sounds like s (Cecil); elsewhere like k (Carter).
    w = re.sub(r"c(?=[eiy])", "s", w)
    for digraph, cls in _LATIN_DIGRAPHS:
        w = w.replace(digraph, cls)
    classes = [ch if ch.isupper() else _LATIN_CLASS.get(ch, "") for ch in w]
    return _collapse([c for c in classes if c])


def _arabic_variants(word: str) -> set[str]:
    word = normalize_arabic(word)
    variants = {word}
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            variants.add(word[len(prefix) :])
    return variants


def name_keys(text: str) -> list[str]:
    """Keys of the text's Arabic words (all) and capitalised Latin words (names)."""
    keys: list[str] = []
    for m in _ARABIC_WORD.finditer(text):
        keys.extend(_arabic_word_keys(m.group()))
    for m in _LATIN_WORD.finditer(text):
        key = _latin_word_key(m.group())
        if key:
            keys.append(key)
    return list(dict.fromkeys(keys))


# Cached per word: words repeat (Zipf), and keying each occurrence was a quarter of the time
# to index a corpus.
@functools.lru_cache(maxsize=1 << 16)
def _arabic_word_keys(word: str) -> tuple[str, ...]:
    keys = []
    for variant in _arabic_variants(word):
        key = arabic_key(variant)
        if len(key) >= MIN_KEY:
            keys.append("n:" + key)
    return tuple(keys)


@functools.lru_cache(maxsize=1 << 16)
def _latin_word_key(match: str) -> str | None:
    word = match.strip("'’-")
    if not word or not word[0].isupper() or word.lower() in STOPWORDS:
        return None
    if word.isupper() and len(word) <= 4:  # acronyms (UN, NATO) are not transliterated
        return None
    key = latin_key(word.split("'")[0].split("’")[0])
    return "n:" + key if len(key) >= MIN_KEY else None
