"""The answerers by name: ``NEWSBOT_ANSWERER`` (or a request's ``answerer``) picks one.

A plain dict, like simonw/llm's list of models without its plugins. An answerer is a class that
follows :class:`~bot.answering.answerer.Answerer`; adding one is adding a line to
:data:`ANSWERERS` (and its name to ``Settings.answerer``: a test checks that the two agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from bot.answering.answerer import Answerer, AnswererNotConfigured
from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel
from bot.answering.extractive import ExtractiveAnswerer, LatentSimilarity, RankingWeights
from bot.answering.llm import LLMAnswerer
from bot.citations.grounding import SupportChecker


@dataclass(frozen=True)
class AnswererParts:
    """What answerers are made from; each takes what it needs."""

    support: SupportChecker
    chat_model: BaseChatModel | None = None
    confidence: ConfidenceModel = DEFAULT_CONFIDENCE
    ranking: RankingWeights = RankingWeights()
    relation_check: bool = True
    latent: LatentSimilarity | None = None


@dataclass(frozen=True)
class AnswererKind:
    build: Callable[[str, AnswererParts], Answerer]
    #: Whether it writes with a chat model (``bot.wiring.App.chat_model`` makes one for it).
    needs_chat_model: bool


def _extractive(name: str, parts: AnswererParts) -> Answerer:
    return ExtractiveAnswerer(
        name=name, confidence=parts.confidence, ranking=parts.ranking, relation_check=parts.relation_check, latent=parts.latent
    )


def _llm(name: str, parts: AnswererParts) -> Answerer:
    assert parts.chat_model is not None  # make_answerer checked
    return LLMAnswerer(name=name, chat_model=parts.chat_model, support=parts.support)


#: The answerer every chain has: offline, it needs nothing but the store.
DEFAULT_ANSWERER = "extractive"

ANSWERERS: dict[str, AnswererKind] = {
    "extractive": AnswererKind(_extractive, needs_chat_model=False),
    # Both LLM answerers are langchain-openai's client (see bot/answering/llm.py): "ollama" only
    # changes its defaults (Ollama's /v1 route, no key).
    "openai": AnswererKind(_llm, needs_chat_model=True),
    "ollama": AnswererKind(_llm, needs_chat_model=True),
}


def make_answerer(name: str, parts: AnswererParts) -> Answerer:
    """The answerer called ``name``, made from ``parts``; :class:`AnswererNotConfigured` when there
    is none of that name, or it needs a chat model and ``parts`` has none."""
    kind = ANSWERERS.get(name)
    if kind is None or (kind.needs_chat_model and parts.chat_model is None):
        raise AnswererNotConfigured(name)
    return kind.build(name, parts)
