"""Named, versioned prompt templates. Text and pure formatting only; imports nothing of newsbot.

Bump a prompt's ``version`` whenever its text changes: answers and evaluation runs record it.
``tests/test_prompts.py`` holds the exact rendered text of every prompt (golden tests), so each
change shows up in review.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ABSTAIN_MESSAGES",
    "HEDGE_MESSAGES",
    "ANSWER",
    "CANNOT_ANSWER",
    "CONDENSE",
    "LANGUAGE_NAMES",
    "PROMPTS",
    "NamedPrompt",
    "format_history",
    "format_passages",
]

# What the model must reply, alone, when the passages do not answer the question. Imported by the
# prompt below and by the code and tests that detect abstention, so they cannot drift apart.
CANNOT_ANSWER = "INSUFFICIENT_EVIDENCE"

# What the user sees instead of the sentinel, in the question's language.
ABSTAIN_MESSAGES: dict[str, str] = {
    "en": "The articles don't say.",
    "ar": "لا تذكر المقالات ذلك.",
}

# What starts a low-confidence answer, in the question's language. "closest": the evidence is
# weak and the extractive answerer shows the closest passage it found; "partial": an LLM answer
# from which the citation checks removed claims the passages did not support.
HEDGE_MESSAGES: dict[str, dict[str, str]] = {
    "closest": {
        "en": "The articles may not answer this directly. The closest passage says:",
        "ar": "قد لا تجيب المقالات عن هذا مباشرة. أقرب ما ورد فيها:",
    },
    "partial": {
        "en": "Only part of this answer could be checked against the articles:",
        "ar": "أمكن التحقق من جزء من هذه الإجابة فقط في المقالات:",
    },
}

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ar": "Arabic"}


def _fields(template: str) -> frozenset[str]:
    names = set()
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        # Plain {name} only: attribute/index access or format specs would let a template
        # reach into objects or fail late on the wrong type.
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"template field {{{name}}} must be a plain {{identifier}}")
        names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class NamedPrompt:
    """A system + user prompt pair with ``str.format`` fields (write literal braces as ``{{ }}``)."""

    name: str
    version: str
    system: str
    user: str
    variables: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", _fields(self.system) | _fields(self.user))

    def render(self, **values: Any) -> list[tuple[str, str]]:
        """``[("system", ...), ("human", ...)]``, ready for a LangChain chat model's ``invoke``.

        Every variable must be given and nothing else: a typo fails here instead of silently
        sending a prompt with a hole in it.
        """
        missing = self.variables - values.keys()
        unknown = values.keys() - self.variables
        if missing or unknown:
            raise ValueError(f"prompt {self.name!r} (v{self.version}): missing {sorted(missing)}, unknown {sorted(unknown)}")
        return [("system", self.system.format(**values)), ("human", self.user.format(**values))]

    def override(self, *, system: str | None = None, user: str | None = None, version: str) -> NamedPrompt:
        """A customised copy. It may only use variables this prompt uses (the code fills no others)."""
        new = NamedPrompt(
            self.name, version, system if system is not None else self.system, user if user is not None else self.user
        )
        if not new.variables <= self.variables:
            raise ValueError(
                f"override of prompt {self.name!r} uses unknown variables {sorted(new.variables - self.variables)}; "
                f"allowed: {sorted(self.variables)}"
            )
        return new


ANSWER = NamedPrompt(
    name="answer",
    version="1",
    system=(
        "You answer questions about news articles. Use ONLY the numbered passages in the user's "
        "message, never your own knowledge.\n"
        "\n"
        "Rules:\n"
        "- Write the answer in {language_name}, even when the passages are in another language. "
        "Write names of people and places as they are usually spelled in {language_name}; if you "
        "are not sure, copy them from the passage.\n"
        "- Be short: 1 to 3 sentences that answer the question directly. Do not talk about the "
        'passages themselves (no "according to passage 2").\n'
        "- End every sentence with the number of the passage that supports it, in square "
        "brackets. Cite two passages as [1][2].\n"
        "- Valid citations: [1]  [1][2]\n"
        "- Invalid citations: (1)  [Passage 1]  [1-3]\n"
        "- Cite only the numbers listed in the passages. Never invent a number.\n"
        f"- If the passages do not contain the answer, reply with exactly {CANNOT_ANSWER} and "
        "nothing else."
    ),
    user="Passages:\n{passages}\n\nQuestion: {question}",
)

CONDENSE = NamedPrompt(
    name="condense",
    version="1",
    system=(
        "Rewrite the follow-up question as a standalone question that can be understood without "
        'the chat history: replace pronouns and references such as "he", "there", "that", '
        '"هو" or "ذلك" with what they refer to in the history. Write it in the same language '
        "as the follow-up question. If it is already standalone, repeat it unchanged. Output only "
        "the question: no answer, no explanation, no quotation marks."
    ),
    user="Chat history:\n{history}\n\nFollow-up question: {question}\n\nStandalone question:",
)

PROMPTS: dict[str, NamedPrompt] = {p.name: p for p in (ANSWER, CONDENSE)}


def format_passages(passages: Sequence[Mapping[str, Any]]) -> str:
    """Number passages for the answer prompt: ``[n] (title, date)`` then the text, blank line between.

    Each mapping has ``n`` and ``text``; ``title`` and ``date`` are optional (left out when empty).
    """
    blocks = []
    for p in passages:
        meta = ", ".join(str(p[key]) for key in ("title", "date") if p.get(key))
        head = f"[{p['n']}] ({meta})" if meta else f"[{p['n']}]"
        blocks.append(f"{head}\n{str(p['text']).strip()}")
    return "\n\n".join(blocks)


_ROLE_NAMES = {"user": "User", "human": "User", "assistant": "Assistant", "ai": "Assistant"}


def format_history(turns: Sequence[Mapping[str, Any]]) -> str:
    """Chat turns (``{"role": "user"|"assistant", "content": str}``, the Gradio messages format)
    as ``User: ...`` / ``Assistant: ...`` lines; unknown roles and empty turns are skipped."""
    lines = []
    for turn in turns:
        who = _ROLE_NAMES.get(str(turn.get("role", "")).lower())
        content = turn.get("content")
        if who and isinstance(content, str) and content.strip():
            lines.append(f"{who}: {' '.join(content.split())}")
    return "\n".join(lines)
