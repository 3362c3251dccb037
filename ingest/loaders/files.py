"""Find article files and turn each into ``Article`` records.

Formats: plain text / Markdown (optional YAML front matter), HTML (main text via
trafilatura), JSON (object or array of objects), JSON Lines, and PDF (pypdf).

Every failure is an ``IngestError`` whose message is a short reason *without*
the path; the caller prefixes the path when reporting.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ingest.errors import IngestError, first_line, human_size
from ingest.loaders.textio import decode_bytes, normalise_newlines
from ingest.text.language import detect_language, normalise_lang_tag
from ingest.types import Article

if TYPE_CHECKING:
    from trafilatura.settings import Document

logger = logging.getLogger(__name__)

TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf")
BYTES_PER_MB = 1024 * 1024  # the same MB the settings' max_file_mb means
MAX_FILE_MB = 20.0  # files larger than this are refused (the default of NEWSBOT_MAX_FILE_MB)

# Field names accepted in JSON records and front matter, in order of preference.
TEXT_FIELDS = ("text", "content", "body")
DATE_FIELDS = ("date", "published")
LANG_FIELDS = ("lang", "language")

_MAX_TITLE = 200
_MAX_ID = 64
_HEADER_LINES = 3  # non-empty lines after the title that may hold a date line
_MAX_DATE_LINE = 100  # longer lines are prose; a date in them is not the article's date

# Folder scans skip these: a README next to the articles describes them, it is not news.
_SKIPPED_IN_FOLDERS = frozenset({"readme", "readme.md", "readme.txt", "readme.markdown"})


# --------------------------------------------------------------------------- discovery


def discover_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders into loadable files.

    Folders are walked recursively in sorted order, skipping hidden files and
    folders, files of unsupported types and README files. An explicitly named
    file must exist and have a supported extension; otherwise it is reported
    in the second list with a reason. A file reached twice is returned once.
    """
    found: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(path)

    for path in paths:
        if path.is_dir():
            files, skipped = _walk_folder(path)
            problems.extend(skipped)
            for file in files:
                try:
                    add(file)
                except (OSError, RuntimeError) as err:  # e.g. a symlink loop
                    problems.append((file, f"cannot resolve ({first_line(err)})"))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_EXTENSIONS:
                add(path)
            else:
                problems.append((path, _unsupported_reason(path)))
        elif path.exists() or path.is_symlink():
            problems.append((path, "not a regular file or folder"))
        else:
            problems.append((path, "no such file or folder"))
    return found, problems


