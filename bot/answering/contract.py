"""The chain's typed contract: what it is asked (:class:`AskRequest`), what it answers
(:class:`AnswerResult`) and what it streams (:data:`StreamEvent`).

These models are the one written schema of ``newsbot ask --json``: JSON is made from them only at
the edges (the CLI, ``newsbot eval --out``, the web app's browser-kept chats) with
:meth:`AnswerResult.to_json`, and the field order below *is* the key order of that JSON. The
optional fields of a result (``hedge`` … ``evidence``) are left out of the JSON when they are
None, as they were absent from the hand-built dict before; a citation's ``date`` or a passage's
``dense`` that is None stays in it as ``null``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, SerializerFunctionWrapHandler, field_validator, model_serializer

from bot.citations import markers
from bot.retrieval.filters import Filters
from bot.retrieval.results import Passage
from ingest.errors import NewsbotError

Confidence = Literal["high", "low", "none"]


class AskRequest(BaseModel):
    """One question to the chain. A plain string or a dict with these keys is accepted too.

    ``history``: earlier turns, oldest first, in either shape ``bot.answering.conversation``
    reads — chat messages (``{"role", "content"}``) or earlier results (``ask --json`` dicts or
    :class:`AnswerResult`); other items are ignored. ``k``, ``answerer``: None (or 0, "") means
    the chain's own. ``filters``: :class:`Filters` or its keyword arguments (empty values dropped).
    """

    model_config = ConfigDict(frozen=True)

    question: str = Field("", validate_default=True)  # blank or missing: NewsbotError("empty question")
    history: list[Any] = Field(default_factory=list)
    k: int | None = None
    answerer: str | None = None
    filters: InstanceOf[Filters] = Field(default_factory=Filters)

    @field_validator("question", mode="before")
    @classmethod
    def _question(cls, value: Any) -> str:
        question = str(value or "").strip()
        if not question:
            raise NewsbotError("empty question")
        return question

    @field_validator("history", mode="before")
    @classmethod
    def _history(cls, value: Any) -> list[Any]:
        return list(value or [])

    @field_validator("k", mode="before")
    @classmethod
    def _k(cls, value: Any) -> int | None:
        return int(value) if value else None

    @field_validator("answerer", mode="before")
    @classmethod
    def _answerer(cls, value: Any) -> str | None:
        return value or None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Filters:
        if isinstance(value, Filters):
            return value
        # InvalidFilter (a NewsbotError, not a ValueError) reaches the caller as it is.
        return Filters(**{key: v for key, v in (value or {}).items() if v})

    @classmethod
    def of(cls, value: AskRequest | str | dict[str, Any]) -> AskRequest:
        """The request of the chain's input: a request, a question, or a dict of the fields."""
        if isinstance(value, AskRequest):
            return value
        if isinstance(value, str):
            return cls(question=value)
        return cls(**dict(value))


class Citation(BaseModel):
    """A numbered source of the answer: the passage (``text``) and the sentence quoted from it,
    with its offsets in the ARTICLE text (``article_text[quote_start:quote_end] == quote``)."""

    n: int
    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    lang: str | None
    chunk_id: str
    text: str
    quote: str
    quote_start: int
    quote_end: int
    score: float | None

    @classmethod
    def of(cls, c: markers.Citation) -> Citation:
        return cls(
            n=c.n,
            article_id=c.article_id,
            title=c.title,
            date=c.date,
            source=c.source,
            url=c.url,
            lang=c.lang,
            chunk_id=c.chunk_id,
            text=c.text,
            quote=c.quote,
            quote_start=c.quote_start,
            quote_end=c.quote_end,
            score=c.score,
        )


class RetrievedPassage(BaseModel):
    """A retrieved passage as shown: its rank, the chunk and its scores (rounded)."""

    rank: int
    chunk_id: str
    article_id: str
    title: str
    text: str
    score: float  # fused (RRF)
    dense: float | None  # cosine similarity to the question
    bm25: float | None

    @classmethod
    def of(cls, p: Passage) -> RetrievedPassage:
        return cls(
            rank=p.rank,
            chunk_id=p.chunk_id,
            article_id=p.article_id,
            title=p.title,
            text=p.text,
            score=round(p.score, 6),
            dense=None if p.dense is None else round(p.dense, 6),
            bm25=None if p.bm25 is None else round(p.bm25, 6),
        )


class Timings(BaseModel):
    retrieve: float  # ms
    answer: float


class ConversationContext(BaseModel):
    """What a question asked in a conversation was searched with (no LLM)."""

    context: str  # the last turns' questions and answers
    articles: list[str]  # the articles they were about, looked at first


# The optional fields of a result: absent from its JSON when None.
_OPTIONAL = ("hedge", "standalone_question", "conversation", "dropped_claims", "dropped_citations", "evidence")


class AnswerResult(BaseModel):
    """The chain's answer (``newsbot ask --json``).

    ``confidence``: ``"high"`` (the quoted sentence answers), ``"low"`` (the answer starts with
    ``hedge``, then the closest sentence with its citation) or ``"none"`` (``abstained``: "The
    articles don't say.", no citations).
    """

    question: str
    answer: str
    abstained: bool
    confidence: Confidence
    language: str
    citations: list[Citation]
    retrieved: list[RetrievedPassage]
    timings_ms: Timings
    answerer: str
    hedge: str | None = None
    standalone_question: str | None = None  # what was searched, when not the question itself
    conversation: ConversationContext | None = None
    dropped_claims: list[str] | None = None  # LLM sentences no cited passage supports
    dropped_citations: list[int] | None = None  # citation numbers of passages that don't exist
    evidence: dict[str, float] | None = None  # the extractive answer's confidence features

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in _OPTIONAL:
            if key in data and data[key] is None:
                del data[key]
        return data

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``newsbot ask --json`` (plain dicts, lists, strings and numbers)."""
        return self.model_dump(mode="json")

    def split_hedge(self) -> tuple[str | None, str]:
        """``(hedge, the rest of the answer)``: see :func:`bot.citations.markers.split_hedge`."""
        return markers.split_hedge_text(self.answer, self.hedge, self.confidence)


class Retrieved(BaseModel):
    """The passages found (for a debug view), before the answer is written."""

    event: Literal["retrieved"] = "retrieved"
    retrieved: list[RetrievedPassage]


class Delta(BaseModel):
    """Answer text as it is written (raw: the final result replaces it)."""

    event: Literal["delta"] = "delta"
    text: str


class Result(BaseModel):
    """The final, citation-checked result: the last event."""

    event: Literal["result"] = "result"
    result: AnswerResult


StreamEvent = Annotated[Retrieved | Delta | Result, Field(discriminator="event")]
