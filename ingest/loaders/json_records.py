"""JSON (an object or an array of objects) and JSON Lines articles, record by record."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingest.errors import IngestError, first_line
from ingest.loaders.dates import parse_date
from ingest.loaders.identity import (
    DATE_FIELDS,
    LANG_FIELDS,
    TEXT_FIELDS,
    clean_title,
    first_field,
    make_article,
    nonempty_lines,
    str_field,
)
from ingest.loaders.textio import decode_bytes, normalise_newlines
from ingest.text.language import normalise_lang_tag
from ingest.types import Article


def load_json(data: bytes, path: Path, failures: list[tuple[str, str]]) -> list[Article]:
    """An object, or an array of objects each loaded on its own (a bad one goes to ``failures``)."""
    text = decode_bytes(data)
    value = _parse_json(text)
    if isinstance(value, dict):
        return [_record_to_article(value, path)]
    if isinstance(value, list):
        if not value:
            raise IngestError("no article text found (empty JSON array)")
        articles = []
        for index, record in enumerate(value, start=1):
            where = f"record {index}"
            try:
                if not isinstance(record, dict):
                    raise IngestError("is not a JSON object")
                articles.append(_record_to_article(record, path))
            except IngestError as exc:
                failures.append((where, str(exc)))
        return articles
    raise IngestError("JSON must be an object or an array of objects")


def load_jsonl(data: bytes, path: Path, failures: list[tuple[str, str]]) -> list[Article]:
    """One object per line, each loaded on its own: a bad line goes to ``failures`` and the good
    lines around it are kept."""
    text = decode_bytes(data)
    articles = []
    seen = False
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        seen = True
        try:
            record = _parse_json(line, one_line=True)
            if not isinstance(record, dict):
                raise IngestError("is not a JSON object")
            articles.append(_record_to_article(record, path))
        except IngestError as exc:
            failures.append((f"line {lineno}", str(exc)))
    if not seen:
        raise IngestError("no article text found")
    return articles


def _parse_json(text: str, *, one_line: bool = False) -> Any:
    """``json.loads`` with a one-line reason: where in the file (or, for one line of a JSON Lines
    file, where in the line) the JSON is wrong."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        at = f"column {err.colno}" if one_line else f"line {err.lineno}"
        raise IngestError(f"invalid JSON at {at}: {err.msg}") from err
    except RecursionError as err:
        raise IngestError("invalid JSON: nested too deeply") from err
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise IngestError(f"invalid JSON: {first_line(err, 150)}") from err


def _record_to_article(record: Mapping[str, Any], path: Path) -> Article:
    fields = {str(k).lower(): v for k, v in record.items()}
    text = _record_text(fields)
    if not text:
        raise IngestError("no article text found (expected a 'text', 'content' or 'body' field)")
    title = str_field(fields, ("title", "headline")) or clean_title(nonempty_lines(text)[0], markdown=False)
    date_value = first_field(fields, DATE_FIELDS)
    return make_article(
        text=text,
        title=title,
        date=parse_date(date_value) if date_value is not None else None,
        source=str_field(fields, ("source",)),
        url=str_field(fields, ("url",)),
        lang=normalise_lang_tag(first_field(fields, LANG_FIELDS)),
        explicit_id=first_field(fields, ("id",)),
        path=path,
    )


def _record_text(fields: Mapping[str, Any]) -> str:
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n\n".join(v.strip() for v in value if v.strip())  # a list of paragraphs
        if isinstance(value, str) and value.strip():
            return normalise_newlines(value).strip()
    return ""
