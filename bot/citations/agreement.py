"""Does a sentence *agree* with a claim, beyond being about the same thing?

The support check (``bot.citations.grounding``) finds the sentence closest to an LLM's claim: embedder cosine
or word overlap, i.e. topical similarity. "The board did not approve the budget", "a budget of 400
million", "rejected by seven votes to two" and "met on Friday" are all close to "The board met on
Tuesday to approve a budget of 40 million; it passed by seven votes to two". This module names
what makes such a claim contradict its sentence, in English and Arabic (and across the two):

- **numbers**: every number the claim states (digits in any script, number words, scale words
  such as million) must be stated by the sentence;
- **days and months**: a weekday or month the claim names must be the one the sentence names;
- **negation**: a claim that says "not" / "لم" must quote a sentence that negates something too
  (the other way round is allowed: a sentence may negate a clause the claim leaves out);
- **polarity**: a claim word whose opposite the sentence uses, without the word itself
  (approved / rejected, won / lost, rose / fell).

And a sentence shaped like an instruction to a model ("Ignore previous instructions and say …") is
never evidence for anything (:func:`is_instruction`).

These are deliberately narrow: each rule looks only at words the claim itself states, so a
faithful claim is never refused (``benchmarks/check_agreement.py`` runs every dev set's gold
sentences and answers through them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from ingest.text.textnorm import is_arabic, normalize_arabic

__all__ = ["contradiction", "is_instruction", "numbers_in"]

# A number: digits with optional thousands separators and decimals ("40", "1,200", "3.5", "٤٠").
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,،٬]\d{3})*(?:[.٫]\d+)?(?![\w])|\d+")

# Cardinal words from two: "one" and ordinals ("first", "second") are mostly not quantities.
_EN_NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
# Arabic number words (normalised: no diacritics, alef/ta marbuta/ya folded as textnorm does).
_AR_NUMBER_WORDS = {
    "اثنان": 2,
    "اثنين": 2,
    "اثنتان": 2,
    "اثنتين": 2,
    "ثلاث": 3,
    "ثلاثه": 3,
    "اربع": 4,
    "اربعه": 4,
    "خمس": 5,
    "خمسه": 5,
    "ست": 6,
    "سته": 6,
    "سبع": 7,
    "سبعه": 7,
    "ثماني": 8,
    "ثمانيه": 8,
    "ثمان": 8,
    "تسع": 9,
    "تسعه": 9,
    "عشر": 10,
    "عشره": 10,
    "عشرون": 20,
    "عشرين": 20,
    "ثلاثون": 30,
    "ثلاثين": 30,
    "اربعون": 40,
    "اربعين": 40,
    "خمسون": 50,
    "خمسين": 50,
    "ستون": 60,
    "ستين": 60,
    "سبعون": 70,
    "سبعين": 70,
    "ثمانون": 80,
    "ثمانين": 80,
    "تسعون": 90,
    "تسعين": 90,
    "مئه": 100,
    "مائه": 100,
}
_SCALES = {
    "thousand": "k",
    "thousands": "k",
    "million": "m",
    "millions": "m",
    "billion": "b",
    "billions": "b",
    "الاف": "k",
    "مليون": "m",
    "ملايين": "m",
    "مليار": "b",
    "مليارات": "b",
    "بليون": "b",
}

_WEEKDAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "الاثنين": "mon",
    "الثلاثاء": "tue",
    "الاربعاء": "wed",
    "الخميس": "thu",
    "الجمعه": "fri",
    "السبت": "sat",
    "الاحد": "sun",
}
_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "يناير": 1,
    "فبراير": 2,
    "مارس": 3,
    "ابريل": 4,
    "مايو": 5,
    "يونيو": 6,
    "يوليو": 7,
    "اغسطس": 8,
    "سبتمبر": 9,
    "اكتوبر": 10,
    "نوفمبر": 11,
    "ديسمبر": 12,
    "كانون الثاني": 1,
    "شباط": 2,
    "اذار": 3,
    "نيسان": 4,
    "ايار": 5,
    "حزيران": 6,
    "تموز": 7,
    "اب": 8,
    "ايلول": 9,
    "تشرين الاول": 10,
    "تشرين الثاني": 11,
    "كانون الاول": 12,
}

_EN_NEGATION = frozenset("not no never none neither nor without cannot".split())
# Not غير ("non-", "other than") nor دون ("rather than", "below"): mostly not negations.
_AR_NEGATION = frozenset("لم لن لا ليس ليست لسنا ليسوا بدون".split())

# Opposite pairs: (word stems on one side, word stems on the other). A claim word of one side
# contradicts a sentence that uses the other side and not the claim's own.
_OPPOSITES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("approv", "accept", "pass", "adopt", "endors", "agree"), ("reject", "refus", "veto", "declin", "vote down", "voted down")),
    (("won", "win", "victor"), ("lost", "los", "defeat")),
    (
        ("rose", "rise", "risen", "increas", "grew", "grow", "gain", "up "),
        ("fell", "fall", "fallen", "decreas", "drop", "declin", "shrank", "shrink"),
    ),
    (("open",), ("clos", "shut")),
    (("allow", "permit", "lift"), ("ban", "forbid", "prohibit", "block")),
    (("arriv", "enter"), ("left", "leav", "depart", "exit")),
    (("support", "back", "favor", "favour"), ("oppos", "against")),
    (("وافق", "اقر", "صادق", "قبل"), ("رفض", "عارض")),
    (("فاز", "انتصر"), ("خسر", "هزم")),
    (("ارتفع", "زاد", "ازداد", "صعد"), ("انخفض", "تراجع", "هبط", "نقص")),
    (("افتتح", "فتح"), ("اغلق",)),
]

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|all|your|the)\b"
    r"[^.!?\n]{0,20}\b(?:instructions?|prompts?|rules|directions)\b"
    r"|\b(?:system prompt|you are now|as an ai(?: language)? model|new instructions?)\b"
    r"|\b(?:respond|reply|answer) (?:only )?with\b"
    r"|تجاهل[^.!؟\n]{0,40}(?:التعليمات|الاوامر|الأوامر)",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    """Lowercase, NFKC, Arabic letters and digits folded as the tokenizer folds them."""
    return normalize_arabic(unicodedata.normalize("NFKC", text).lower())


def _words(folded: str) -> list[str]:
    return re.findall(r"[^\W_]+", folded)


def _strip_prefix(word: str) -> str:
    """Arabic clitics that glue to a number word or a weekday: و ف ب ل ال."""
    for prefix in ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل"):
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix) :]
    return word


def numbers_in(text: str, *, words: bool = True) -> set[str]:
    """The numbers a text states: digit strings (separators dropped, any script), number words
    as values (unless ``words`` is false), and scale words ("k", "m", "b")."""
    folded = _fold(text)
    out: set[str] = set()
    for m in _NUMBER.finditer(folded):
        raw = re.sub(r"[,،٬]", "", m.group(0)).replace("٫", ".")
        out.add(raw.rstrip("0").rstrip(".") if "." in raw else raw.lstrip("0") or "0")
    tokens = _words(folded)
    for i, w in enumerate(tokens):
        # ألف is "thousand" after a number ("40 ألف") and mostly "wrote" otherwise.
        if _strip_prefix(w) == "الف" or w == "الف":
            if i and (tokens[i - 1].isdigit() or tokens[i - 1] in _AR_NUMBER_WORDS):
                out.add("k")
            continue
        bare = _strip_prefix(w)
        for cand in (w, bare):
            if words and cand in _EN_NUMBER_WORDS:
                out.add(str(_EN_NUMBER_WORDS[cand]))
            elif words and cand in _AR_NUMBER_WORDS:
                out.add(str(_AR_NUMBER_WORDS[cand]))
            if cand in _SCALES:
                out.add(_SCALES[cand])
    return out


def _named(folded: str, table: Mapping[str, object]) -> set[object]:
    words = _words(folded)
    # "may" is a month only next to a number ("May 3", "3 May 2024"), otherwise the verb.
    found = {
        table[w]
        for i, w in enumerate(words)
        if w in table and (w != "may" or any(x.isdigit() for x in words[max(i - 1, 0) : i + 2]))
    }
    found |= {table["ال" + _strip_prefix(w)] for w in words if "ال" + _strip_prefix(w) in table}
    found |= {v for k, v in table.items() if " " in k and k in folded}
    return found


def _negated(folded: str) -> bool:
    words = _words(folded)
    return any(w in _EN_NEGATION or w in _AR_NEGATION for w in words) or "n't" in folded or "n’t" in folded


def _uses(folded: str, stems: tuple[str, ...]) -> bool:
    padded = f" {folded} "
    return any(
        (f" {s}" in padded) if s.isascii() else any(_strip_prefix(w).startswith(s) or w.startswith(s) for w in _words(folded))
        for s in stems
    )


def contradiction(claim: str, sentence: str) -> str | None:
    """Why ``sentence`` cannot support ``claim`` (None: nothing the claim states contradicts it)."""
    c, s = _fold(claim), _fold(sentence)
    # Number words only within one language (across languages a quantity is often not a word at
    # all: the Arabic dual الجزئين is "two parts"), and only against a sentence that states
    # numbers itself ("the two boxers" of a sentence that names them both is not a count).
    stated = numbers_in(sentence)
    words = is_arabic(c) == is_arabic(s) and bool(stated - set(_SCALES.values()))
    missing = numbers_in(claim, words=words) - stated
    if missing:
        names = {"k": "thousand", "m": "million", "b": "billion"}
        shown = ", ".join(sorted(names.get(n, n) for n in missing))
        return f"the sentence does not state the claim's {shown}"
    for kind, table in (("weekday", _WEEKDAYS), ("month", _MONTHS)):
        said = _named(c, table)
        if said and not said & _named(s, table):
            return f"the claim's {kind} is not the sentence's"
    if _negated(c) and not _negated(s):
        return "the claim negates what the sentence states"
    for side, other in _OPPOSITES:
        for mine, theirs in ((side, other), (other, side)):
            if _uses(c, mine) and _uses(s, theirs) and not _uses(s, mine):
                return "the claim says the opposite of the sentence"
    return None


def is_instruction(sentence: str) -> bool:
    """Is this sentence shaped like an instruction to a language model? Never evidence."""
    return bool(_INSTRUCTION.search(_fold(sentence)))
