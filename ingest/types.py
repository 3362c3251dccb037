"""The records that flow from loaders through chunking into the store."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Article:
    """One article as loaded from a file.

    ``text`` is the full article text; chunk offsets index into it.
    """

    id: str
    text: str
    title: str
    date: str | None = None  # ISO 8601 (YYYY-MM-DD or full timestamp)
    source: str | None = None
    url: str | None = None
    lang: str | None = None  # "ar", "en", ...
    path: str | None = None

    def metadata(self) -> dict[str, str]:
        """Metadata suitable for Chroma (no None values)."""
        meta = {
            "article_id": self.id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "lang": self.lang,
            "path": self.path,
        }
        return {k: v for k, v in meta.items() if v is not None}


@dataclass
class Chunk:
    """A passage of an article: ``article.text[start:end] == text`` always holds."""

    article_id: str
    index: int
    text: str
    start: int
    end: int
    metadata: dict[str, str] = field(default_factory=dict)
