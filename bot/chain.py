"""The answer chain: one LangChain Runnable that the CLI, the web UI and the evaluation all call.

Input (a dict)::

    {"question": str,
     "history": [...],            # optional: chat messages or earlier results (bot.conversation)
     "k": int,                    # optional: passages to retrieve
     "filters": {"article_id", "source", "since", "until"},   # optional
     "answerer": "extractive"|"openai"|...}                    # optional: override per call

``invoke`` returns the result dict of ``newsbot ask --json``. ``stream`` yields events::

    {"event": "retrieved", "retrieved": [...]}     # passages found (for a debug view)
    {"event": "delta", "text": str}                # answer text as it is written (raw)
    {"event": "result", "result": {...}}           # the final, citation-checked result

The streamed deltas are the answerer's raw text; the final result is what survived the citation
checks (unsupported sentences dropped, numbers renumbered), so a UI replaces the streamed text
with ``result["answer"]`` at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from bot.citations import clean_answer
from bot.conversation import Turn, as_messages, looks_like_follow_up, parse_history
from bot.extractive import (
    DEFAULT_ABSTENTION,
    AbstentionRule,
    abstention_features,
    rank_evidence,
    select_sentences,
)
from bot.grounding import GroundedAnswer, Quote, SupportChecker, finalize, ground_claims
from bot.llm import answer_messages, condense_question, stream_answer
from bot.relations import question_relation
from bot.retrieval import Filters, HybridRetriever, Retrieval
from bot.names import name_keys
from bot.textnorm import detect_lang, tokenize
from bot.citations import Claim
from ingest.errors import NewsbotError
from prompts.templates import ABSTAIN_MESSAGES

logger = logging.getLogger(__name__)


class EmptyStoreError(NewsbotError):
    def __init__(self) -> None:
        super().__init__("no articles yet: ingest articles first: newsbot ingest PATH")


class NewsbotChain(Runnable[dict, dict]):
    """Question (+ history) → answer with verified citations, or an abstention."""

    def __init__(
        self,
        retriever: HybridRetriever,
        *,
        answerer: str = "extractive",
        chat_model: Any = None,
        chat_models: dict[str, Any] | None = None,
        k: int = 5,
        evidence_passages: int = 5,
        relation_check: bool = True,
        abstention: AbstentionRule = DEFAULT_ABSTENTION,
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.chat_models = dict(chat_models or {})
        if chat_model is not None:
            self.chat_models.setdefault(answerer, chat_model)
        self.k = k
        self.evidence_passages = evidence_passages
        self.relation_check = relation_check
        self.abstention = abstention
        self.support = SupportChecker(retriever._sentence_vectors, retriever.sentences)

    # -------------------------------------------------------------- Runnable interface

    def invoke(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        result = None
        for event in self.stream(input, config, **kwargs):
            if event["event"] == "result":
                result = event["result"]
        assert result is not None
        return result

    def stream(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[dict]:
        request = {"question": input} if isinstance(input, str) else dict(input)
        yield from self._run(request)

    async def astream(
        self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict]:
        """The same events as :meth:`stream`; the blocking work runs in a worker thread."""
        events = self.stream(input, config, **kwargs)
        done = object()
        while True:
            event = await asyncio.to_thread(next, events, done)
            if event is done:
                return
            yield event

    async def ainvoke(self, input: dict | str, config: RunnableConfig | None = None, **kwargs: Any) -> dict:
        return await asyncio.to_thread(self.invoke, input, config, **kwargs)

    # -------------------------------------------------------------- the steps

    def _run(self, request: dict[str, Any]) -> Iterator[dict]:
        question = str(request.get("question") or "").strip()
        if not question:
            raise NewsbotError("empty question")
        k = int(request.get("k") or self.k)
        answerer = request.get("answerer") or self.answerer
        filters = Filters(**{key: v for key, v in (request.get("filters") or {}).items() if v})
        turns = parse_history(request.get("history"))
        language = detect_lang(question)

        t0 = time.perf_counter()
        if self.retriever.is_empty():
            raise EmptyStoreError()
        model = self.chat_models.get(answerer) if answerer != "extractive" else None
        if answerer != "extractive" and model is None:
            raise NewsbotError(f"answerer {answerer!r} is not configured (see NEWSBOT_ANSWERER)")

        search_question = self._resolve_follow_up(question, turns, model)
        retrieval = self.retriever.retrieve(search_question, k, filters)
        retrieval.evidence = self.retriever.sentence_evidence(retrieval, top_passages=self.evidence_passages)
        t_retrieve = time.perf_counter() - t0
        yield {"event": "retrieved", "retrieved": [p.as_dict() for p in retrieval.passages]}

        t1 = time.perf_counter()
        if model is None:
            grounded, features = self._extractive(retrieval, question)
            if grounded.text:
                yield {"event": "delta", "text": grounded.text}
        else:
            features = {}
            numbered = {p.rank: p for p in retrieval.passages}
            passages = [
                {"n": p.rank, "title": p.title, "date": p.meta.get("date"), "text": p.text}
                for p in retrieval.passages
            ]
            raw_parts: list[str] = []
            for delta in stream_answer(model, answer_messages(search_question, passages, language)):
                raw_parts.append(delta)
                yield {"event": "delta", "text": delta}
            raw = "".join(raw_parts)
            cleaned = clean_answer(raw, valid=set(numbered))
            if cleaned.abstained:
                grounded = GroundedAnswer(text="", citations=[], dropped_numbers=cleaned.dropped)
            else:
                grounded = ground_claims(cleaned.claims, numbered, self.support)
                grounded.dropped_numbers = cleaned.dropped
        t_answer = time.perf_counter() - t1

        abstained = grounded.abstained
        result = {
            "question": question,
            "answer": ABSTAIN_MESSAGES.get(language, ABSTAIN_MESSAGES["en"]) if abstained else grounded.text,
            "abstained": abstained,
            "language": language,
            "citations": [] if abstained else [_citation_dict(c) for c in grounded.citations],
            "retrieved": [p.as_dict() for p in retrieval.passages],
            "timings_ms": {"retrieve": round(t_retrieve * 1000, 1), "answer": round(t_answer * 1000, 1)},
            "answerer": answerer,
        }
        if search_question != question:
            result["standalone_question"] = search_question
        if grounded.dropped_claims:
            result["dropped_claims"] = grounded.dropped_claims
        if grounded.dropped_numbers:
            result["dropped_citations"] = grounded.dropped_numbers
        if features:
            result["evidence"] = {k: round(v, 4) for k, v in features.items()}
        yield {"event": "result", "result": result}

    def _resolve_follow_up(self, question: str, turns: list[Turn], model: Any) -> str:
        """The question to retrieve with: standalone (LLM), or the follow-up plus the topic it
        refers to (no LLM): the most specific words of the previous question (its names and rarest
        terms), so "Where did he go next?" keeps asking about Yevkurov in Benghazi."""
        if not turns:
            return question
        if model is not None:
            return condense_question(model, question, as_messages(turns[-3:]))
        if not looks_like_follow_up(question):
            return question
        carried = self.retriever.salient_words(turns[-1].question, limit=4)
        asked = set(tokenize(question)) | set(name_keys(question))
        carried = [w for w in carried if not (set(tokenize(w)) | set(name_keys(w))) <= asked]  # whole words
        return f"{question} {' '.join(carried)}".strip()

    def _extractive(self, retrieval: Retrieval, question: str) -> tuple[GroundedAnswer, dict[str, float]]:
        evidence = retrieval.evidence
        if not evidence:
            return GroundedAnswer(text="", citations=[]), {}
        ranked = rank_evidence(evidence)
        features = abstention_features(retrieval, ranked)
        features["p_answerable"] = p = self.abstention.probability(features)
        if p < self.abstention.model(features).threshold:
            return GroundedAnswer(text="", citations=[]), features
        # The user's own words decide the relation, not the words a follow-up carried over.
        relation = question_relation(question) if self.relation_check else None
        if relation is not None:
            # The passages must hold a sentence that can state the asked-for relation (see
            # bot/relations.py); which sentence answers stays the evidence ranking's choice.
            stated = any(relation.stated_in(ev.text) for ev in ranked)
            features["relation_stated"] = 1.0 if stated else 0.0
            if not stated:
                return GroundedAnswer(text="", citations=[]), features
        chosen = select_sentences(ranked)
        kept = [
            (Claim(text=ev.text), [Quote(ev.passage, ev.start, ev.end, ev.text, ev.score)]) for ev in chosen
        ]
        return finalize(kept), features


def _citation_dict(c: Any) -> dict[str, Any]:
    d = asdict(c)
    keys = ["n", "article_id", "title", "date", "source", "url", "chunk_id", "text", "quote", "quote_start", "quote_end", "score"]
    return {key: d.get(key) for key in keys}


def build_chain(app: Any) -> NewsbotChain:
    """Wire the chain from an :class:`bot.wiring.App` (the composition root calls this)."""
    s = app.settings
    retriever = HybridRetriever(app.store, app.embeddings)
    answerer = s.effective_answerer()
    chat_models: dict[str, Any] = {}
    if answerer in ("openai", "ollama"):
        chat_models[answerer] = app.chat_model
    return NewsbotChain(retriever, answerer=answerer, chat_models=chat_models, k=s.k)
