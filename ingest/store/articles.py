# Over 400 lines: ArticleStore is one class whose methods share the write protocol above (revisions, commit point, garbage collection).
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

Several writers may share one Chroma server. Between a writer's chunk write and its commit, its
chunks look like orphans to everyone else, so garbage collection deletes an orphan only once it is
:data:`ORPHAN_GRACE_SECONDS` old (each chunk carries its write time), and an article whose
committed chunks are missing anyway (deleted by an older newsbot, or by hand) is found by the
same pass and rewritten by the next ingest instead of being trusted as "unchanged".

A ``generation`` token in the catalog changes on every commit, so a reader can cheaply notice
that the corpus changed and update derived indexes (BM25) incrementally.

The client is built in :mod:`ingest.store.client`, failures of the store itself are diagnosed in
:mod:`ingest.store.failures`, and what a record holds is :mod:`ingest.store.schema`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from langchain_core.embeddings import Embeddings

from ingest.embeddings.sentence_vectors import encode_spans, encode_vectors
from ingest.errors import StoreError, first_line, human_size
from ingest.store.client import client_location, make_client
from ingest.store.failures import MIN_FREE_BYTES, Guarded, StoreFailure, diagnose, free_bytes
from ingest.store.schema import (
    GENERATION_ID,
    ArticleRecord,
    ChunkScope,
    StoredChunk,
    article_record,
    article_revision,
    chunk_id,
    collection_names,
    date_ordinal,
    stored_chunk,
)
from ingest.types import Article, Chunk

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_NULL_VECTOR = [1.0]
_GET_PAGE = 2000
#: An uncommitted chunk younger than this may belong to another writer's ingest that has not
#: committed yet; garbage collection leaves it (readers ignore it meanwhile). Far above the time
#: from a batch's chunk write to its commit (seconds, a minute over a slow link), and above clock
#: differences between machines sharing a server.
ORPHAN_GRACE_SECONDS = 3600