def _walk_folder(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The loadable files under ``root``, and the entries refused on the way with their reason.

    Symbolic links are followed only when they stay inside ``root`` (a link to /etc/shadow in a
    drop folder must not become readable in the chat); links to folders are never walked into,
    so a link loop cannot trap the walk. Only regular files are returned (no FIFOs, sockets or
    devices, which would hang or never end)."""
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError) as err:
        return [], [(root, f"cannot resolve folder ({first_line(err)})")]

    def on_error(err: OSError) -> None:
        logger.warning("cannot read folder %s: %s", err.filename, err.strerror)

    for folder, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # prune hidden folders
        for d in dirnames:
            if (Path(folder) / d).is_symlink():
                problems.append((Path(folder) / d, "a link to a folder; not followed"))
        for name in filenames:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
                continue
            if name.lower() in _SKIPPED_IN_FOLDERS:
                logger.debug("skipping %s in %s", name, folder)
                continue
            path = Path(folder) / name
            reason = _walk_refusal(path, real_root)
            if reason:
                problems.append((path, reason))
            else:
                files.append(path)
    return sorted(files), problems


def _walk_refusal(path: Path, real_root: Path) -> str | None:
    """Why a file met in a folder walk is not loaded (None: it is)."""
    try:
        target = path.resolve(strict=True) if path.is_symlink() else path
        mode = os.stat(target).st_mode
    except (OSError, RuntimeError) as err:  # a dangling link, a link loop
        return f"cannot resolve ({first_line(err)})"
    if path.is_symlink() and not target.is_relative_to(real_root):
        return "a link to outside the folder; not followed"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device); not read"
    return None


def _unsupported_reason(path: Path) -> str:
    kind = f"'{path.suffix}'" if path.suffix else "without extension"
    return f"unsupported file type {kind} (supported: {' '.join(SUPPORTED_EXTENSIONS)})"


# --------------------------------------------------------------------------- loading


def load_file(path: Path, *, max_bytes: int) -> list[Article]:
    """Load the articles in one file, all or nothing. Raises ``IngestError(reason)``."""
    articles, failures = load_records(path, max_bytes=max_bytes)
    if failures:
        where, reason = failures[0]
        raise IngestError(f"{where}: {reason}")
    return _drop_duplicate_ids(articles)


def load_records(path: Path, *, max_bytes: int) -> tuple[list[Article], list[tuple[str, str]]]:
    """Load the articles in one file, record by record: the good records of a JSON array or a
    JSON Lines file, and ``(where, reason)`` for each bad one ("line 2", "record 3"). Raises
    ``IngestError(reason)`` when the file as a whole cannot be read. Two records with one id are
    both returned: the caller reports the second (``load_file`` drops it with a warning)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise IngestError(_unsupported_reason(path))
    data = _read_regular_file(path, max_bytes)

    failures: list[tuple[str, str]] = []
    if suffix in TEXT_EXTENSIONS:
        articles = [_load_text(data, path, markdown=suffix != ".txt")]
    elif suffix in HTML_EXTENSIONS:
        articles = [_load_html(data, path)]
    elif suffix == ".json":
        articles = _load_json(data, path, failures)
    elif suffix == ".jsonl":
        articles = _load_jsonl(data, path, failures)
    else:
        articles = [_load_pdf(data, path)]
    logger.debug("loaded %d article(s) from %s (%d bad records)", len(articles), path, len(failures))
    return articles, failures


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``. Opened without blocking and checked
    on the open descriptor, so a FIFO (which would wait for a writer forever) or a device (a link
    to /dev/zero has size 0 and never ends) is refused, whatever the name looked like a moment
    before; at most ``max_bytes + 1`` bytes are ever read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError as err:
        raise IngestError("is a folder, not a file") from err
    except OSError as err:
        raise IngestError(f"cannot read file: {err.strerror or err}") from err
    with os.fdopen(fd, "rb") as fh:
        try:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise IngestError("is a folder, not a file")
            if not stat.S_ISREG(st.st_mode):
                raise IngestError("not a regular file (a pipe, socket or device); not read")
            if st.st_size > max_bytes:
                raise IngestError(_oversize_reason(st.st_size, max_bytes))
            data = fh.read(max_bytes + 1)
        except OSError as err:
            raise IngestError(f"cannot read file: {err.strerror or err}") from err
    if not data:
        raise IngestError("empty file")
    if len(data) > max_bytes:  # it grew after fstat()
        raise IngestError(_oversize_reason(len(data), max_bytes))
    return data


def _oversize_reason(size: int, limit: int) -> str:
    shown_size, shown_limit = human_size(size), human_size(limit)
    if shown_size == shown_limit:  # 20.04 MB vs 20 MB would read as "20 MB over 20 MB"
        shown_size, shown_limit = f"{size:,} bytes", f"{limit:,}-byte"
    return f"file is {shown_size}, over the {shown_limit} limit"




def _drop_duplicate_ids(articles: list[Article]) -> list[Article]:
    """Keep the first article of each id: two records with one id would overwrite each other."""
    seen: set[str] = set()
    kept: list[Article] = []
    for article in articles:
        if article.id in seen:
            logger.warning("%s: duplicate article id %s, keeping the first", article.path, article.id)
            continue
        seen.add(article.id)
        kept.append(article)
    return kept


# --- plain text and Markdown


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


def _load_text(data: bytes, path: Path, *, markdown: bool) -> Article:
    text = decode_bytes(data)
    meta, body = split_front_matter(text)
    # Front matter is metadata, not article text; without it the title line stays
    # in the text so that it can be searched and cited.
    text = (body if meta is not None else text).strip()
    if not text:
        raise IngestError("no article text found")
    meta = meta or {}
    lines = _nonempty_lines(text)
    title = _str_field(meta, ("title",))
    header = lines[:_HEADER_LINES]
    if not title:
        title = _clean_title(lines[0], markdown=markdown)
        header = lines[1 : 1 + _HEADER_LINES]
    date_value = _first_field(meta, DATE_FIELDS)
    article_date = parse_date(date_value) if date_value is not None else find_header_date(header)
    return make_article(
        text=text,
        title=title,
        date=article_date,
        source=_str_field(meta, ("source",)),
        url=_str_field(meta, ("url",)),
        lang=normalise_lang_tag(_first_field(meta, LANG_FIELDS)),
        explicit_id=_first_field(meta, ("id",)),
        path=path,
    )


def _nonempty_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _clean_title(line: str, *, markdown: bool) -> str:
    title = line.strip()
    if markdown:
        title = title.lstrip("#").rstrip("#").strip()
        title = title.strip("*_").strip() or title
    if len(title) > _MAX_TITLE:
        cut = title[:_MAX_TITLE].rsplit(" ", 1)[0] or title[:_MAX_TITLE]
        title = cut + "…"
    return title


# --- HTML


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def _load_html(data: bytes, path: Path) -> Article:
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
    lines = _nonempty_lines(text)
    title = (doc.title or "").strip() or _clean_title(lines[0], markdown=False)
    article_date = parse_date(doc.date) if doc.date else None
    if article_date is None:
        article_date = find_header_date(lines[: 1 + _HEADER_LINES])
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
        return "\n\n".join(_nonempty_lines(flat))
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


# --- JSON and JSON Lines


def _load_json(data: bytes, path: Path, failures: list[tuple[str, str]]) -> list[Article]:
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


def _load_jsonl(data: bytes, path: Path, failures: list[tuple[str, str]]) -> list[Article]:
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
    title = _str_field(fields, ("title", "headline")) or _clean_title(_nonempty_lines(text)[0], markdown=False)
    date_value = _first_field(fields, DATE_FIELDS)
    return make_article(
        text=text,
        title=title,
        date=parse_date(date_value) if date_value is not None else None,
        source=_str_field(fields, ("source",)),
        url=_str_field(fields, ("url",)),
        lang=normalise_lang_tag(_first_field(fields, LANG_FIELDS)),
        explicit_id=_first_field(fields, ("id",)),
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


# --- PDF


def _load_pdf(data: bytes, path: Path) -> Article:
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
    lines = _nonempty_lines(text)
    title = str(pdf_title).strip() if pdf_title and str(pdf_title).strip() else ""
    header = lines[:_HEADER_LINES]
    if not title:
        title = _clean_title(lines[0], markdown=False)
        header = lines[1 : 1 + _HEADER_LINES]
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


# --------------------------------------------------------------------------- records


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


def _first_field(fields: Mapping[str, Any], names: Iterable[str]) -> Any:
    for name in names:
        value = fields.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value
    return None


def _str_field(fields: Mapping[str, Any], names: Iterable[str]) -> str | None:
    value = _first_field(fields, names)
    if value is None or isinstance(value, (dict, list)):
        return None
    return normalise_newlines(str(value)).strip() or None


# --------------------------------------------------------------------------- dates

_EN_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
# Written in normalised form (see _normalise_for_dates): Egyptian/Gulf, Maghrebi and Levantine names.
_AR_MONTHS = {
    "يناير": 1, "جانفي": 1, "كانون الثاني": 1,
    "فبراير": 2, "فيفري": 2, "شباط": 2,
    "مارس": 3, "اذار": 3,
    "ابريل": 4, "افريل": 4, "نيسان": 4,
    "مايو": 5, "ماي": 5, "ايار": 5,
    "يونيو": 6, "يونيه": 6, "جوان": 6, "حزيران": 6,
    "يوليو": 7, "يوليه": 7, "يوليوز": 7, "جويليه": 7, "تموز": 7,
    "اغسطس": 8, "غشت": 8, "اوت": 8, "اب": 8,
    "سبتمبر": 9, "شتنبر": 9, "ايلول": 9,
    "اكتوبر": 10, "تشرين الاول": 10,
    "نوفمبر": 11, "نونبر": 11, "تشرين الثاني": 11,
    "ديسمبر": 12, "دجنبر": 12, "كانون الاول": 12,
}  # fmt: skip
_MONTHS = {**_EN_MONTHS, **_AR_MONTHS}
_MONTH = "(?:" + "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True)) + ")"
# "3 يونيو/حزيران 2024" and "June (Jun) 3" name the month twice.
_ALSO = rf"(?:\s*[/(]\s*{_MONTH}\s*\)?)?"
_SUFFIX = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}}){_SUFFIX}\s+(?:of\s+)?(?P<m>{_MONTH})\b\.?{_ALSO},?\s+(?P<y>\d{{4}})(?!\d)"),
    re.compile(rf"\b(?P<m>{_MONTH})\b\.?{_ALSO}\s+(?P<d>\d{{1,2}}){_SUFFIX},?\s+(?P<y>\d{{4}})(?!\d)"),
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ARABIC_MARKS = re.compile(r"[\u0640\u064B-\u0652\u0670]")  # tatweel and harakat
_ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})


