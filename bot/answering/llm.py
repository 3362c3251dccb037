"""The LLM answerers (``openai``, ``ollama``): their chat models, and the two things newsbot asks them.

Any OpenAI-compatible endpoint works through langchain-openai's ``ChatOpenAI`` with a base URL:
OpenAI, vLLM, llama.cpp's server, and Ollama (``http://localhost:11434/v1``). A separate
langchain-ollama backend would add nothing for newsbot's plain chat calls, so ``ollama`` is the
same client pointed at Ollama's ``/v1`` route (its default base URL).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from bot.answering.answerer import Draft
from bot.answering.confidence import Confidence
from bot.answering.contract import Delta
from bot.citations.grounding import GroundedAnswer, SupportChecker, ground_claims
from bot.citations.markers import clean_answer
from bot.retrieval.results import Retrieval
from ingest.errors import ConfigError, NewsbotError
from prompts.templates import ANSWER, CONDENSE, LANGUAGE_NAMES, format_history, format_passages

logger = logging.getLogger(__name__)

OLLAMA_DEFAULT_URL = "http://localhost:11434/v1"
#: The longest answer read from an LLM (characters): newsbot answers in a few cited sentences; a
#: model that runs on (or a server that ignores ``max_tokens``) is cut here.
MAX_ANSWER_CHARS = 6000


class LLMError(NewsbotError):
    """The LLM endpoint failed; the message names it and the setting to check."""


@dataclass(frozen=True)
class LLMAnswerer:
    """The :class:`~bot.answering.answerer.Answerer` that has a chat model write the answer from the
    numbered passages; each claim must then be supported by the sentence it cites
    (:func:`bot.citations.grounding.ground_claims`), or it is dropped."""

    name: str
    chat_model: BaseChatModel
    support: SupportChecker
    streams_tokens = True  # its deltas are the model's raw text

    def answer(self, retrieval: Retrieval, question: str, language: str) -> Iterator[Delta | Draft]:
        numbered = {p.rank: p for p in retrieval.passages}
        passages = [{"n": p.rank, "title": p.title, "date": p.meta.get("date"), "text": p.text} for p in retrieval.passages]
        raw_parts: list[str] = []
        messages = answer_messages(retrieval.search_question, passages, language)
        for delta in stream_answer(self.chat_model, messages):
            raw_parts.append(delta)
            yield Delta(text=delta)
        cleaned = clean_answer("".join(raw_parts), valid=set(numbered))
        if cleaned.abstained:
            grounded = GroundedAnswer(text="", citations=[], dropped_numbers=cleaned.dropped)
        else:
            grounded = ground_claims(cleaned.claims, numbered, self.support)
            grounded.dropped_numbers = cleaned.dropped
        # The LLM's answer is confident unless the citation checks had to remove claims.
        confidence: Confidence = "none" if grounded.abstained else "low" if grounded.dropped_claims else "high"
        yield Draft(grounded, confidence, hedge="partial" if confidence == "low" else None)


def make_chat_model(
    kind: str,
    *,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    timeout: float,
    temperature: float,
    max_tokens: int | None = None,
) -> Any:
    """A LangChain chat model for ``kind`` ('openai' or 'ollama'). ``timeout`` bounds each reply
    from the server, and (:func:`stream_answer`) a whole answer; ``max_tokens`` its length."""
    if kind == "ollama":
        base_url = base_url or OLLAMA_DEFAULT_URL
        api_key = api_key or "ollama"
    if not model:
        raise ConfigError(f"the {kind} answerer needs a model name: set NEWSBOT_LLM_MODEL")
    if kind == "openai" and not base_url and not api_key:
        raise ConfigError(
            "the openai answerer needs NEWSBOT_LLM_BASE_URL (any OpenAI-compatible server) "
            "or NEWSBOT_LLM_API_KEY (for api.openai.com)"
        )
    try:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError("langchain-openai is not installed: pip install langchain-openai") from exc
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=SecretStr(api_key or "not-needed"),
        timeout=timeout,
        temperature=temperature,
        max_tokens=max_tokens,  # type: ignore[call-arg]  # the alias of max_completion_tokens
        max_retries=1,
    )


def describe_endpoint(model: Any) -> str:
    url = getattr(model, "openai_api_base", None) or "the default OpenAI endpoint"
    return f"{url} (model {getattr(model, 'model_name', '?')})"


def _llm_error(model: Any, exc: Exception) -> LLMError:
    name = type(exc).__name__
    if "Timeout" in name:  # it was reached, and did not answer in time
        budget = getattr(model, "request_timeout", None)
        within = f" within {budget:g} s" if isinstance(budget, (int, float)) else ""
        return LLMError(
            f"the LLM at {describe_endpoint(model)} did not answer{within} (NEWSBOT_LLM_TIMEOUT); "
            "it may be busy or the model too slow for this machine"
        )
    if "Connection" in name:
        return LLMError(
            f"cannot reach the LLM at {describe_endpoint(model)}: {name}; "
            "check NEWSBOT_LLM_BASE_URL, or unset it to use the offline extractive answerer"
        )
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else name
    return LLMError(f"the LLM at {describe_endpoint(model)} failed: {text}")


def answer_messages(question: str, passages: Sequence[dict[str, Any]], language: str) -> list[tuple[str, str]]:
    return ANSWER.render(
        language_name=LANGUAGE_NAMES.get(language, language),
        passages=format_passages(passages),
        question=question,
    )


def stream_answer(model: Any, messages: list[tuple[str, str]], *, max_chars: int | None = None) -> Iterator[str]:
    """Text deltas of the model's answer.

    The server's timeout bounds each read; the model's ``request_timeout`` also bounds the whole
    answer (a server that trickles a token every few seconds would otherwise never finish and
    hold a worker), and an answer is cut after ``max_chars`` (:data:`MAX_ANSWER_CHARS` unless given).
    """
    max_chars = MAX_ANSWER_CHARS if max_chars is None else max_chars
    budget = getattr(model, "request_timeout", None)
    deadline = time.monotonic() + budget if isinstance(budget, (int, float)) and budget > 0 else None
    stream = model.stream(messages)
    total = 0
    try:
        for chunk in stream:
            text = chunk.content if isinstance(chunk.content, str) else _flatten(chunk.content)
            if deadline is not None and time.monotonic() > deadline:
                raise LLMError(
                    f"the LLM at {describe_endpoint(model)} did not finish its answer within {budget:g} s (NEWSBOT_LLM_TIMEOUT)"
                )
            if text and total + len(text) >= max_chars:
                logger.warning("LLM answer cut at %d characters", max_chars)
                yield text[: max_chars - total]
                return
            if text:
                total += len(text)
                yield text
    except NewsbotError:
        raise
    except Exception as exc:
        raise _llm_error(model, exc) from exc
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # stop reading (and drop the connection) when cut short


def condense_question(model: Any, question: str, history: Sequence[dict[str, Any]]) -> str:
    """A standalone version of a follow-up question (same language)."""
    messages = CONDENSE.render(history=format_history(history), question=question)
    try:
        reply = model.invoke(messages)
    except Exception as exc:
        raise _llm_error(model, exc) from exc
    text = reply.content if isinstance(reply.content, str) else _flatten(reply.content)
    text = " ".join(text.split()).strip().strip('"“”')
    return text or question


def _flatten(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content or "")
