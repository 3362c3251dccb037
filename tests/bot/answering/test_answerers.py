"""The answerers by name (bot.answering.registry): what each kind is made of, the clear error for a
name that is not configured, and a chain that answers with the answerer a request names.

Real Chroma in a temp dir with the fake (hashing) embedder; the only fakes are the chat models,
which record what they are sent.
"""

from __future__ import annotations

import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from articles import PORT_LUMEN_LLM
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from bot.answering.answerer import AnswererNotConfigured
from bot.answering.chain import NewsbotChain
from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.llm import LLMAnswerer
from bot.answering.registry import ANSWERERS, DEFAULT_ANSWERER, AnswererParts, make_answerer
from bot.citations.grounding import SupportChecker
from bot.retrieval.hybrid import HybridRetriever
from bot.settings import Settings
from ingest.errors import NewsbotError
from ingest.pipeline import Ingestor

WATER_QUESTION = "How much drinking water does the Port Lumen plant produce per day?"
WATER_CLAIM = "The Port Lumen plant produces forty thousand cubic metres of drinking water per day"


class RecordingChatModel(GenericFakeChatModel):
    """Answers every prompt with ``reply`` (citing passage [1]) and records the prompts."""

    messages: Any = Field(default_factory=lambda: iter(()))  # unused: ``reply`` drives it
    reply: str = f"{WATER_CLAIM} [1]."
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])


# The extractive answerer sure of every answer (the fake embedder's scores say little).
SURE = replace(
    DEFAULT_CONFIDENCE,
    bias=10.0,
    weights=tuple(0.0 for _ in ConfidenceModel.FEATURES),
    bias_no_terms=10.0,
    weights_no_terms=tuple(0.0 for _ in ConfidenceModel.NO_TERMS_FEATURES),
)


def unused_support() -> SupportChecker:
    """The LLM answerer's claim checker, for tests that never check a claim."""
    return SupportChecker(None, None)


@pytest.fixture
def retriever(tmp_path: Path, store, fake_embeddings) -> HybridRetriever:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "port.md").write_text(PORT_LUMEN_LLM, encoding="utf-8")
    report = Ingestor(store).ingest_paths([folder])
    assert report.ingested == 1, report.summary()
    return HybridRetriever(store, fake_embeddings)


# --------------------------------------------------------------------------- the registry


def test_the_registry_and_the_setting_name_the_same_answerers() -> None:
    assert list(ANSWERERS) == list(typing.get_args(Settings.model_fields["answerer"].annotation))
    assert DEFAULT_ANSWERER == Settings.model_fields["answerer"].default == "extractive"


def test_each_kind_says_whether_it_writes_with_a_chat_model() -> None:
    model = RecordingChatModel()
    made = {name: make_answerer(name, AnswererParts(unused_support(), chat_model=model)) for name in ANSWERERS}
    assert [(name, a.name, a.chat_model is model, a.streams_tokens) for name, a in made.items()] == [
        ("extractive", "extractive", False, False),
        ("openai", "openai", True, True),
        ("ollama", "ollama", True, True),
    ]
    assert isinstance(made["extractive"], ExtractiveAnswerer) and made["extractive"].chat_model is None
    assert isinstance(made["openai"], LLMAnswerer)
    assert [name for name, kind in ANSWERERS.items() if kind.needs_chat_model] == ["openai", "ollama"]
    assert model.calls == []  # making an answerer asks the model nothing


@pytest.mark.parametrize("name", ["nonsense", "openai", "ollama", ""])
def test_a_name_that_is_not_configured_is_a_clear_error(name: str) -> None:
    """Unknown names, and LLM answerers without a chat model: the message names the setting."""
    with pytest.raises(AnswererNotConfigured) as caught:
        make_answerer(name, AnswererParts(unused_support()))
    assert str(caught.value) == f"answerer {name!r} is not configured (see NEWSBOT_ANSWERER)"
    assert isinstance(caught.value, NewsbotError)  # the CLI prints it on one line; the web app as a notice


# --------------------------------------------------------------------------- the chain asks the registry


def test_the_chain_has_the_extractive_answerer_and_those_given_a_chat_model(retriever) -> None:
    assert list(NewsbotChain(retriever).answerers) == ["extractive"]
    openai, ollama = RecordingChatModel(), RecordingChatModel()
    chain = NewsbotChain(retriever, answerer="ollama", chat_model=ollama, chat_models={"openai": openai})
    assert list(chain.answerers) == ["extractive", "openai", "ollama"]
    assert chain.answerers["ollama"].chat_model is ollama and chain.answerers["openai"].chat_model is openai


def test_each_request_is_answered_by_the_answerer_it_names(retriever) -> None:
    openai = RecordingChatModel()
    ollama = RecordingChatModel(reply="Zebras migrate across Saturn during winter [1].")
    chain = NewsbotChain(retriever, answerer="openai", chat_models={"openai": openai, "ollama": ollama}, k=1, confidence=SURE)

    by_default = chain.invoke(WATER_QUESTION)
    assert (by_default.answerer, len(openai.calls), len(ollama.calls)) == ("openai", 1, 0)
    assert by_default.answer == f"{WATER_CLAIM}. [1]" and by_default.confidence == "high"

    named = chain.invoke({"question": WATER_QUESTION, "answerer": "ollama"})
    assert (named.answerer, len(openai.calls), len(ollama.calls)) == ("ollama", 1, 1)
    assert named.abstained is True and named.dropped_claims  # its claim is not in the passages

    quoted = list(chain.stream({"question": WATER_QUESTION, "answerer": "extractive"}))
    assert (quoted[-1].result.answerer, len(openai.calls), len(ollama.calls)) == ("extractive", 1, 1)
    # An answerer that does not stream tokens: its final answer is sent as the one delta.
    deltas = [e.text for e in quoted if type(e).__name__ == "Delta"]
    assert deltas == [quoted[-1].result.answer] and "forty thousand cubic metres" in deltas[0]


def test_a_request_naming_an_answerer_the_chain_lacks_fails_before_retrieval(store, fake_embeddings) -> None:
    chain = NewsbotChain(HybridRetriever(store, fake_embeddings))  # an empty store: retrieving would fail otherwise
    for name in ("openai", "nonsense"):
        with pytest.raises(AnswererNotConfigured, match=f"answerer '{name}' is not configured"):
            chain.invoke({"question": WATER_QUESTION, "answerer": name})
    with pytest.raises(NewsbotError, match="no articles yet"):
        chain.invoke({"question": WATER_QUESTION, "answerer": "extractive"})
