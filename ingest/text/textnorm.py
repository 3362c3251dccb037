"""Text normalisation and tokenisation for matching Arabic and English text.

Pure functions, no models. Three levels:

- ``normalize_arabic``: orthographic normalisation only (diacritics, tatweel, letter variants,
  digits); safe to apply to any text, keeps everything else as is.
- ``normalize_for_match``: what two texts are compared on ("does the answer contain the gold
  text"): case, Unicode compatibility forms, Arabic orthography, Latin accents and punctuation
  are all ignored.
- ``tokenize``: terms for BM25 / lexical overlap: ``normalize_for_match`` + a light,
  deterministic stemmer (a variant of Larkey et al.'s "light10" for Arabic, a few plural rules for
  English) and a short stopword list.

Why no library: the maintained-looking candidates (``pyarabic``, ``tashaphyne``) have had no
release since 2022, and the rules needed here fit in a page that we can test and reason about.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

from ingest.text.language import detect_language, is_arabic_letter

__all__ = [
    "STOPWORDS",
    "detect_lang",
    "is_arabic",
    "normalize_arabic",
    "normalize_for_match",
    "stem",
    "tokenize",
]

# --- Arabic orthography ---------------------------------------------------------------------

# Harakat, Quranic annotation marks, superscript alef and tatweel: they change how a word is
# written, not which word it is, and are used inconsistently across sources.
_ARABIC_MARKS = re.compile(
    "["
    "\u0610-\u061a"  # honorifics / small high letters
    "\u064b-\u065f"  # tanween, harakat, shadda, sukun, ...
    "\u0670"  # superscript alef
    "\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"  # Quranic marks (not the letters in between)
    "\u08d3-\u08e1\u08e3-\u08ff"  # extended Arabic marks
    "\u0640"  # tatweel (kashida)
    "]"
)

_ARABIC_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Arabic-Indic (U+0660..) and extended/Persian (U+06F0..) digits -> ASCII
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)


def normalize_arabic(text: str) -> str:
    """Strip Arabic diacritics and tatweel, unify letter variants, map Arabic digits to ASCII.

    أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي. Non-Arabic text is returned unchanged.
    """
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTER_MAP)


# --- matching -------------------------------------------------------------------------------

# Zero-width and bidi control characters: invisible, and they would split or glue words.
_FORMAT_CHARS = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_LATIN_ACCENTS = re.compile("[\u0300-\u036f]")
_SPACES = re.compile(r"\s+")


class _PunctTable(dict[int, int]):
    """``str.translate`` table: punctuation and symbols → space, any other character → itself,
    each decided once (a per-character Python loop was a tenth of indexing a corpus)."""

    def __missing__(self, cp: int) -> int:
        self[cp] = out = 32 if unicodedata.category(chr(cp))[0] in "PS" else cp
        return out


_PUNCT_TABLE = _PunctTable()


def _punct_to_space(text: str) -> str:
    # Unicode categories P* (punctuation) and S* (symbols) become spaces so "U.S." ~ "U S" and
    # "حفتر،" ~ "حفتر" on both sides of a comparison.
    return text.translate(_PUNCT_TABLE)


def normalize_for_match(text: str) -> str:
    """Normalise text for containment / overlap comparisons.

    NFKC (so Arabic presentation forms and full-width characters become plain letters), casefold,
    ``normalize_arabic``, Latin accents removed (Déby → deby), zero-width/bidi marks removed,
    punctuation and symbols → space, whitespace collapsed and stripped.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = normalize_arabic(_FORMAT_CHARS.sub("", text))
    # Decompose to drop combining accents of Latin/Greek/Cyrillic letters only, then recompose.
    text = unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    return _SPACES.sub(" ", _punct_to_space(text)).strip()


# --- stopwords ------------------------------------------------------------------------------

# Function words that carry no topic: question words, pronouns, common prepositions,
# auxiliaries. Deliberately short; BM25's idf already discounts frequent words, this list mostly
# keeps question words ("who", "متى") from matching unrelated passages.
_EN_STOPWORDS = """
a an the and or but if of in on at to for from by with about into over as than then so
is are was were be been being am do does did has have had will would can could should may might
it its this that these those there here he she they we you i me him her them his their our your
my what which who whom whose when where why how not no
""".split()

_AR_STOPWORDS = """
في من على إلى الى عن مع أن إن ان أو او ثم هل قد لم لن لا ما ماذا متى أين كيف كم لماذا أي
هو هي هم هما هن أنا نحن أنت هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذان اللتان اللاتي
كان كانت يكون كل بعض بين عند منذ حتى إذا اذا لقد ف و ب ل ك
""".split()

