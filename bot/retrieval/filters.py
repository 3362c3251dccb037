"""Filters on a question's passages: date range, source, language, article (CLI flags and the web app's controls)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.errors import NewsbotError
from ingest.store.schema import ChunkScope, StoredChunk, date_ordinal


class InvalidFilter(NewsbotError):
    """A retrieval filter that cannot be applied (e.g. an unreadable date)."""


@dataclass
class Filters:
    """Restrict retrieval to an article, a source, or a date range (ISO dates, inclusive)."""

    article_id: str | None = None
    source: str | None = None
    since: str | None = None
    until: str | None = None
    exclude: tuple[str, ...] = ()  # article ids to leave out (evaluation: leave-article-out)
    exclude_chunks: tuple[str, ...] = ()  # chunk ids to leave out (calibration: leave-passage-out)

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value and date_ordinal(value) is None:
                raise InvalidFilter(f"--{name} {value!r}: expected a date like 2024-06-03, 2024-06 or 2024")
        # Parsed once: ``accepts`` runs for every BM25 candidate of a filtered question.
        self._lo = date_ordinal(self.since)
        self._hi = date_ordinal(self.until, end=True)

    def is_empty(self) -> bool:
        return not (self.article_id or self.source or self.since or self.until or self.exclude or self.exclude_chunks)

    def scope(self) -> ChunkScope:
        """The same restriction as the store's query scope (``exclude_chunks`` is applied after)."""
        return ChunkScope(
            article_id=self.article_id,
            source=self.source,
            exclude_articles=tuple(self.exclude),
            date_from=self._lo,
            date_to=self._hi,
        )

    def accepts(self, meta: dict[str, Any]) -> bool:
        if self.article_id and meta.get("article_id") != self.article_id:
            return False
        if self.source and meta.get("source") != self.source:
            return False
        if self.exclude and meta.get("article_id") in self.exclude:
            return False
        lo, hi = self._lo, self._hi
        if lo is not None or hi is not None:
            ordinal = meta.get("date_ord")
            if ordinal is None:
                return False
            if lo is not None and ordinal < lo:
                return False
            if hi is not None and ordinal > hi:
                return False
        return True


def chunk_filter_meta(chunk: StoredChunk) -> dict[str, Any]:
    meta = chunk.metadata
    return {k: meta.get(k) for k in ("article_id", "source", "date_ord", "lang")}
