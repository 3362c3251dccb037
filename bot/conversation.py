"""Chat history and follow-up questions.

History comes in two shapes and both are accepted: chat messages (``{"role", "content"}``, the
Gradio format) and earlier results of the chain (``{"question", "answer", "citations", ...}``,
the ``newsbot ask --json`` format). Results carry more: the sentences that were already cited.

Without an LLM, a follow-up ("Where did he go next?") is resolved by carrying the most specific
words of the previous question (its names, its rarest terms) into retrieval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.textnorm import normalize_for_match, tokenize

# Words that point back into the conversation. Short and general on purpose.
_ANAPHORA_EN = {
    "he", "she", "they", "him", "her", "his", "hers", "their", "them", "it", "its", "there", "then",
    "next", "afterwards", "later", "also", "else", "former", "latter",
}
_ANAPHORA_AR = {
    "هو", "هي", "هم", "هما", "هن", "ذلك", "تلك", "هناك", "بعدها", "بعده", "ايضا", "كذلك",
    "له", "لها", "لهم", "منه", "منها", "عنه", "عنها", "اليه", "اليها", "معه", "معها", "التالي", "ثم",
}


@dataclass
class Turn:
    question: str
    answer: str = ""


def parse_history(history: Sequence[Any] | None) -> list[Turn]:
    """Turns from chat messages and/or earlier chain results, oldest first."""
    turns: list[Turn] = []
    for item in history or []:
        if not isinstance(item, dict):
            continue
        if "question" in item:
            turns.append(Turn(str(item["question"]), str(item.get("answer", ""))))
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
    if any(w in _ANAPHORA_EN or w in _ANAPHORA_AR for w in words):
        return True
    return len(tokenize(question)) <= 1
