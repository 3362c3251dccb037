"""HTML articles: the main text via trafilatura, the title and date from the page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import IngestError, first_line
from ingest.loaders.dates import find_header_date, parse_date
from ingest.loaders.identity import HEADER_LINES, clean_title, make_article, nonempty_lines
from ingest.loaders.textio import decode_bytes, normalise_newlines
from ingest.types import Article

if TYPE_CHECKING:
    from trafilatura.settings import Document


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def load_html(data: bytes, path: Path) -> Article:
    import trafilatura  # heavy import; only HTML needs it
    from trafilatura.settings import Document, set_date_params

    declared = _META_CHARSET.search(data[:4096])
    html = decode_bytes(data, declared=declared.group(1).decode("ascii") if declared else None)
    if not html.strip():
        raise IngestError("no article text found")
    try:
        doc = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            # trafilatura's last-resort fallback takes all body text, menus included;
            # menus and footers are never article text, so remove them up front.
            prune_xpath=["//nav", "//footer"],
            # The extensive search guesses from any year in the page (a "© 2024"
            # footer becomes 2024-01-01); trust only dates the page marks as such.
            date_extraction_params=set_date_params(False),
        )
    except Exception as err:  # trafilatura/lxml trip over some broken markup (e.g. <body><html><script>)
        raise IngestError(f"cannot read HTML: {first_line(err, 150)}") from err
    if not isinstance(doc, Document):  # None: nothing found
        raise IngestError("no article text found")
    text = _html_text(doc)
    if not text:
        raise IngestError("no article text found")
    lines = nonempty_lines(text)
    title = (doc.title or "").strip() or clean_title(lines[0], markdown=False)
    article_date = parse_date(doc.date) if doc.date else None
    if article_date is None:
        article_date = find_header_date(lines[: 1 + HEADER_LINES])
    url = doc.url if doc.url and doc.url.startswith(("http://", "https://")) else None
    return make_article(
        text=text,
        title=title,
        date=article_date,
        source=(doc.sitename or doc.hostname or None),
        url=url,
        lang=None,  # <html lang> is often a template default; the text decides
        explicit_id=None,
        path=path,
    )


def _html_text(doc: Document) -> str:
    """The extracted text with one blank line between blocks (paragraphs, headings, lists).

    trafilatura's own plain text puts a single newline between paragraphs *and*
    at ``<br>``; converting block by block keeps the two apart.
    """
    from copy import deepcopy

    from lxml import etree
    from trafilatura.xml import xmltotxt

    body = getattr(doc, "body", None)
    if body is None or len(body) == 0:
        flat = (doc.text or "").strip()
        return "\n\n".join(nonempty_lines(flat))
    blocks: list[str] = []
    for child in body:
        wrapper = etree.Element("body")
        block = deepcopy(child)
        block.tail = None
        wrapper.append(block)
        rendered = xmltotxt(wrapper, False)
        lines = [line.rstrip() for line in normalise_newlines(rendered).split("\n") if line.strip()]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks).strip()
