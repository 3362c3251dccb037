"""Find article files and turn each into ``Article`` records.

Formats: plain text / Markdown (optional YAML front matter), HTML (main text via
trafilatura), JSON (object or array of objects), JSON Lines, and PDF (pypdf).

Every failure is an ``IngestError`` whose message is a short reason *without*
the path; the caller prefixes the path when reporting.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from ingest.errors import IngestError, first_line, human_size
from ingest.loaders.html_page import load_html
from ingest.loaders.json_records import load_json, load_jsonl
from ingest.loaders.pdf import load_pdf
from ingest.loaders.plaintext import load_text
from ingest.types import Article

logger = logging.getLogger(__name__)

TEXT_EXTENSIONS = frozenset({".txt", ".md", ".markdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
SUPPORTED_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf")
BYTES_PER_MB = 1024 * 1024  # the same MB the settings' max_file_mb means
MAX_FILE_MB = 20.0  # files larger than this are refused (the default of NEWSBOT_MAX_FILE_MB)


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
        articles = [load_text(data, path, markdown=suffix != ".txt")]
    elif suffix in HTML_EXTENSIONS:
        articles = [load_html(data, path)]
    elif suffix == ".json":
        articles = load_json(data, path, failures)
    elif suffix == ".jsonl":
        articles = load_jsonl(data, path, failures)
    else:
        articles = [load_pdf(data, path)]
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
