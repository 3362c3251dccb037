"""The answer chain: one LangChain Runnable that the CLI, the web UI and the evaluation all call.

Input: an :class:`~bot.answering.contract.AskRequest`, just the question, or a dict of the
request's fields (validated into an ``AskRequest``: LangChain callers and JSON keep working)::

    {"question": str,
     "history": [...],            # optional: chat messages or earlier results (bot.answering.conversation)
     "k": int,                    # optional: passages to retrieve
     "filters": {"article_id", "source", "since", "until"},   # optional
     "answerer": "extractive"|"openai"|...}                    # optional: override per call (bot.answering.registry)

``invoke`` returns an :class:`~bot.answering.contract.AnswerResult` (its ``to_json()`` is
``newsbot ask --json``). ``stream`` yields the events of :mod:`bot.answering.contract`::

    Retrieved(retrieved=[...])     # event "retrieved": passages found (for a debug view)
    Delta(text=str)                # event "delta": answer text as it is written (raw)
    Result(result=AnswerResult)    # event "result": the final, citation-checked result

The result's ``confidence`` says how sure the answer is (``bot.answering.confidence``): ``"high"`` (the
quoted sentence answers), ``"low"`` (the answer starts with a hedge, also given as
``result.hedge``, then the closest sentence with its citation; ``abstained`` is false) or
``"none"`` (``abstained`` is true: "The articles don't say.", no citations).

The answer itself is written by an :class:`~bot.answering.answerer.Answerer`, chosen by name from
the chain's answerers (:mod:`bot.answering.registry`). The streamed deltas are the answerer's raw
text; the final result is what survived the citation checks (unsupported sentences dropped,
numbers renumbered), so a UI replaces the streamed text with ``result.answer`` at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from bot.answering.answerer import Answerer, AnswererNotConfigured, Draft
from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel
from bot.answering.contract import (
    AnswerResult,
    AskRequest,
    Citation,
    ConversationContext,
    Delta,
    Result,
    Retrieved,
    RetrievedPassage,
    StreamEvent,
    Timings,
)
from bot.answering.conversation import Conversation, Turn, as_messages, conversation, looks_like_follow_up, parse_history
from bot.answering.extractive import RankingWeights
from bot.answering.llm import condense_question
from bot.answering.registry import DEFAULT_ANSWERER, AnswererParts, make_answerer
from bot.citations.grounding import SupportChecker
from bot.retrieval.filters import Filters
from bot.retrieval.hybrid import HybridRetriever
from bot.retrieval.results import Retrieval
from ingest.errors import NewsbotError
from ingest.text.textnorm import detect_lang
from prompts.templates import ABSTAIN_MESSAGES, HEDGE_MESSAGES

logger = logging.getLogger(__name__)

# A question asked in a conversation is searched with it. CONTEXT_WEIGHT: the weight of the
# conversation's embedding (earlier turns + the question) next to the question's own in the query
# vector; CONVERSATION_HEAD_START: the head start of passages in the conversation's articles in
# the fusion (cosine units). One pair for questions that lean on the conversation ("What did he
# do?", ``looks_like_follow_up``), one for the others (a new question may change the topic).
# Chosen by benchmarks/fit_followups.py: coqa-news-dev conversations, and arcd/mlqa questions
# asked right after a turn about another article.
# Measured there: any pull of the conversation on the other questions cost the questions that
# change the topic more than it gave the ones that don't, so they are searched alone.
# Last rerun on the stores of ~1,000-character chunks, with demonstratives counted as pointing
# back (``looks_like_follow_up``): the script's rule (best on coqa, at most 0.02 lost on any
# topic-switch group) picks exactly these values.
CONTEXT_WEIGHT = {"follow-up": 3.0, "other": 0.0}
CONVERSATION_HEAD_START = {"follow-up": 0.05, "other": 0.0}


class EmptyStoreError(NewsbotError):
    def __init__(self) -> None:
        super().__init__("no articles yet: ingest articles first: newsbot ingest PATH")


@dataclass
class _Request:
    question: str
    k: int
    answerer: Answerer
    filters: Filters
    turns: list[Turn]
    language: str


ChainInput = AskRequest | str | dict[str, Any]


class NewsbotChain(Runnable[ChainInput, AnswerResult]):
    """Question (+ history) → answer with verified citations and a confidence level.

    ``answerer`` names the answerer used when a request names none; ``chat_model`` is its chat
    model (an LLM answerer's), ``chat_models`` those of other LLM answerers a request may name.
    The extractive answerer is always there (``confidence``, ``ranking`` and ``relation_check`` are
    its settings).
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        answerer: str = DEFAULT_ANSWERER,
        chat_model: BaseChatModel | None = None,
        chat_models: dict[str, BaseChatModel] | None = None,
        k: int = 5,
        evidence_passages: int = 5,
        relation_check: bool = True,
        confidence: ConfidenceModel = DEFAULT_CONFIDENCE,
        ranking: RankingWeights = RankingWeights(),
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.k = k
        self.evidence_passages = evidence_passages
        self.support = SupportChecker(retriever.sentence_vectors, retriever.sentences)
        models: dict[str, BaseChatModel | None] = {DEFAULT_ANSWERER: None}
        models.update((name, model) for name, model in (chat_models or {}).items() if model is not None)
        if chat_model is not None:
            models.setdefault(answerer, chat_model)
        parts = AnswererParts(
            self.support,
            confidence=confidence,
            ranking=ranking,
            relation_check=relation_check,
            latent=retriever.latent_similarity,
        )
        #: The answerers a request may name, by name (the default one among them when it is configured).
        self.answerers: dict[str, Answerer] = {
            name: make_answerer(name, replace(parts, chat_model=model)) for name, model in models.items()
        }

    # -------------------------------------------------------------- Runnable interface

    def invoke(self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any) -> AnswerResult:
        result = None
        for event in self.stream(input, config, **kwargs):
            if isinstance(event, Result):
                result = event.result
        assert result is not None
        return result

    # stream/astream yield events, not chunks of the output as Runnable's do: the result is
    # citation-checked only at the end, so it comes whole, in the last event.
    def stream(  # type: ignore[override]
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[StreamEvent]:
        yield from self._run(AskRequest.of(input))

    async def astream(  # type: ignore[override]
        self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[StreamEvent]:
        """The same events as :meth:`stream`; the blocking work runs in a worker thread."""
        events = self.stream(input, config, **kwargs)
        done: Any = object()
        while True:
            event = await asyncio.to_thread(next, events, done)
            if event is done:
                return
            yield event

    async def ainvoke(self, input: ChainInput, config: RunnableConfig | None = None, **kwargs: Any) -> AnswerResult:
        return await asyncio.to_thread(self.invoke, input, config, **kwargs)

    # -------------------------------------------------------------- the steps

    def _parse(self, request: AskRequest) -> _Request:
        name = request.answerer or self.answerer
        answerer = self.answerers.get(name)
        if answerer is None:
            raise AnswererNotConfigured(name)
        return _Request(
            question=request.question,
            k=request.k or self.k,
            answerer=answerer,
            filters=request.filters,
            turns=parse_history(request.history),
            language=detect_lang(request.question),
        )

    def retrieve_for(self, request: ChainInput) -> Retrieval:
        """The passages and scored sentences the answer of ``request`` is chosen from."""
        return self._retrieve(self._parse(AskRequest.of(request)))

    def _retrieve(self, req: _Request) -> Retrieval:
        if self.retriever.is_empty():
            raise EmptyStoreError()
        search_question, qvec, fusion = req.question, None, None
        prior: tuple[str, ...] = ()
        conv: Conversation | None = None
        model = req.answerer.chat_model
        if req.turns and model is not None:
            search_question = condense_question(model, req.question, as_messages(req.turns[-3:]))
        elif req.turns:
            tier = "follow-up" if looks_like_follow_up(req.question) else "other"
            if CONTEXT_WEIGHT[tier] or CONVERSATION_HEAD_START[tier]:
                conv = conversation(req.turns)
            if conv is not None:
                # Searched with the conversation: the vector leans towards the embedding of the
                # earlier turns plus the question, and the articles the conversation was about
                # (cited by earlier results, else nearest to the conversation) get a head start.
                own = self.retriever.embed_query(req.question)
                with_turns = self.retriever.embed_query(f"{conv.text} {req.question}")
                qvec = _mix(own, with_turns, CONTEXT_WEIGHT[tier])
                prior = conv.articles or tuple(self.retriever.nearest_articles(with_turns, 1, req.filters))
                fusion = replace(self.retriever.fusion, conversation=CONVERSATION_HEAD_START[tier])
        retrieval = self.retriever.retrieve(
            search_question, req.k, req.filters, query_vector=qvec, prior_articles=prior, fusion=fusion
        )
        # The answer sentence is picked with the same vector: scoring sentences with less of the
        # conversation was measured (benchmarks/fit_followups.py --sentence-only) and cost
        # coqa-news-dev follow-ups citation hits (0.683 at half the weight, 0.722 at the same).
        retrieval.evidence = self.retriever.sentence_evidence(retrieval, top_passages=self.evidence_passages)
        retrieval.search_question = search_question
        retrieval.conversation = conv
        retrieval.prior_articles = tuple(prior)
        return retrieval

    def _run(self, request: AskRequest) -> Iterator[StreamEvent]:
        req = self._parse(request)
        t0 = time.perf_counter()
        retrieval = self._retrieve(req)
        t_retrieve = time.perf_counter() - t0
        yield Retrieved(retrieved=[RetrievedPassage.of(p) for p in retrieval.passages])

        t1 = time.perf_counter()
        draft: Draft | None = None
        for item in req.answerer.answer(retrieval, req.question, req.language):
            if isinstance(item, Draft):
                draft = item
            else:
                yield item
        assert draft is not None, f"answerer {req.answerer.name!r} gave no draft"
        t_answer = time.perf_counter() - t1
        grounded, confidence, evidence = draft.grounded, draft.confidence, draft.evidence
        hedge = _hedge(draft.hedge, req.language) if draft.hedge else None

        abstained = confidence == "none"
        if abstained:
            answer = ABSTAIN_MESSAGES.get(req.language, ABSTAIN_MESSAGES["en"])
        else:
            answer = f"{hedge} {grounded.text}" if hedge else grounded.text
        if not req.answerer.streams_tokens and answer and not abstained:
            yield Delta(text=answer)
        conv = retrieval.conversation
        result = AnswerResult(
            question=req.question,
            answer=answer,
            abstained=abstained,
            confidence=confidence,
            language=req.language,
            citations=[] if abstained else [Citation.of(c) for c in grounded.citations],
            retrieved=[RetrievedPassage.of(p) for p in retrieval.passages],
            timings_ms=Timings(retrieve=round(t_retrieve * 1000, 1), answer=round(t_answer * 1000, 1)),
            answerer=req.answerer.name,
            hedge=hedge or None,
            standalone_question=retrieval.search_question if retrieval.search_question != req.question else None,
            conversation=(
                None if conv is None else ConversationContext(context=conv.text, articles=list(retrieval.prior_articles))
            ),
            dropped_claims=grounded.dropped_claims or None,
            dropped_citations=grounded.dropped_numbers or None,
            evidence={k: round(v, 4) for k, v in evidence.items()} if evidence else None,
        )
        yield Result(result=result)


def _mix(own: np.ndarray, with_turns: np.ndarray, weight: float) -> np.ndarray:
    vec = own + weight * with_turns
    return (vec / (np.linalg.norm(vec) or 1.0)).astype(np.float32)


def _hedge(kind: str, language: str) -> str:
    messages = HEDGE_MESSAGES[kind]
    return messages.get(language, messages["en"])