def parse_date(value: object) -> str | None:
    """A date field → ISO 8601 (``YYYY-MM-DD``, or a full timestamp if one was given).

    Accepts ISO dates/timestamps, RFC 2822 ("Mon, 03 Jun 2024 10:00:00 GMT"),
    "03 June 2024", "June 3, 2024", "2024/06/03" and Arabic month names
    ("03 يونيو 2024", "3 حزيران 2024"). Numeric day/month orders such as
    "03/06/2024" are ambiguous and give ``None``, as does anything unparseable.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):  # YAML front matter yields these
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    s = value.strip().translate(_ARABIC_DIGITS)
    if not s:
        return None
    if _ISO_DATE.fullmatch(s):
        return _valid_date(int(s[:4]), int(s[5:7]), int(s[8:10]))
    try:
        return datetime.fromisoformat(s).isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(s).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    return find_date(s)


def find_date(text: str) -> str | None:
    """The first written-out date inside ``text`` as ``YYYY-MM-DD``, or ``None``."""
    s = _normalise_for_dates(text)
    for match in _iter_date_matches(s):
        return match
    return None


def find_header_date(lines: list[str]) -> str | None:
    """A date on one of the short lines under a title ("03 يونيو 2024", "Published June 3, 2024")."""
    for line in lines:
        if len(line) <= _MAX_DATE_LINE:
            found = find_date(line)
            if found:
                return found
    return None


def _iter_date_matches(s: str) -> Iterator[str]:
    candidates: list[tuple[int, str]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(s):
            month = match.group("m")
            number = int(month) if month.isdigit() else _MONTHS.get(month)
            if number is None:
                continue
            iso = _valid_date(int(match.group("y")), number, int(match.group("d")))
            if iso:
                candidates.append((match.start(), iso))
                break
    for _, iso in sorted(candidates):  # the leftmost date in the text wins
        yield iso


def _valid_date(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _normalise_for_dates(text: str) -> str:
    text = _ARABIC_MARKS.sub("", text.translate(_ARABIC_DIGITS)).translate(_ALEF_FORMS)
    return " ".join(text.split()).lower()
