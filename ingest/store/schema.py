"""What the store keeps: the records read back, the ids of chunks and collections, revisions, date ordinals."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingest.errors import StoreError
from ingest.types import Article, Chunk

if TYPE_CHECKING:
    pass


GENERATION_ID = "__generation__"
_CATALOG_SUFFIX = "__articles"


@dataclass
class ArticleRecord:
    """What the catalog knows about one stored article."""

    id: str
    title: str
    rev: str
    chunks: int
    date: str | None = None
    source: str | None = None
    url: str | None = None
    lang: str | None = None
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "lang": self.lang,
            "url": self.url,
            "path": self.path,
            "chunks": self.chunks,
        }


@dataclass
class StoredChunk:
    """A chunk as read back from the store."""

    id: str
    article_id: str
    rev: str
    text: str
    start: int
    end: int
    metadata: dict[str, Any]


def collection_names(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,50}[A-Za-z0-9]", name):
        raise StoreError(
            f"invalid collection name {name!r}: use 3-52 letters, digits, '.', '_' or '-' (start and end with a letter or digit)"
        )
    return name, name + _CATALOG_SUFFIX


@dataclass(frozen=True)
class ChunkScope:
    """Which chunks a store query may return. The store alone turns it into Chroma's ``where``
    syntax (:meth:`where`); callers never build those dicts. Every field set narrows the scope."""

    article_id: str | None = None
    articles: tuple[str, ...] | None = None  # only these articles (None: any)
    exclude_articles: tuple[str, ...] = ()
    source: str | None = None
    lang: str | None = None
    date_from: int | None = None  # date ordinals (:func:`date_ordinal`), inclusive
    date_to: int | None = None

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.article_id:
            clauses.append({"article_id": self.article_id})
        if self.source:
            clauses.append({"source": self.source})
        if self.exclude_articles:
            clauses.append({"article_id": {"$nin": list(self.exclude_articles)}})
        if self.date_from is not None:
            clauses.append({"date_ord": {"$gte": self.date_from}})
        if self.date_to is not None:
            clauses.append({"date_ord": {"$lte": self.date_to}})
        if self.articles is not None:
            clauses.append({"article_id": {"$in": list(self.articles)}})
        if self.lang is not None:
            clauses.append({"lang": self.lang})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def date_ordinal(date: str | None, *, end: bool = False) -> int | None:
    """``2024-06-03...`` → ``20240603`` so Chroma can filter date ranges numerically.

    A partial date (``2024`` or ``2024-07``) is the first day of its period, or the last when
    ``end`` is set (an ``until`` bound includes the whole month). None when unreadable.
    """
    if not date:
        return None
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", date.strip())
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
            return None  # 2024-02-30 is not a day
        return year * 10000 + month * 100 + day
    m2 = re.match(r"(\d{4})(?:-(\d{2}))?$", date.strip())
    if not m2:
        return None
    year, month_text = int(m2.group(1)), m2.group(2)
    if month_text is None:
        return year * 10000 + (1231 if end else 101)
    month = int(month_text)
    if not 1 <= month <= 12:
        return None
    return year * 10000 + int(month) * 100 + (31 if end else 1)


def article_revision(article: Article, chunks: Sequence[Chunk], embedder_id: str) -> str:
    """A hash of everything that determines the stored records of an article."""
    h = hashlib.sha256()
    payload = {
        "text": article.text,
        "meta": article.metadata() | {"path": None},  # moving a file is not a change
        "spans": [(c.start, c.end) for c in chunks],
        "embedder": embedder_id,
    }
    h.update(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def chunk_id(article_id: str, rev: str, index: int) -> str:
    """``article:rev8:index``; ``collect_garbage`` reads the article and revision back from it."""
    return f"{article_id}:{rev[:8]}:{index}"


def article_record(aid: str, meta: dict[str, Any]) -> ArticleRecord:
    return ArticleRecord(
        id=aid,
        title=str(meta.get("title", "")),
        rev=str(meta.get("rev", "")),
        chunks=int(meta.get("chunks", 0)),
        date=meta.get("date"),
        source=meta.get("source"),
        url=meta.get("url"),
        lang=meta.get("lang"),
        path=meta.get("path"),
    )


def stored_chunk(cid: str, meta: dict[str, Any], doc: str) -> StoredChunk:
    return StoredChunk(
        id=cid,
        article_id=str(meta.get("article_id", "")),
        rev=str(meta.get("rev", "")),
        text=doc,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        metadata=meta,
    )
