"""Files → articles → chunks → vectors → store, with a per-file report.

A bad file never stops the run: it is reported with its reason and the files beside it are still
ingested. Chunks of several small articles are embedded together (the embedder is much faster on
full batches), then written to the store together, each article all-or-nothing.

A failing *store* (disk full, read-only, damaged, server gone: ``StoreFailure``) does stop the
run: every further write would fail the same way, so the file being written is reported and the
run ends there, with ``report.stopped`` saying why. Articles written before stay, and running the
same ingest again picks up the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ingest.chunking import ChunkingOptions, chunk_article
from ingest.errors import IngestError, NewsbotError
from ingest.loaders.files import BYTES_PER_MB, MAX_FILE_MB, discover_files, load_records
from ingest.store.articles import ArticleStore
from ingest.store.failures import StoreFailure
from ingest.text.sentences import evidence_spans
from ingest.types import Article, Chunk

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class FileFailure:
    path: str
    reason: str
    where: str | None = None  # the record inside the file ("line 3", "record 2", "id X"), if one

    def line(self) -> str:
        return f"{self.path}{' ' + self.where if self.where else ''}: {self.reason}"


@dataclass
class IngestReport:
    ingested: int = 0
    chunks: int = 0
    unchanged: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early (the store failed), else None

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        text = f"ingested {self.ingested} articles ({self.chunks} chunks), unchanged {self.unchanged}, failed {self.failed}"
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "chunks": self.chunks,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "failures": [{"path": f.path, "where": f.where, "reason": f.reason} for f in self.failures],
            "articles": self.article_ids,
            "stopped": self.stopped,
        }


# --------------------------------------------------------------------------- progress events


@dataclass(frozen=True)
class FilesFound:
    """The run will read ``count`` files (sent once, before the first file)."""

    count: int


@dataclass(frozen=True)
class FileDone:
    """A file is done: its articles are stored (``ok``) or were already (``unchanged``)."""

    path: str
    status: Literal["ok", "unchanged"]


@dataclass(frozen=True)
class FileFailed:
    """A file, or a path given, could not be ingested; nothing of it was stored."""

    path: str
    reason: str


@dataclass(frozen=True)
class RecordFailed:
    """One record of a file failed (``where``: "line 3", "id X"); the file's other records go on."""

    path: str
    where: str
    reason: str


ProgressEvent = FilesFound | FileDone | FileFailed | RecordFailed
ProgressFn = Callable[[ProgressEvent], None]


@dataclass
class _Pending:
    path: str
    article: Article
    chunks: list[Chunk]


