"""An article record and its identity, shared by every format: stable ids, titles, field look-up."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.loaders.textio import normalise_newlines
from ingest.text.language import detect_language
from ingest.types import Article

# Field names accepted in JSON records and front matter, in order of preference.
TEXT_FIELDS = ("text", "content", "body")
DATE_FIELDS = ("date", "published")
LANG_FIELDS = ("lang", "language")
_MAX_TITLE = 200
_MAX_ID = 64
HEADER_LINES = 3  # non-empty lines after the title that may hold a date line


def nonempty_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def clean_title(line: str, *, markdown: bool) -> str:
    title = line.strip()
    if markdown:
        title = title.lstrip("#").rstrip("#").strip()
        title = title.strip("*_").strip() or title
    if len(title) > _MAX_TITLE:
        cut = title[:_MAX_TITLE].rsplit(" ", 1)[0] or title[:_MAX_TITLE]
        title = cut + "…"
    return title


def make_article(
    *,
    text: str,
    title: str,
    date: str | None,
    source: str | None,
    url: str | None,
    lang: str | None,
    explicit_id: object,
    path: Path | None,
) -> Article:
    """Build an ``Article`` with a stable id and a detected language if none was given."""
    if not text.strip():
        raise IngestError("no article text found")
    return Article(
        id=article_id(explicit_id=explicit_id, url=url, text=text),
        text=text,
        title=title,
        date=date,
        source=source or None,
        url=url or None,
        lang=lang or detect_language(text),
        # A file name that is not UTF-8 keeps its bytes as escapes: Chroma stores only UTF-8.
        path=os.fsencode(path).decode("utf-8", "backslashreplace") if path is not None else None,
    )


_ID_OK = re.compile(r"[A-Za-z0-9._-]+")
_ID_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def article_id(*, explicit_id: object = None, url: str | None = None, text: str) -> str:
    """Stable id: a given id (sanitised), else ``u-`` + hash of the URL, else ``h-`` + hash of the text.

    Hashing the text means re-ingesting an unchanged file yields the same id.
    """
    if explicit_id is not None and str(explicit_id).strip():
        aid = sanitise_id(str(explicit_id).strip())
        if aid.startswith("__"):  # the store's own records (its generation token) use such ids
            raise IngestError(f"id {aid!r} is reserved (an article id may not start with '__')")
        return aid
    if url:
        return "u-" + _sha1(url.strip())[:16]
    return "h-" + _sha1(normalise_for_hash(text))[:16]


def sanitise_id(raw: str) -> str:
    """Restrict an id to ``[A-Za-z0-9._-]``, at most 64 characters.

    An id that needed changes gets a hash of the original appended, so "a/b" and
    "a b" (or two long ids sharing a prefix) stay different.
    """
    if _ID_OK.fullmatch(raw) and len(raw) <= _MAX_ID:
        return raw
    cleaned = _ID_BAD.sub("-", raw).strip("-._")
    digest = _sha1(raw)[:16]
    if not cleaned:
        return "i-" + digest
    return f"{cleaned[: _MAX_ID - 17].rstrip('-._')}-{digest}"


def normalise_for_hash(text: str) -> str:
    """NFKC, whitespace collapsed, lowercased: cosmetic edits do not change the id."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def first_field(fields: Mapping[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        value = fields.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value
    return None


def str_field(fields: Mapping[str, Any], names: Iterable[str]) -> str | None:
    value = first_field(fields, names)
    if value is None or isinstance(value, (dict, list)):
        return None
    return normalise_newlines(str(value)).strip() or None
