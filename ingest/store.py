"""The article store: chunks with vectors in one Chroma collection, articles in a catalog beside it.

Layout (per corpus ``NAME``):

- ``NAME`` — one record per chunk: the chunk text, its vector, and metadata (article id, revision,
  offsets, title, date, ...). Accessed through langchain-chroma with *our* embeddings, so Chroma
  never falls back to its own (downloading) default embedding function.
- ``NAME__articles`` — one record per article: the full article text (so citations can be located
  by offset) and its metadata, including the committed revision ``rev`` and the chunk count.
  Chroma needs a vector per record; the catalog stores a constant 1-d vector and is never
  searched by similarity.

Writes are all-or-nothing per article without transactions: a new revision's chunks are written
under ids that carry the revision, then the catalog record is written (the commit point), then
the old revision's chunks are deleted. Readers only trust chunks whose ``rev`` matches the
catalog, so a reader never sees a half-written article, and an ingest killed half-way leaves only
orphans that the next write of that article (or :meth:`ArticleStore.collect_garbage`) deletes.

A ``generation`` token in the catalog changes on every commit, so a reader can cheaply notice
that the corpus changed and update derived indexes (BM25) incrementally.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from ingest.errors import StoreError
from ingest.types import Article, Chunk

logger = logging.getLogger(__name__)

GENERATION_ID = "__generation__"
_CATALOG_SUFFIX = "__articles"
_NULL_VECTOR = [1.0]
_GET_PAGE = 2000


@dataclass
class ArticleRecord:
    """What the catalog knows about one stored article."""

    id: str
    title: str
    rev: str
    chunks: int
    date: str | None = None
    source: str | None = None
    url: str | None = None
    lang: str | None = None
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "lang": self.lang,
            "url": self.url,
            "path": self.path,
            "chunks": self.chunks,
        }


@dataclass
class StoredChunk:
    """A chunk as read back from the store."""

    id: str
    article_id: str
    rev: str
    text: str
    start: int
    end: int
    metadata: dict[str, Any]


def make_client(db: Path | None = None, chroma_url: str | None = None) -> Any:
    """A Chroma client: ``HttpClient`` for a server URL, else ``PersistentClient`` at ``db``."""
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
        try:
            return chromadb.HttpClient(
                host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=chroma_settings
            )
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {chroma_url} ({_short(exc)}); "
                "is it running? (set NEWSBOT_CHROMA_URL or --chroma-url)"
            ) from exc
    assert db is not None
    db = Path(db)
    if db.exists() and not db.is_dir():
        raise StoreError(f"store path {db} is a file, not a folder (set NEWSBOT_DB)")
    if db.is_dir() and any(db.iterdir()) and not (db / "chroma.sqlite3").exists():
        raise StoreError(f"{db} is not a newsbot store (no chroma.sqlite3); choose another NEWSBOT_DB")
    try:
        db.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(db), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the store at {db}: {_short(exc)}") from exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _collection_names(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,50}[A-Za-z0-9]", name):
        raise StoreError(
            f"invalid collection name {name!r}: use 3-52 letters, digits, '.', '_' or '-' "
            "(start and end with a letter or digit)"
        )
    return name, name + _CATALOG_SUFFIX


def date_ordinal(date: str | None) -> int | None:
    """``2024-06-03...`` → ``20240603`` so Chroma can filter date ranges numerically."""
    if not date:
        return None
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", date)
    if not m:
        m2 = re.match(r"(\d{4})(?:-(\d{2}))?$", date)
        if not m2:
            return None
        return int(m2.group(1)) * 10000 + int(m2.group(2) or 1) * 100 + 1
    return int(m.group(1)) * 10000 + int(m.group(2)) * 100 + int(m.group(3))


def article_revision(article: Article, chunks: Sequence[Chunk], embedder_id: str) -> str:
    """A hash of everything that determines the stored records of an article."""
    h = hashlib.sha256()
    payload = {
        "text": article.text,
        "meta": article.metadata() | {"path": None},  # moving a file is not a change
        "spans": [(c.start, c.end) for c in chunks],
        "embedder": embedder_id,
    }
    h.update(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


class ArticleStore:
    """Chunks and articles of one corpus in Chroma."""

    def __init__(self, client: Any, collection: str, embeddings: Embeddings, embedder_id: str = "") -> None:
        from langchain_chroma import Chroma

        if embeddings is None:  # never let Chroma pick its own (downloading) embedding function
            raise StoreError("an embeddings object is required")
        chunk_name, catalog_name = _collection_names(collection)
        self.name = collection
        self.embeddings = embeddings
        self.embedder_id = embedder_id or type(embeddings).__name__
        self._write_lock = threading.Lock()
        try:
            self.vectorstore = Chroma(
                client=client,
                collection_name=chunk_name,
                embedding_function=embeddings,
                collection_metadata={"hnsw:space": "cosine", "newsbot": "chunks"},
            )
            self._catalog = client.get_or_create_collection(
                name=catalog_name, embedding_function=None, metadata={"newsbot": "articles"}
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open collection {collection!r}: {_short(exc)}") from exc
        self._check_embedder()

    # -- properties ---------------------------------------------------------

    @property
    def chunks(self) -> Any:
        """The raw Chroma collection of chunks."""
        return self.vectorstore._collection

    def _check_embedder(self) -> None:
        """Refuse to mix vectors of different embedders in one collection."""
        meta = self._catalog.get(ids=[GENERATION_ID], include=["metadatas"])
        stored = (meta["metadatas"][0] or {}).get("embedder") if meta["ids"] else None
        if stored and self.embedder_id and stored != self.embedder_id:
            raise StoreError(
                f"collection {self.name!r} was built with embedder {stored!r}, not {self.embedder_id!r}; "
                "use the same NEWSBOT_EMBEDDING, or another NEWSBOT_COLLECTION"
            )

    # -- reading ------------------------------------------------------------

    def generation(self) -> str:
        """A token that changes whenever an article is written or removed."""
        res = self._catalog.get(ids=[GENERATION_ID], include=["metadatas"])
        if not res["ids"]:
            return ""
        return str((res["metadatas"][0] or {}).get("generation", ""))

    def articles(self) -> list[ArticleRecord]:
        """All committed articles, sorted by date (newest first) then title."""
        records = []
        for ids, metas in self._paged(self._catalog, include=["metadatas"]):
            for aid, meta in zip(ids, metas):
                if aid == GENERATION_ID or not meta:
                    continue
                records.append(_record(aid, meta))
        records.sort(key=lambda r: (r.date or "", r.title), reverse=True)
        return records

    def revisions(self) -> dict[str, str]:
        """``article id → committed revision``: what a reader may trust."""
        return {r.id: r.rev for r in self.articles()}

    def article(self, article_id: str) -> ArticleRecord | None:
        res = self._catalog.get(ids=[article_id], include=["metadatas"])
        if not res["ids"] or article_id == GENERATION_ID:
            return None
        return _record(article_id, res["metadatas"][0] or {})

    def article_text(self, article_id: str) -> str | None:
        res = self._catalog.get(ids=[article_id], include=["documents"])
        if not res["ids"]:
            return None
        return res["documents"][0]

    def article_texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        res = self._catalog.get(ids=ids, include=["documents"])
        return dict(zip(res["ids"], res["documents"]))

    def count_chunks(self) -> int:
        return self.chunks.count()

    def is_empty(self) -> bool:
        return self._catalog.count() <= (1 if self.generation() else 0)

    def iter_chunks(self, where: dict[str, Any] | None = None) -> Iterable[StoredChunk]:
        """Chunks (any revision) matching ``where``; callers filter by committed revision."""
        for ids, metas, docs in self._paged(self.chunks, include=["metadatas", "documents"], where=where):
            for cid, meta, doc in zip(ids, metas, docs):
                yield _stored_chunk(cid, meta or {}, doc or "")

    def committed_chunks(self, article_id: str, rev: str) -> list[StoredChunk]:
        where = {"$and": [{"article_id": article_id}, {"rev": rev}]}
        out = [c for c in self.iter_chunks(where)]
        out.sort(key=lambda c: c.start)
        return out

    def get_chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        res = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {
            cid: _stored_chunk(cid, meta or {}, doc or "")
            for cid, meta, doc in zip(res["ids"], res["metadatas"], res["documents"])
        }
        return [by_id[i] for i in ids if i in by_id]

    def query(
        self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks to ``vector`` as ``(chunk, cosine similarity)``, any revision."""
        n = self.chunks.count()
        if n == 0:
            return []
        res = self.chunks.query(
            query_embeddings=[[float(x) for x in vector]],
            n_results=min(k, n),
            where=where or None,
            include=["metadatas", "documents", "distances"],
        )
        out = []
        for cid, meta, doc, dist in zip(
            res["ids"][0], res["metadatas"][0], res["documents"][0], res["distances"][0]
        ):
            out.append((_stored_chunk(cid, meta or {}, doc or ""), 1.0 - float(dist)))
        return out

    def _paged(self, collection: Any, include: list[str], where: dict[str, Any] | None = None):
        offset = 0
        while True:
            res = collection.get(include=include, where=where or None, limit=_GET_PAGE, offset=offset)
            ids = res["ids"]
            if not ids:
                return
            yield (ids, *[res[key] for key in include])
            if len(ids) < _GET_PAGE:
                return
            offset += len(ids)

    # -- writing ------------------------------------------------------------

    def is_unchanged(self, article: Article, chunks: Sequence[Chunk]) -> bool:
        record = self.article(article.id)
        return record is not None and record.rev == article_revision(article, chunks, self.embedder_id)

    def write_article(
        self, article: Article, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]] | None = None
    ) -> bool:
        """Store an article and its chunks, replacing an older revision. False if unchanged."""
        if not chunks:
            raise StoreError(f"article {article.id} has no chunks")
        rev = article_revision(article, chunks, self.embedder_id)
        with self._write_lock:
            record = self.article(article.id)
            if record is not None and record.rev == rev:
                return False
            if vectors is None:
                vectors = self.embeddings.embed_documents([c.text for c in chunks])
            if len(vectors) != len(chunks):
                raise StoreError(f"article {article.id}: {len(vectors)} vectors for {len(chunks)} chunks")
            ids = [chunk_id(article.id, rev, c.index) for c in chunks]
            metas = [self._chunk_metadata(article, c, rev) for c in chunks]
            try:
                batch = _max_batch(self.chunks)
                for i in range(0, len(ids), batch):
                    self.chunks.upsert(
                        ids=ids[i : i + batch],
                        embeddings=[list(map(float, v)) for v in vectors[i : i + batch]],
                        documents=[c.text for c in chunks[i : i + batch]],
                        metadatas=metas[i : i + batch],
                    )
                # Commit point: from here on readers see the new revision.
                self._catalog.upsert(
                    ids=[article.id],
                    embeddings=[_NULL_VECTOR],
                    documents=[article.text],
                    metadatas=[self._article_metadata(article, rev, len(chunks))],
                )
                self._delete_other_revisions(article.id, keep=rev)
                self._bump_generation()
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"cannot write article {article.id}: {_short(exc)}") from exc
        return True

    def remove_article(self, article_id: str) -> bool:
        """Remove an article and all its chunks. False if there was no such article."""
        with self._write_lock:
            if self.article(article_id) is None:
                return False
            try:
                self._catalog.delete(ids=[article_id])  # commit point
                self.chunks.delete(where={"article_id": article_id})
                self._bump_generation()
            except Exception as exc:
                raise StoreError(f"cannot remove article {article_id}: {_short(exc)}") from exc
        return True

    def collect_garbage(self) -> int:
        """Delete chunks of revisions no catalog record points at (left by a killed ingest)."""
        with self._write_lock:
            committed = self.revisions()
            orphans = []
            for ids, metas in self._paged(self.chunks, include=["metadatas"]):
                for cid, meta in zip(ids, metas):
                    meta = meta or {}
                    if committed.get(meta.get("article_id")) != meta.get("rev"):
                        orphans.append(cid)
            batch = _max_batch(self.chunks)
            for i in range(0, len(orphans), batch):
                self.chunks.delete(ids=orphans[i : i + batch])
            if orphans:
                logger.info("removed %d orphan chunks", len(orphans))
                self._bump_generation()
            return len(orphans)

    def _delete_other_revisions(self, article_id: str, keep: str) -> None:
        self.chunks.delete(where={"$and": [{"article_id": article_id}, {"rev": {"$ne": keep}}]})

    def _bump_generation(self) -> None:
        self._catalog.upsert(
            ids=[GENERATION_ID],
            embeddings=[_NULL_VECTOR],
            documents=[""],
            metadatas=[{"generation": uuid.uuid4().hex, "embedder": self.embedder_id}],
        )

    @staticmethod
    def _chunk_metadata(article: Article, chunk: Chunk, rev: str) -> dict[str, Any]:
        meta: dict[str, Any] = dict(article.metadata())
        meta.update({"rev": rev, "index": chunk.index, "start": chunk.start, "end": chunk.end})
        ordinal = date_ordinal(article.date)
        if ordinal is not None:
            meta["date_ord"] = ordinal
        return meta

    @staticmethod
    def _article_metadata(article: Article, rev: str, n_chunks: int) -> dict[str, Any]:
        meta: dict[str, Any] = dict(article.metadata())
        meta.pop("article_id", None)
        meta.update({"rev": rev, "chunks": n_chunks})
        ordinal = date_ordinal(article.date)
        if ordinal is not None:
            meta["date_ord"] = ordinal
        return meta


