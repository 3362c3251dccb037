"""What an answerer is: the part of the chain that turns the retrieved evidence into an answer.

The chain (:mod:`bot.answering.chain`) retrieves the passages and scores their sentences, asks the
answerer for a :class:`Draft` (the cited claims and how sure it is), then adds the hedge or the
abstention message and builds the result. The answerers, by name, are in
:mod:`bot.answering.registry`: the extractive one (:mod:`bot.answering.extractive`) quotes sentences,
offline; the LLM one (:mod:`bot.answering.llm`) has a chat model write the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.language_models import BaseChatModel

from bot.answering.confidence import Confidence
from bot.answering.contract import Delta
from bot.citations.grounding import GroundedAnswer
from bot.retrieval.results import Retrieval
from ingest.errors import NewsbotError


@dataclass
class Draft:
    """An answerer's answer, before the chain adds the hedge or the abstention message."""

    grounded: GroundedAnswer
    confidence: Confidence
    #: The scores the confidence was computed from (``AnswerResult.evidence``); empty when none were.
    evidence: dict[str, float] = field(default_factory=dict)
    #: What a ``low`` answer opens with: a key of ``prompts.templates.HEDGE_MESSAGES``.
    hedge: str | None = None


class Answerer(Protocol):
    """Writes the answer from a :class:`~bot.retrieval.results.Retrieval`; the chain does the rest."""

    @property
    def name(self) -> str:
        """Its name in the registry (``AnswerResult.answerer``)."""
        ...

    @property
    def chat_model(self) -> BaseChatModel | None:
        """The LLM it writes with, or None when it needs none. The chain condenses follow-up
        questions with it; without one, a follow-up is searched with the conversation."""
        ...

    @property
    def streams_tokens(self) -> bool:
        """True when its ``Delta`` events are its text as it is written (then cleaned up in the
        result); when False, the chain sends the final answer as one ``Delta``."""
        ...

    def answer(self, retrieval: Retrieval, question: str, language: str) -> Iterator[Delta | Draft]:
        """``Delta`` events (if it streams), then one :class:`Draft`, last. ``question`` is the
        reader's own words; ``retrieval.search_question`` is what was searched (a follow-up's
        standalone version). ``language``: the question's."""
        ...


class AnswererNotConfigured(NewsbotError):
    """No answerer of that name, or one that needs a chat model and has none."""

    def __init__(self, name: str) -> None:
        super().__init__(f"answerer {name!r} is not configured (see NEWSBOT_ANSWERER)")