class Ingestor:
    """Ingests files into one store; reusable across calls (the UI keeps one)."""

    def __init__(
        self,
        store: ArticleStore,
        *,
        chunking: ChunkingOptions | None = None,
        max_bytes: int = int(MAX_FILE_MB * BYTES_PER_MB),
        embed_batch: int = 256,
    ) -> None:
        self.store = store
        self.chunking = chunking or ChunkingOptions()
        self.max_bytes = max_bytes
        self.embed_batch = embed_batch

    def ingest_paths(self, paths: Sequence[Path], progress: ProgressFn | None = None) -> IngestReport:
        report = IngestReport()
        notify = progress or (lambda *_: None)
        files, missing = discover_files([Path(p) for p in paths])
        for path, reason in missing:
            self._fail(report, str(path), reason, notify)
        notify(FilesFound(len(files)))
        self.store.collect_garbage()
        committed = self.store.revisions()  # one read, not one per article
        pending: list[_Pending] = []
        first_seen: dict[str, str] = {}  # article id -> the file it came from in this run
        for path in files:
            try:
                articles, bad_records = load_records(path, max_bytes=self.max_bytes)
            except IngestError as exc:
                self._fail(report, str(path), str(exc), notify)
                continue
            except Exception as exc:  # a loader bug must not stop the other files
                logger.debug("loader crashed on %s", path, exc_info=True)
                self._fail(report, str(path), f"could not read file ({type(exc).__name__}: {exc})", notify)
                continue
            for where, reason in bad_records:  # the good records of the file are still ingested
                self._fail(report, str(path), reason, notify, where=where)
            articles = self._first_of_each_id(articles, str(path), first_seen, report, notify)
            new = sum(self._enqueue(pending, report, str(path), article, committed) for article in articles)
            pending = self._flush_if_full(pending, report, notify, committed)
            if report.stopped:
                return report
            if not new:
                notify(FileDone(str(path), "unchanged"))
        self._flush(pending, report, notify)
        return report

    def ingest_articles(self, articles: Sequence[Article], origin: str = "<input>") -> IngestReport:
        """Ingest already-loaded articles (used by tests and benchmarks)."""
        report = IngestReport()
        committed = self.store.revisions()
        pending: list[_Pending] = []
        quiet: ProgressFn = lambda *_: None
        for article in articles:
            self._enqueue(pending, report, article.path or origin, article, committed)
            pending = self._flush_if_full(pending, report, quiet, committed)
            if report.stopped:
                return report
        self._flush(pending, report, quiet)
        return report

    def _first_of_each_id(
        self, articles: list[Article], path: str, first_seen: dict[str, str], report: IngestReport, notify: ProgressFn
    ) -> list[Article]:
        """The articles whose id this run has not met yet; each later one is a failure that names
        where the id came from first (two records with one id, or one url and no id, would
        otherwise overwrite each other, the last one silently winning)."""
        kept = []
        for article in articles:
            first = first_seen.get(article.id)
            if first is None:
                first_seen[article.id] = path
                kept.append(article)
                continue
            where = "earlier in this file" if first == path else f"from {first}"
            self._fail(
                report,
                path,
                f"another article with id {article.id} came {where} (same id, or same url and no id); kept that one",
                notify,
                where=f"id {article.id}",
            )
        return kept

    def _enqueue(
        self, pending: list[_Pending], report: IngestReport, origin: str, article: Article, committed: dict[str, str]
    ) -> bool:
        """Queue an article for embedding unless it has no text to chunk or is stored as it is."""
        chunks = chunk_article(article, size=self.chunking.size, max_size=self.chunking.max_size, overlap=self.chunking.overlap)
        if not chunks:
            return False
        if self.store.is_unchanged(article, chunks, committed):
            report.unchanged += 1
            return False
        pending.append(_Pending(origin, article, chunks))
        return True

    def _flush_if_full(
        self, pending: list[_Pending], report: IngestReport, notify: ProgressFn, committed: dict[str, str]
    ) -> list[_Pending]:
        """Embed and write the queue once it holds a batch's worth of chunks; the queue left.
        ``committed`` is refreshed after a write (one read per batch), so an article met again
        later in the run is seen as stored."""
        if sum(len(p.chunks) for p in pending) < self.embed_batch:
            return pending
        self._flush(pending, report, notify)
        committed.update(self.store.revisions())
        return []

    def _flush(self, pending: list[_Pending], report: IngestReport, notify: ProgressFn) -> None:
        if not pending:
            return
        texts = [c.text for p in pending for c in p.chunks]
        embeddings = self.store.embeddings
        sentences: list[tuple[list[tuple[int, int]], np.ndarray]] | None = None
        try:
            if getattr(embeddings, "pools_spans", False):
                # Sentence vectors come out of the same forward pass (ingest.embeddings.sentence_vectors).
                spans = [evidence_spans(t) for t in texts]
                vectors, span_vecs = embeddings.embed_documents_with_spans(texts, spans)  # type: ignore[attr-defined]  # a plain Embeddings; the pools_spans check above
                sentences = list(zip(spans, span_vecs))
            else:
                vectors = embeddings.embed_documents(texts)
        except Exception as exc:
            for path in dict.fromkeys(p.path for p in pending):
                self._fail(report, path, f"embedding failed ({type(exc).__name__}: {exc})", notify)
            return
        offset = 0
        items = []
        for p in pending:
            vecs = vectors[offset : offset + len(p.chunks)]
            sents = sentences[offset : offset + len(p.chunks)] if sentences is not None else None
            offset += len(p.chunks)
            items.append((p, vecs, sents))
        done_paths: dict[str, str] = {}
        try:
            # The whole batch in a few store calls (each call costs tens of ms whatever its size).
            flags = self.store.write_articles([(p.article, p.chunks, v, s) for p, v, s in items])
        except StoreFailure as exc:
            self._stop(report, items[0][0].path, exc, notify)  # no retry: it would fail (or hang) too
            return
        except NewsbotError:
            flags = None  # one bad article: write them one by one to find it
        if flags is not None:
            for (p, _, _), written in zip(items, flags):
                self._count(report, p, written)
                done_paths.setdefault(p.path, "ok")
            items = []
        for p, vecs, sents in items:
            try:
                written = self.store.write_article(p.article, p.chunks, vecs, sentences=sents)
            except StoreFailure as exc:
                self._stop(report, p.path, exc, notify)
                done_paths[p.path] = "failed"
                break
            except NewsbotError as exc:
                self._fail(report, p.path, str(exc), notify)
                done_paths[p.path] = "failed"
                continue
            self._count(report, p, written)
            done_paths.setdefault(p.path, "ok")
        for path, status in done_paths.items():
            if status == "ok":
                notify(FileDone(path, "ok"))

    def _stop(self, report: IngestReport, path: str, exc: StoreFailure, notify: ProgressFn) -> None:
        """The store failed, not this file: later writes would fail too (and a Chroma out of disk
        may hang on the next one), so the run stops here rather than failing every file."""
        self._fail(report, path, str(exc), notify)
        report.stopped = "the store failed (see above); finished articles are kept, run the same ingest again once it is fixed"

    @staticmethod
    def _count(report: IngestReport, p: _Pending, written: bool) -> None:
        if written:
            report.ingested += 1
            report.chunks += len(p.chunks)
            report.article_ids.append(p.article.id)
        else:
            report.unchanged += 1

    @staticmethod
    def _fail(report: IngestReport, path: str, reason: str, notify: ProgressFn, *, where: str | None = None) -> None:
        if any(f.path == path and f.where == where for f in report.failures):
            return
        failure = FileFailure(path, reason, where)
        report.failures.append(failure)
        if where:
            notify(RecordFailed(path, where, reason))
        else:
            notify(FileFailed(path, reason))
