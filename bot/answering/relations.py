"""Relation cues: a question that asks for a birth date, a capital or a population is answered
only from passages that have a sentence able to say so.

The extractive answerer's evidence scores measure how close a sentence is to the question's
*topic*. On "What is Haftar's date of birth?" over articles about Haftar's meetings, every
sentence is close to the topic and none states the fact, and the scores can't tell: the embedder
ranks a sentence about a meeting on 2 June as high as one would rank "Haftar was born in 1943".
For a handful of relations that factoid questions ask about again and again, the words that state
them are few and the same in every text (born / ولد، ميلاد، مواليد; capital / عاصمة). When the
question asks for one of them, the extractive answerer answers only if the retrieved passages hold
a sentence that carries one of its cues, and says the articles don't say otherwise. Which sentence
it quotes stays the evidence ranking's choice: quoting only cue sentences was measured and lost
correct citations (a gold sentence often states the fact in words outside the cue list).

The list is deliberately short: each relation's cues must be near-certain to appear in a sentence
that states it, in English and in Arabic, or the check would silence answers the articles do give.
Patterns are matched on ``normalize_for_match`` text (casefolded; Arabic alef/ya/ta-marbuta
unified, diacritics removed), Arabic words with their clitic prefixes (و ف ب ل ك ال).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.text.textnorm import normalize_for_match

_AR_PREFIX = r"(?:^|(?<=\s))(?:[وفبلك]?(?:ال)?|[وف]?[بلك]?ال)"


def _ar(*stems: str) -> str:
    """Arabic words starting with one of ``stems`` (after clitics), as a regex alternative."""
    norm = sorted({normalize_for_match(s) for s in stems}, key=len, reverse=True)
    return _AR_PREFIX + "(?:" + "|".join(map(re.escape, norm)) + ")"


def _en(*words: str) -> str:
    return r"\b(?:" + "|".join(words) + r")"


@dataclass(frozen=True)
class Relation:
    name: str
    asks: re.Pattern[str]  # the question asks for it (normalised text)
    states: re.Pattern[str]  # a sentence can state it (normalised text)
    states_raw: re.Pattern[str] | None = None  # ... or in its raw form (punctuation matters)

    def stated_in(self, text: str) -> bool:
        if self.states_raw is not None and self.states_raw.search(text):
            return True
        return bool(self.states.search(normalize_for_match(text)))


def _relation(name: str, asks: list[str], states: list[str], states_raw: str | None = None) -> Relation:
    raw = re.compile(states_raw) if states_raw else None
    return Relation(name, re.compile("|".join(asks)), re.compile("|".join(states)), raw)


# Raw-text cues (normalising drops the punctuation they need): a life span in parentheses, as
# encyclopedias open a biography, "(14 March 1879 – 18 April 1955)", and "b. 1879" / "d. 1955".
_DASH = "[-–—]"
_BORN_SPAN = r"\([^()]{0,40}?\d{3,4}[^()\d]{0,20}?" + _DASH + r"|\bb\.\s*\d{3,4}\b"
_DIED_SPAN = _DASH + r"[^()]{0,40}?\d{3,4}\s*\)" + r"|\bd\.\s*\d{3,4}\b"


RELATIONS: tuple[Relation, ...] = (
    _relation(
        "birth",
        [_en(r"born\b", r"birth"), _ar("ولد ", "ولدت", "يولد", "مولد", "ميلاد", "مواليد", "ولادة")],
        [_en(r"born\b", r"birth"), _ar("ولد", "ولدت", "يولد", "مولد", "ميلاد", "مواليد", "ولادة")],
        _BORN_SPAN,
    ),
    _relation(
        "death",
        [
            _en(r"died\b", r"dies?\b", r"death", r"pass(?:ed)? away"),
            _ar("توفي", "وفاة", "وفيات", "مات ", "ماتت", "موته", "موتها"),
        ],
        [
            _en(r"died\b", r"dies?\b", r"death", r"dead\b", r"pass(?:ed)? away", r"killed", r"assassinat"),
            _ar(
                "توفي",
                "توفى",
                "وفاة",
                "وفاته",
                "وفيات",
                "مات",
                "موت",
                "مقتل",
                "قتل",
                "اغتيل",
                "اغتيال",
                "رحيل",
                "رحل",
                "استشهد",
                "إعدام",
                "أعدم",
            ),
        ],
        _DIED_SPAN,
    ),
    _relation(
        "capital",
        [_en(r"capital\b"), _ar("عاصمة", "عاصمت")],
        [_en(r"capital\b"), _ar("عاصمة", "عاصمت", "عواصم")],
    ),
    _relation(
        "population",
        [_en(r"population", r"inhabitants", r"how many (?:people|residents|citizens) live"), _ar("سكان", "تعداد", "نسمة")],
        [
            _en(r"population", r"inhabitants", r"residents", r"people", r"citizens"),
            _ar("سكان", "تعداد", "نسمة", "يقطن", "قاطن", "مواطن", "شخص", "نفس", "مليون", "ألف"),
        ],
    ),
    _relation(
        "currency",
        [_en(r"currency"), _ar("عملة")],
        [
            _en(
                r"currency",
                r"dollar",
                r"euro",
                r"pound",
                r"dinar",
                r"dirham",
                r"riyal",
                r"rial",
                r"lira",
                r"yen\b",
                r"ruble",
                r"rupee",
            ),
            _ar("عملة", "دولار", "يورو", "جنيه", "دينار", "درهم", "ريال", "ليرة", "روبل", "روبية"),
        ],
    ),
)


def question_relation(question: str) -> Relation | None:
    """The relation the question asks for, if it is one of :data:`RELATIONS`."""
    text = normalize_for_match(question)
    for relation in RELATIONS:
        if relation.asks.search(text):
            return relation
    return None
