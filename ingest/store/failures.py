"""Failures of the store itself (a full disk, a read-only or damaged folder, a Chroma server that went
away), diagnosed into one-line :class:`StoreError` messages that say which of these it is.

A local store keeps :data:`MIN_FREE_BYTES` of disk free: Chroma that runs out of disk mid-write fails, and
can then hang on the next write, so newsbot refuses to start a write that would eat into it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.errors import StoreError, first_line, human_size

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


#: Disk space a local store leaves free (SQLite's journal and Chroma's compaction need room).
MIN_FREE_BYTES = 16 * 1024 * 1024


class StoreFailure(StoreError):
    """The store itself failed (disk full, read-only, damaged, server gone), not one article's
    write: every further write would fail too, so an ingest stops at the first one."""


def free_bytes(path: Path) -> int | None:
    """Free disk space where ``path`` is (or would be created), None if unknown."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def diagnose(exc: BaseException, *, db: Path | None = None, url: str | None = None) -> tuple[str, bool]:
    """Chroma's error as one line that says what went wrong, and whether the store itself failed
    (disk full, read-only, damaged, server gone) rather than one request."""
    reason = first_line(exc)
    text = str(exc).lower()
    if db is not None:
        free = free_bytes(db)
        if "disk is full" in text or "no space left" in text or (free is not None and free < MIN_FREE_BYTES):
            return (
                f"the disk holding the store {db} is full ({human_size(free)} free); free some space and try again ({reason})",
                True,
            )
        if "readonly" in text or "read-only" in text or "permission denied" in text:
            return (
                f"the store at {db} is read-only; newsbot needs write access to it, even to answer questions ({reason})",
                True,
            )
        if "malformed" in text or "not a database" in text:
            return (
                f"the store at {db} is damaged ({reason}); restore it from a backup, or choose another NEWSBOT_DB",
                True,
            )
        if is_stale(exc) or "hnsw" in text or "segment reader" in text:
            # Chroma's vector index disagrees with its database: another process wrote to the
            # folder behind this one's back, or the index files are damaged.
            return (
                f"the store at {db} changed under this process or its index is damaged ({reason}): a local "
                "store is for one process at a time, so stop the other newsbot (serve, ingest) and start this "
                "one again, or use a Chroma server to share a store; if nothing else uses it, restore it from "
                "a backup",
                True,
            )
    if url is not None and any(w in text for w in ("connect", "timed out", "timeout", "refused", "unreachable")):
        return f"lost the connection to the Chroma server at {url}; is it running? ({reason})", True
    return reason, False


def answered_but_not_chroma(exc: BaseException) -> bool:
    """Did an HTTP server answer the client's first request with something that is not Chroma's
    API (an HTML page, a 404 for /api/v2) rather than not answering at all?"""
    import httpx

    if isinstance(exc, (httpx.TransportError, OSError)):
        return False  # refused, timed out, unreachable: nothing answered
    text = str(exc).lower()
    return any(w in text for w in ("<!doctype", "<html", "not found", "404", "405", "expecting value", "json"))


def is_stale(exc: BaseException) -> bool:
    """Chroma's in-memory index no longer matches its folder: another process wrote to it."""
    return "error finding id" in str(exc).lower()


class Guarded:
    """A Chroma collection whose failures surface as :class:`StoreError` with a diagnosis.

    ``reopen`` (local stores) gives a freshly opened copy of the collection: a call that finds
    the in-memory index out of step with the folder (another process ingested meanwhile) is
    retried once on it, so a running server survives a CLI ingest into its folder.
    """

    _READS = frozenset({"get", "query", "count", "peek"})

    def __init__(self, collection: Any, db: Path | None, url: str | None, reopen: Callable[[Any], Any] | None = None) -> None:
        self._collection = collection
        self._db = db
        self._url = url
        self._reopen = reopen

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                try:
                    return attr(*args, **kwargs)
                except Exception as exc:
                    if self._reopen is None or not is_stale(exc):
                        raise
                    logger.info("the store changed under this process (%s); reopening it", first_line(exc))
                    self._collection = self._reopen(self._collection)
                    return getattr(self._collection, name)(*args, **kwargs)
            except StoreError:
                raise
            except Exception as exc:
                verb = "read" if name in self._READS else "write"
                reason, systemic = diagnose(exc, db=self._db, url=self._url)
                raise (StoreFailure if systemic else StoreError)(f"cannot {verb} the store: {reason}") from exc

        return guarded