class ArticleStore:
    """Chunks and articles of one corpus in Chroma."""

    def __init__(self, client: Any, collection: str, embeddings: Embeddings, embedder_id: str = "") -> None:
        if embeddings is None:  # never let Chroma pick its own (downloading) embedding function
            raise StoreError("an embeddings object is required")
        chunk_name, catalog_name = collection_names(collection)
        self.name = collection
        self.embeddings = embeddings
        self.embedder_id = embedder_id or type(embeddings).__name__
        self._write_lock = threading.Lock()
        self._db, self._url = client_location(client)
        self._reopen_lock = threading.Lock()
        try:
            self._open(client)
        except StoreError:
            raise
        except Exception as exc:
            reason = diagnose(exc, db=self._db, url=self._url)[0]
            raise StoreError(f"cannot open collection {collection!r}: {reason}") from exc
        self._check_foreign()
        self._check_embedder()
        # Articles whose committed chunks are not all there (found by collect_garbage): the next
        # write of each is done even though its revision is the committed one.
        self._incomplete: set[str] = set()

    def _open(self, client: Any) -> None:
        from langchain_chroma import Chroma

        chunk_name, catalog_name = collection_names(self.name)
        self.vectorstore = Chroma(
            client=client,
            collection_name=chunk_name,
            embedding_function=self.embeddings,
            collection_metadata={"hnsw:space": "cosine", "newsbot": "chunks"},
        )
        self._catalog = Guarded(
            client.get_or_create_collection(name=catalog_name, embedding_function=None, metadata={"newsbot": "articles"}),
            self._db,
            self._url,
            reopen=(lambda stale: self._reopened(stale, "catalog")) if self._db is not None else None,
        )

    def _reopened(self, stale: Any, role: str) -> Any:
        """The local store opened afresh (Chroma keeps one in-memory index per folder and process,
        and does not notice another process's writes): the new copy of the ``stale`` collection."""
        with self._reopen_lock:
            if stale in (self.vectorstore._collection, self._catalog._collection):  # not reopened meanwhile
                from chromadb.api.shared_system_client import SharedSystemClient

                SharedSystemClient._identifier_to_system.pop(str(self._db), None)
                self._open(make_client(db=self._db))
            return self.vectorstore._collection if role == "chunks" else self._catalog._collection

    # -- properties ---------------------------------------------------------

    @property
    def chunks(self) -> Any:
        """The Chroma collection of chunks (failures raise :class:`StoreError`)."""
        return Guarded(
            self.vectorstore._collection,
            self._db,
            self._url,
            reopen=(lambda stale: self._reopened(stale, "chunks")) if self._db is not None else None,
        )

    def _check_foreign(self) -> None:
        """Refuse collections of the same name made by another program (a write or a garbage
        collection would mix with or delete its records)."""
        for coll in (self.vectorstore._collection, self._catalog):
            if "newsbot" not in (coll.metadata or {}):
                raise StoreError(
                    f"collection {coll.name!r} in this store was not made by newsbot; "
                    "choose another NEWSBOT_COLLECTION (or another store)"
                )

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
                records.append(article_record(aid, meta))
        records.sort(key=lambda r: (r.date or "", r.title), reverse=True)
        return records

    def revisions(self) -> dict[str, str]:
        """``article id → committed revision``: what a reader may trust."""
        return {r.id: r.rev for r in self.articles()}

    def article(self, article_id: str) -> ArticleRecord | None:
        res = self._catalog.get(ids=[article_id], include=["metadatas"])
        if not res["ids"] or article_id == GENERATION_ID:
            return None
        return article_record(article_id, res["metadatas"][0] or {})

    def article_text(self, article_id: str) -> str | None:
        res = self._catalog.get(ids=[article_id], include=["documents"])
        if not res["ids"]:
            return None
        return cast(str | None, res["documents"][0])

    def article_texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        res = self._catalog.get(ids=ids, include=["documents"])
        return dict(zip(res["ids"], res["documents"]))

    def count_chunks(self) -> int:
        return cast(int, self.chunks.count())

    def is_empty(self) -> bool:
        return cast(int, self._catalog.count()) <= (1 if self.generation() else 0)

    def iter_chunks(self, where: dict[str, Any] | None = None, *, sentences: bool = True) -> Iterable[StoredChunk]:
        """Chunks (any revision) matching ``where``; callers filter by committed revision.

        ``sentences=False`` leaves the sentence spans and vectors out of the metadata: they are
        most of its size, and a reader of the whole corpus (the BM25 load) holding them for 100k
        chunks needed ~300 MB more at its peak.
        """
        for ids, metas, docs in self._paged(self.chunks, include=["metadatas", "documents"], where=where):
            for cid, meta, doc in zip(ids, metas, docs):
                meta = meta or {}
                if not sentences:
                    meta.pop("sents", None)
                    meta.pop("sent_vecs", None)
                yield stored_chunk(cid, meta, doc or "")

    def committed_chunks(self, article_id: str, rev: str, *, sentences: bool = True) -> list[StoredChunk]:
        where = {"$and": [{"article_id": article_id}, {"rev": rev}]}
        out = list(self.iter_chunks(where, sentences=sentences))
        out.sort(key=lambda c: c.start)
        return out

    def get_chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        res = self.chunks.get(ids=list(ids), include=["metadatas", "documents"])
        by_id = {
            cid: stored_chunk(cid, meta or {}, doc or "")
            for cid, meta, doc in zip(res["ids"], res["metadatas"], res["documents"])
        }
        return [by_id[i] for i in ids if i in by_id]

    def get_chunks_with_vectors(self, ids: Sequence[str]) -> list[tuple[StoredChunk, list[float]]]:
        """Chunks by id with their stored vectors (no re-embedding)."""
        if not ids:
            return []
        res = self.chunks.get(ids=list(ids), include=["metadatas", "documents", "embeddings"])
        return [
            (stored_chunk(cid, meta or {}, doc or ""), vec)
            for cid, meta, doc, vec in zip(res["ids"], res["metadatas"], res["documents"], res["embeddings"])
        ]

    def query(
        self, vector: Sequence[float] | np.ndarray, k: int, scope: ChunkScope | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks to ``vector`` in ``scope`` as ``(chunk, cosine similarity)``, any revision."""
        # No count() first to cap k: Chroma returns what there is, and counting 100k chunks took
        # longer than the query itself (15 ms of a ~100 ms question).
        res = self.chunks.query(
            query_embeddings=[[float(x) for x in vector]],
            n_results=k,
            where=scope.where() if scope else None,
            include=["metadatas", "documents", "distances"],
        )
        out = []
        for cid, meta, doc, dist in zip(res["ids"][0], res["metadatas"][0], res["documents"][0], res["distances"][0]):
            out.append((stored_chunk(cid, meta or {}, doc or ""), 1.0 - float(dist)))
        return out

    def _paged(self, collection: Any, include: list[str], where: dict[str, Any] | None = None) -> Iterator[tuple[list[Any], ...]]:
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

    def is_unchanged(self, article: Article, chunks: Sequence[Chunk], committed: Mapping[str, str] | None = None) -> bool:
        """Is this exact revision stored? ``committed`` (from :meth:`revisions`) saves a store read
        per article when many are checked; ``write_articles`` checks again under its lock."""
        rev = article_revision(article, chunks, self.embedder_id)
        if article.id in self._incomplete:
            return False
        if committed is not None:
            return committed.get(article.id) == rev
        record = self.article(article.id)
        return record is not None and record.rev == rev

    def write_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]] | None = None,
        sentences: Sequence[tuple[Sequence[tuple[int, int]], Any]] | None = None,
    ) -> bool:
        """Store an article and its chunks, replacing an older revision. False if unchanged.

        ``sentences``: per chunk, its sentence spans (chunk-relative) and their vectors.
        """
        return self.write_articles([(article, chunks, vectors, sentences)])[0]

    def write_articles(self, items: Sequence[tuple[Any, ...]]) -> list[bool]:
        """Store several articles, each all-or-nothing exactly as :meth:`write_article` does, in a
        few Chroma calls for the whole batch instead of a few per article (each call has a fixed
        cost of tens of milliseconds locally, which dominated ingest time).

        ``items``: ``(article, chunks, vectors[, sentences])``; returns per item whether it was
        written (False: unchanged). Chunks of every new revision are written first, then all the
        catalog records (each one is its article's commit point), then old revisions' chunks are
        deleted, then the generation changes once.
        """
        prepared = []
        for item in items:
            article, chunks, vectors, sentences = (*item, None, None)[:4]
            if not chunks:
                raise StoreError(f"article {article.id} has no chunks")
            prepared.append((article, chunks, vectors, sentences, article_revision(article, chunks, self.embedder_id)))
        if len({p[0].id for p in prepared}) < len(prepared):  # the same article twice: in order
            return [flag for item in items for flag in self.write_articles([item])]
        what = f"article {prepared[0][0].id}" if len(prepared) == 1 else f"{len(prepared)} articles"
        with self._write_lock:
            committed = self._committed_revisions([p[0].id for p in prepared])
            todo = [p for p in prepared if committed.get(p[0].id) != p[4] or p[0].id in self._incomplete]
            if not todo:
                return [False] * len(prepared)
            ids: list[str] = []
            embeddings: list[list[float]] = []
            documents: list[str] = []
            metas: list[dict[str, Any]] = []
            needed = 0
            for article, chunks, vectors, sentences, rev in todo:
                if vectors is None:
                    vectors = self.embeddings.embed_documents([c.text for c in chunks])
                if len(vectors) != len(chunks):
                    raise StoreError(f"article {article.id}: {len(vectors)} vectors for {len(chunks)} chunks")
                chunk_metas = [self._chunk_metadata(article, c, rev) for c in chunks]
                if sentences is not None:
                    # Sentence spans (chunk-relative) and their vectors ride along with the chunk.
                    for meta, (spans, svecs) in zip(chunk_metas, sentences):
                        if len(spans):
                            meta["sents"] = encode_spans(spans)
                            meta["sent_vecs"] = encode_vectors(svecs)
                ids += [chunk_id(article.id, rev, c.index) for c in chunks]
                embeddings += [list(map(float, v)) for v in vectors]
                documents += [c.text for c in chunks]
                metas += chunk_metas
                needed += _bytes_needed(article, chunks, len(vectors[0]) if len(vectors) else 0)
            self._ensure_space(needed)
            try:
                batch = _max_batch(self.chunks)
                for i in range(0, len(ids), batch):
                    self.chunks.upsert(
                        ids=ids[i : i + batch],
                        embeddings=embeddings[i : i + batch],
                        documents=documents[i : i + batch],
                        metadatas=metas[i : i + batch],
                    )
                # Commit points: from here on readers see each new revision.
                for i in range(0, len(todo), batch):
                    part = todo[i : i + batch]
                    self._catalog.upsert(
                        ids=[p[0].id for p in part],
                        embeddings=[_NULL_VECTOR] * len(part),
                        documents=[p[0].text for p in part],
                        metadatas=[self._article_metadata(p[0], p[4], len(p[1]), self._encoder()) for p in part],
                    )
                self._delete_other_revisions_many({p[0].id: p[4] for p in todo})
                self._bump_generation()
            except StoreError as exc:
                raise type(exc)(f"cannot write {what}: {exc}") from exc
            except Exception as exc:
                raise StoreError(f"cannot write {what}: {first_line(exc)}") from exc
        written = {p[0].id for p in todo}
        self._incomplete -= written
        return [p[0].id in written for p in prepared]

    def _committed_revisions(self, article_ids: Sequence[str]) -> dict[str, str]:
        res = self._catalog.get(ids=list(article_ids), include=["metadatas"])
        return {aid: str((meta or {}).get("rev", "")) for aid, meta in zip(res["ids"], res["metadatas"])}

    def _delete_other_revisions_many(self, keep: dict[str, str]) -> None:
        """Delete the chunks of these articles whose revision is not the one just committed."""
        if len(keep) == 1:
            ((aid, rev),) = keep.items()
            self._delete_other_revisions(aid, keep=rev)
            return
        # Revisions are content hashes of whole articles: no other article has one of these.
        self.chunks.delete(where={"$and": [{"article_id": {"$in": list(keep)}}, {"rev": {"$nin": list(keep.values())}}]})

    def _ensure_space(self, needed: int) -> None:
        """Refuse a local write that would leave less than :data:`MIN_FREE_BYTES` free."""
        if self._db is None:
            return
        free = free_bytes(self._db)
        if free is None:
            return
        if free < MIN_FREE_BYTES + needed:
            raise StoreFailure(
                f"the disk holding the store {self._db} is full ({human_size(free)} free; newsbot keeps "
                f"{human_size(MIN_FREE_BYTES)} free so the store stays usable); free some space and try again"
            )

    def remove_article(self, article_id: str) -> bool:
        """Remove an article and all its chunks. False if there was no such article."""
        with self._write_lock:
            if self.article(article_id) is None:
                return False
            try:
                self._catalog.delete(ids=[article_id])  # commit point
                self.chunks.delete(where={"article_id": article_id})
                self._bump_generation()
            except StoreError as exc:
                raise type(exc)(f"cannot remove article {article_id}: {exc}") from exc
            except Exception as exc:
                raise StoreError(f"cannot remove article {article_id}: {first_line(exc)}") from exc
        return True

    def collect_garbage(self, grace_seconds: float = ORPHAN_GRACE_SECONDS) -> int:
        """Delete chunks of revisions no catalog record points at (left by a killed ingest) once
        they are ``grace_seconds`` old; note committed articles that lack chunks (see
        :meth:`incomplete_articles`). Returns how many chunks were deleted."""
        with self._write_lock:
            records = self.articles()
            committed = {r.id: r.rev[:8] for r in records}
            expected = {r.id: r.chunks for r in records}
            present: dict[str, int] = {}
            candidates = []
            # Ids alone (see chunk_id): the metadata holds the sentence vectors, hundreds of MB
            # for a large corpus, and every ingest run starts here.
            for (ids,) in self._paged(self.chunks, include=[]):
                for cid in ids:
                    aid, rev8, _ = cid.rsplit(":", 2)
                    if committed.get(aid) != rev8:
                        candidates.append(cid)
                    else:
                        present[aid] = present.get(aid, 0) + 1
            self._incomplete = {aid for aid, n in expected.items() if present.get(aid, 0) < n}
            if self._incomplete:
                logger.warning(
                    "%d article(s) miss some of their chunks; the next ingest of each rewrites it: %s",
                    len(self._incomplete),
                    ", ".join(sorted(self._incomplete)[:5]),
                )
            orphans = self._old_enough(candidates, grace_seconds)
            batch = _max_batch(self.chunks)
            for i in range(0, len(orphans), batch):
                self.chunks.delete(ids=orphans[i : i + batch])
            if orphans:
                logger.info("removed %d orphan chunks", len(orphans))
                self._bump_generation()
            return len(orphans)

    def incomplete_articles(self) -> set[str]:
        """Committed articles that missed some of their chunks at the last :meth:`collect_garbage`."""
        return set(self._incomplete)

    def _old_enough(self, ids: Sequence[str], grace_seconds: float) -> list[str]:
        """Those of ``ids`` written ``grace_seconds`` ago or earlier (or with no write time: chunks
        of a newsbot that did not record it)."""
        if not ids:
            return []
        cutoff = time.time() - grace_seconds
        old: list[str] = []
        batch = _max_batch(self.chunks)
        for i in range(0, len(ids), batch):
            res = self.chunks.get(ids=list(ids[i : i + batch]), include=["metadatas"])
            for cid, meta in zip(res["ids"], res["metadatas"]):
                written = (meta or {}).get("written")
                if not isinstance(written, (int, float)) or written <= cutoff:
                    old.append(cid)
        return old

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
        meta.update({"rev": rev, "index": chunk.index, "start": chunk.start, "end": chunk.end, "written": int(time.time())})
        ordinal = date_ordinal(article.date)
        if ordinal is not None:
            meta["date_ord"] = ordinal
        return meta

    def _encoder(self) -> str:
        """How the embedder ran ("torch", "openvino-int8"; "" when it does not say): recorded with
        each article, not part of its revision (the variants share one vector space)."""
        return str(getattr(self.embeddings, "encoder", "") or "")

    @staticmethod
    def _article_metadata(article: Article, rev: str, n_chunks: int, encoder: str = "") -> dict[str, Any]:
        meta: dict[str, Any] = dict(article.metadata())
        meta.pop("article_id", None)
        meta.update({"rev": rev, "chunks": n_chunks})
        if encoder:
            meta["encoder"] = encoder
        ordinal = date_ordinal(article.date)
        if ordinal is not None:
            meta["date_ord"] = ordinal
        return meta


def _bytes_needed(article: Article, chunks: Sequence[Chunk], dim: int) -> int:
    """A generous upper bound of the disk one article takes: Chroma keeps each text in SQLite plus
    a trigram full-text index, and each vector in its write-ahead log and its HNSW index."""
    text_bytes = len(article.text.encode("utf-8")) + sum(len(c.text.encode("utf-8")) for c in chunks)
    return 12 * text_bytes + 3 * 4 * max(dim, 1) * len(chunks) + 64 * 1024


def _max_batch(collection: Any) -> int:
    try:
        return max(1, int(collection._client.get_max_batch_size()))
    except Exception:
        return 1000


def open_store(
    *,
    collection: str,
    embeddings: Embeddings,
    embedder_id: str = "",
    db: Path | None = None,
    chroma_url: str | None = None,
) -> ArticleStore:
    """Open (creating if needed) the store of one corpus, local or on a Chroma server."""
    return ArticleStore(make_client(db=db, chroma_url=chroma_url), collection, embeddings, embedder_id)
