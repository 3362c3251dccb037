"""Plain text and Markdown articles, with optional YAML front matter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import IngestError, first_line
from ingest.loaders.dates import find_header_date, parse_date
from ingest.loaders.identity import (
    DATE_FIELDS,
    HEADER_LINES,
    LANG_FIELDS,
    clean_title,
    first_field,
    make_article,
    nonempty_lines,
    str_field,
)
from ingest.loaders.textio import decode_bytes
from ingest.text.language import normalise_lang_tag
from ingest.types import Article

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL | re.MULTILINE)


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """Split a leading YAML ``---`` block from ``text``.

    Returns ``(None, text)`` when there is no front matter, including when the
    block is not a YAML mapping (a Markdown horizontal rule, say).
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 2}"  # +1 for 1-based, +1 for the opening ---
        problem = getattr(err, "problem", None) or "syntax error"
        raise IngestError(f"invalid YAML front matter{where}: {problem}") from err
    except ValueError as err:  # a well-formed but impossible value, e.g. ``date: 2024-02-30``
        raise IngestError(f"invalid YAML front matter: {first_line(err, 150)}") from err
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return None, text
    return {str(k).lower(): v for k, v in meta.items()}, text[match.end() :]


def load_text(data: bytes, path: Path, *, markdown: bool) -> Article:
    text = decode_bytes(data)
    meta, body = split_front_matter(text)
    # Front matter is metadata, not article text; without it the title line stays
    # in the text so that it can be searched and cited.
    text = (body if meta is not None else text).strip()
    if not text:
        raise IngestError("no article text found")
    meta = meta or {}
    lines = nonempty_lines(text)
    title = str_field(meta, ("title",))
    header = lines[:HEADER_LINES]
    if not title:
        title = clean_title(lines[0], markdown=markdown)
        header = lines[1 : 1 + HEADER_LINES]
    date_value = first_field(meta, DATE_FIELDS)
    article_date = parse_date(date_value) if date_value is not None else find_header_date(header)
    return make_article(
        text=text,
        title=title,
        date=article_date,
        source=str_field(meta, ("source",)),
        url=str_field(meta, ("url",)),
        lang=normalise_lang_tag(first_field(meta, LANG_FIELDS)),
        explicit_id=first_field(meta, ("id",)),
        path=path,
    )
