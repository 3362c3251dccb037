"""Chat history and follow-up questions.

History comes in two shapes and both are accepted: chat messages (``{"role", "content"}``, the
Gradio format) and earlier results of the chain (``{"question", "answer", "citations", ...}``,
the ``newsbot ask --json`` format, or the :class:`~bot.answering.contract.AnswerResult` itself). Results carry more: the articles that were already cited.

Without an LLM, a question asked in a conversation is retrieved with the conversation: the last
turns' questions *and answers* (:class:`Conversation`) are embedded with it, and the articles the
conversation was about (cited by earlier results, or found from the turns' text) are looked at
first (see ``NewsbotChain.retrieve_for``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.answering.contract import AnswerResult
from bot.citations.markers import split_hedge
from ingest.text.textnorm import normalize_for_match, tokenize

# Earlier turns a question is retrieved with (questions and answers).
CONTEXT_TURNS = 3
_MARKERS = re.compile(r"\s*\[\d{1,3}\]")

# Words that point back into the conversation. Short and general on purpose.
_ANAPHORA_EN = {
    "he",
    "she",
    "they",
    "him",
    "her",
    "his",
    "hers",
    "their",
    "them",
    "it",
    "its",
    "there",
    "then",
    "next",
    "afterwards",
    "later",
    "also",
    "else",
    "former",
    "latter",
    # Demonstratives point back too ("Did anyone feel about this?", "What is this prediction
    # harder than?"); "that" is left out, being a relative pronoun as often.
    "this",
    "these",
    "those",
}
_ANAPHORA_AR = {
    "هو",
    "هي",
    "هم",
    "هما",
    "هن",
    "ذلك",
    "تلك",
    "هناك",
    "بعدها",
    "بعده",
    "ايضا",
    "كذلك",
    "له",
    "لها",
    "لهم",
    "منه",
    "منها",
    "عنه",
    "عنها",
    "اليه",
    "اليها",
    "معه",
    "معها",
    "التالي",
    "ثم",
    "هذا",
    "هذه",
    "هولاء",  # هؤلاء, as normalize_for_match spells it
}
# "What / who" after which a pronoun is a copula ("ما هي عاصمة اليابان؟": "what is the capital of
# Japan?"), not a reference back (unlike "هل هو متزوج؟", "is he married?").
_AR_QUESTION_WORDS = {"ما", "من"}
_AR_COPULAS = {"هو", "هي", "هم", "هما", "هن"}


@dataclass
class Turn:
    question: str
    answer: str = ""
    articles: list[str] = field(default_factory=list)  # ids of the articles its answer cited


@dataclass(frozen=True)
class Conversation:
    """What a question asked in a conversation is retrieved with."""

    text: str  # the last turns' questions and answers, oldest first, citation markers removed
    articles: tuple[str, ...] = ()  # articles cited by those turns, most recent first


def conversation(turns: Sequence[Turn], last: int = CONTEXT_TURNS) -> Conversation | None:
    """The conversation of the last ``last`` turns (None without history)."""
    recent = list(turns)[-last:]
    parts = []
    for t in recent:
        parts.append(t.question)
        if t.answer:
            parts.append(_MARKERS.sub("", t.answer))
    text = " ".join(" ".join(p.split()) for p in parts if p.strip())
    if not text:
        return None
    articles = tuple(dict.fromkeys(a for t in reversed(recent) for a in t.articles))
    return Conversation(text, articles)


def parse_history(history: Sequence[Any] | None) -> list[Turn]:
    """Turns from chat messages and/or earlier chain results (their JSON or
    :class:`AnswerResult`), oldest first."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, AnswerResult):
            # A low-confidence answer's passage may be off the topic: only confident ones say
            # where the conversation is (the same rule as for the JSON below).
            cited_ids = [c.article_id for c in item.citations] if item.confidence == "high" else []
            turns.append(Turn(item.question, "" if item.abstained else item.split_hedge()[1], cited_ids))
            continue
        if not isinstance(item, dict):
            continue
        if "question" in item:
            answer = "" if item.get("abstained") else split_hedge(item)[1]
            # A low-confidence answer's passage may be off the topic: only confident ones say
            # where the conversation is.
            confident = item.get("confidence", "high") == "high"
            cited = [c.get("article_id") for c in item.get("citations") or [] if isinstance(c, dict) and confident]
            turns.append(Turn(str(item["question"]), answer, [a for a in cited if isinstance(a, str)]))
        elif item.get("role") in ("user", "human") and isinstance(item.get("content"), str):
            turns.append(Turn(item["content"]))
        elif item.get("role") in ("assistant", "ai") and turns and isinstance(item.get("content"), str):
            turns[-1].answer = item["content"]
    return turns


def as_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    out = []
    for t in turns:
        out.append({"role": "user", "content": t.question})
        if t.answer:
            out.append({"role": "assistant", "content": t.answer})
    return out


def looks_like_follow_up(question: str) -> bool:
    """Does the question lean on the conversation (pronouns, "next", or almost no content words)?"""
    words = normalize_for_match(question).split()
    for i, w in enumerate(words):
        if w in _AR_COPULAS and i and words[i - 1] in _AR_QUESTION_WORDS:
            continue
        if w in _ANAPHORA_EN or w in _ANAPHORA_AR:
            return True
    return len(tokenize(question)) <= 1