STOPWORDS: frozenset[str] = frozenset(normalize_for_match(w) for w in _EN_STOPWORDS + _AR_STOPWORDS)

# --- stemming -------------------------------------------------------------------------------

# Definite-article prefixes, alone or after a conjunction/preposition (longest first). "لل" is
# ل + ال with the alef dropped, as Arabic spelling requires.
_AR_ARTICLE_PREFIXES = ("وبال", "فبال", "وكال", "فكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل", "ال")
# Suffixes (after normalisation ة→ه, ى→ي), longest first: pronoun suffixes, sound plurals,
# nisba adjectives, feminine/possessive ه. Dual/plural "ان" is left out on purpose: it collides
# with many proper names (لبنان، إيران، السودان).
_AR_SUFFIXES = ("هما", "ها", "هم", "ات", "ون", "ين", "يه", "ه", "ي")
_AR_MIN_STEM = 3


def _stem_arabic(tok: str) -> str:
    # 1. one article-bearing prefix, if at least 2 letters remain (light10's rule).
    for p in _AR_ARTICLE_PREFIXES:
        if tok.startswith(p) and len(tok) - len(p) >= 2:
            tok = tok[len(p) :]
            break
    # 2. a leading و (conjunction), at most twice, if >= 3 letters remain. Applied after the
    #    article too, so وزير / الوزير / ووزير / والوزير all give the same stem; the price is that
    #    stems that really start with و lose it, consistently in documents and queries.
    for _ in range(2):
        if tok.startswith("و") and len(tok) - 1 >= _AR_MIN_STEM:
            tok = tok[1:]
    # 3. one suffix, if >= 3 letters remain (Arabic roots are mostly triliteral).
    for s in _AR_SUFFIXES:
        if tok.endswith(s) and len(tok) - len(s) >= _AR_MIN_STEM:
            return tok[: -len(s)]
    return tok


def _stem_english(tok: str) -> str:
    # A few regular plural rules only; the same rule runs on documents and queries, so a
    # truncated stem ("force" from "forces") still matches.
    if len(tok) <= 4 or not tok.isascii() or not tok.isalpha():
        return tok
    if tok.endswith("ies"):
        return tok[:-3] + "y"
    if tok.endswith("sses"):
        return tok[:-2]
    if tok.endswith(("ss", "us", "is")):
        return tok
    if tok.endswith("s"):
        return tok[:-1]
    return tok


def stem(token: str) -> str:
    """Stem one token of ``normalize_for_match`` output (Arabic light stemming or English plurals)."""
    if any(is_arabic_letter(c) for c in token):
        return _stem_arabic(token)
    return _stem_english(token)


_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b", re.IGNORECASE)
# Dotted initialisms ("U.S.", "U.N.") would otherwise fall apart into dropped 1-letter tokens.
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_PRONOUN_SUFFIXES = ("هما", "ها", "هم", "هن", "ه")


def _is_function_word(tok: str) -> bool:
    if tok in STOPWORDS:
        return True
    # منها، فيه، عنهم: a preposition carrying a pronoun is still a function word.
    return any(tok.endswith(s) and tok[: -len(s)] in STOPWORDS for s in _PRONOUN_SUFFIXES)


def tokenize(text: str) -> list[str]:
    """Terms for BM25 and lexical overlap, in text order (duplicates kept).

    Drops stopwords (before and after stemming: "منها" → "من" is a function word) and
    single-character non-digit tokens.
    """
    text = _INITIALISM.sub(lambda m: m.group(0).replace(".", "") + " ", _POSSESSIVE.sub("", text))
    return [term for tok in _WORD.findall(normalize_for_match(text)) if (term := _term(tok)) is not None]


@functools.lru_cache(maxsize=1 << 16)
def _term(tok: str) -> str | None:
    """The term of one normalised token, None for a function word or a 1-letter token. Cached:
    words repeat (Zipf), and stemming each occurrence was most of the time to index a corpus."""
    if _is_function_word(tok):
        return None
    st = stem(tok)
    if st in STOPWORDS or (len(st) < 2 and not st.isdigit()):
        return None
    return st


# --- language -------------------------------------------------------------------------------


def is_arabic(text: str) -> bool:
    """True when Arabic letters are at least half the letters of ``text`` (:func:`detect_language`)."""
    return detect_language(text) == "ar"


def detect_lang(text: str) -> Literal["ar", "en"]:
    """Language of a question: "ar" when Arabic letters are at least half its letters, else "en"."""
    return "ar" if is_arabic(text) else "en"
