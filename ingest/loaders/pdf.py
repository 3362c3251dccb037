"""PDF articles (pypdf): the text layer, the first lines as title and date."""

from __future__ import annotations

import io
import logging
import unicodedata
from pathlib import Path

from ingest.errors import IngestError
from ingest.loaders.dates import find_header_date
from ingest.loaders.identity import HEADER_LINES, clean_title, make_article, nonempty_lines
from ingest.loaders.textio import normalise_newlines
from ingest.types import Article


def load_pdf(data: bytes, path: Path) -> Article:
    from pypdf import PdfReader

    # pypdf logs what it repairs in a damaged file ("incorrect startxref pointer") as warnings:
    # the file gets its one line (loaded, or failed with a reason), not pypdf's chatter beside it.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if b"%PDF-" not in data[:1024]:
        raise IngestError("not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        pdf_title = reader.metadata.title if reader.metadata else None
    except IngestError:
        raise
    except Exception as err:  # pypdf raises many types for damaged files
        detail = str(err).split("\n", 1)[0][:120] or type(err).__name__
        raise IngestError(f"cannot read PDF: {detail}") from err
    # NFKC folds what PDF extraction produces (Arabic presentation forms, "ﬁ"
    # ligatures) into ordinary letters; this text is ours, so offsets stay valid.
    texts = [normalise_newlines(unicodedata.normalize("NFKC", t)).strip() for t in pages]
    text = "\n\n".join(t for t in texts if t)
    if not text:
        raise IngestError("PDF has no extractable text")
    lines = nonempty_lines(text)
    title = str(pdf_title).strip() if pdf_title and str(pdf_title).strip() else ""
    header = lines[:HEADER_LINES]
    if not title:
        title = clean_title(lines[0], markdown=False)
        header = lines[1 : 1 + HEADER_LINES]
    return make_article(
        text=text,
        title=title,
        date=find_header_date(header),
        source=None,
        url=None,
        lang=None,
        explicit_id=None,
        path=path,
    )