def chunk_id(article_id: str, rev: str, index: int) -> str:
    return f"{article_id}:{rev[:8]}:{index}"


def _max_batch(collection: Any) -> int:
    try:
        return max(1, int(collection._client.get_max_batch_size()))
    except Exception:
        return 1000


def _record(aid: str, meta: dict[str, Any]) -> ArticleRecord:
    return ArticleRecord(
        id=aid,
        title=str(meta.get("title", "")),
        rev=str(meta.get("rev", "")),
        chunks=int(meta.get("chunks", 0)),
        date=meta.get("date"),
        source=meta.get("source"),
        url=meta.get("url"),
        lang=meta.get("lang"),
        path=meta.get("path"),
    )


def _stored_chunk(cid: str, meta: dict[str, Any], doc: str) -> StoredChunk:
    return StoredChunk(
        id=cid,
        article_id=str(meta.get("article_id", "")),
        rev=str(meta.get("rev", "")),
        text=doc,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        metadata=meta,
    )


def open_store(
    *, collection: str, embeddings: Embeddings, embedder_id: str = "", db: Path | None = None,
    chroma_url: str | None = None,
) -> ArticleStore:
    """Open (creating if needed) the store of one corpus, local or on a Chroma server."""
    return ArticleStore(make_client(db=db, chroma_url=chroma_url), collection, embeddings, embedder_id)
