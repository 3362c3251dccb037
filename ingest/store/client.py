"""The Chroma client: a local folder (checked before Chroma touches it) or a server, with timeouts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ingest.errors import StoreError, first_line
from ingest.store.failures import answered_but_not_chroma, diagnose

if TYPE_CHECKING:
    pass


_CHROMA_TABLES = frozenset({"collections", "segments", "embeddings"})
#: Seconds to wait for a Chroma server: to connect, and for each reply (a server that accepts
#: connections but never answers must not hang every command).
CHROMA_CONNECT_TIMEOUT = 10.0
CHROMA_READ_TIMEOUT = 120.0


def _install_chroma_timeouts() -> None:
    """Give Chroma's HTTP client timeouts: it builds its session as ``httpx.Client(timeout=None)``
    and has no setting for it (nor accepts another API class), so the ``httpx`` its module sees
    is one whose ``Client`` puts ours in. Only that module is affected; idempotent."""
    import types

    import httpx
    from chromadb.api import fastapi

    if getattr(fastapi.httpx, "_newsbot_timeouts", False):
        return

    def client(*args: Any, **kwargs: Any) -> httpx.Client:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = httpx.Timeout(CHROMA_READ_TIMEOUT, connect=CHROMA_CONNECT_TIMEOUT)
        return httpx.Client(*args, **kwargs)

    shim = types.SimpleNamespace(**{k: getattr(httpx, k) for k in dir(httpx) if not k.startswith("__")})
    shim.Client = client
    shim._newsbot_timeouts = True
    fastapi.httpx = shim  # type: ignore[assignment]  # a stand-in namespace for the module, by design


def make_client(db: Path | None = None, chroma_url: str | None = None) -> Any:
    """A Chroma client: ``HttpClient`` (with timeouts) for a server URL, else ``PersistentClient``
    at ``db``."""
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
    except ImportError as exc:  # pragma: no cover - chromadb is a hard dependency
        raise StoreError("chromadb is not installed: pip install chromadb") from exc
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        parsed = urlparse(chroma_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"invalid Chroma URL {chroma_url!r}: expected http://HOST:PORT")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        _install_chroma_timeouts()
        try:
            return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=chroma_settings)
        except Exception as exc:
            reason = first_line(exc)
            if answered_but_not_chroma(exc):
                raise StoreError(
                    f"the server at {chroma_url} answered, but it is not a Chroma server ({reason[:80]}); "
                    "check NEWSBOT_CHROMA_URL or --chroma-url (host and port of `chroma run`)"
                ) from exc
            raise StoreError(
                f"cannot reach the Chroma server at {chroma_url} ({reason}); "
                "is it running? (set NEWSBOT_CHROMA_URL or --chroma-url)"
            ) from exc
    assert db is not None
    db = Path(db)
    if db.exists() and not db.is_dir():
        raise StoreError(f"store path {db} is a file, not a folder (set NEWSBOT_DB)")
    if db.is_dir() and any(db.iterdir()) and not (db / "chroma.sqlite3").exists():
        raise StoreError(f"{db} is not a newsbot store (no chroma.sqlite3); choose another NEWSBOT_DB")
    if (db / "chroma.sqlite3").is_file():
        _check_chroma_database(db / "chroma.sqlite3")
    try:
        db.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(db), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the store at {db}: {diagnose(exc, db=db)[0]}") from exc


def _check_chroma_database(path: Path) -> None:
    """Refuse a ``chroma.sqlite3`` that is not Chroma's, before Chroma migrates it into its schema."""
    if path.stat().st_size == 0:
        return
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreError(
                f"the store at {path.parent} is damaged ({path.name}: {exc}); "
                "restore it from a backup, or choose another NEWSBOT_DB and ingest again"
            ) from None
        return  # locked or unreadable: Chroma says what is wrong
    if tables and not _CHROMA_TABLES <= tables:
        raise StoreError(f"{path} is another program's SQLite database, not a Chroma store; choose another NEWSBOT_DB")


def client_location(client: Any) -> tuple[Path | None, str | None]:
    """(local store folder, server URL) of a Chroma client, as far as it tells."""
    try:
        s = client.get_settings()
    except Exception:
        return None, None
    if getattr(s, "is_persistent", False) and getattr(s, "persist_directory", None):
        return Path(s.persist_directory), None
    host = getattr(s, "chroma_server_host", None)
    if host:
        scheme = "https" if getattr(s, "chroma_server_ssl_enabled", False) else "http"
        return None, f"{scheme}://{host}:{getattr(s, 'chroma_server_http_port', '')}"
    return None, None
