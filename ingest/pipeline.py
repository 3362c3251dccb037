"""Files → articles → chunks → vectors → store, with a per-file report.

A bad file never stops the run: it is reported with its reason and the files beside it are still
ingested. Chunks of several small articles are embedded together (the embedder is much faster on
full batches), then each article is written to the store on its own, all-or-nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunking import chunk_article
from ingest.errors import IngestError, NewsbotError
from ingest.loaders import discover_files, load_file
from ingest.store import ArticleStore
from ingest.types import Article, Chunk

logger = logging.getLogger(__name__)


@dataclass
class ChunkingOptions:
    size: int = 700
    max_size: int = 1000
    overlap: int = 1


@dataclass
class FileFailure:
    path: str
    reason: str

    def line(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class IngestReport:
    ingested: int = 0
    chunks: int = 0
    unchanged: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"ingested {self.ingested} articles ({self.chunks} chunks), "
            f"unchanged {self.unchanged}, failed {self.failed}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "chunks": self.chunks,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
            "articles": self.article_ids,
        }


# (event, path, detail): events are "file" (a file is done: detail "ok"/"unchanged"/reason),
# "failed" (detail = reason), "total" (detail = number of files).
ProgressFn = Callable[[str, str, str], None]


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
        max_bytes: int = 20 * 1024 * 1024,
        embed_batch: int = 64,
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
        notify("total", "", str(len(files)))
        self.store.collect_garbage()
        pending: list[_Pending] = []
        for path in files:
            try:
                articles = load_file(path, max_bytes=self.max_bytes)
            except IngestError as exc:
                self._fail(report, str(path), str(exc), notify)
                continue
            except Exception as exc:  # a loader bug must not stop the other files
                logger.debug("loader crashed on %s", path, exc_info=True)
                self._fail(report, str(path), f"could not read file ({type(exc).__name__}: {exc})", notify)
                continue
            new = 0
            for article in articles:
                chunks = chunk_article(
                    article,
                    size=self.chunking.size,
                    max_size=self.chunking.max_size,
                    overlap=self.chunking.overlap,
                )
                if not chunks:
                    continue
                if self.store.is_unchanged(article, chunks):
                    report.unchanged += 1
                    continue
                pending.append(_Pending(str(path), article, chunks))
                new += 1
            if sum(len(p.chunks) for p in pending) >= self.embed_batch:
                self._flush(pending, report, notify)
                pending = []
            if not new:
                notify("file", str(path), "unchanged")
        self._flush(pending, report, notify)
        return report

    def ingest_articles(self, articles: Sequence[Article], origin: str = "<input>") -> IngestReport:
        """Ingest already-loaded articles (used by tests and benchmarks)."""
        report = IngestReport()
        pending = []
        for article in articles:
            chunks = chunk_article(
                article, size=self.chunking.size, max_size=self.chunking.max_size, overlap=self.chunking.overlap
            )
            if chunks and self.store.is_unchanged(article, chunks):
                report.unchanged += 1
            elif chunks:
                pending.append(_Pending(article.path or origin, article, chunks))
            if sum(len(p.chunks) for p in pending) >= self.embed_batch:
                self._flush(pending, report, lambda *_: None)
                pending = []
        self._flush(pending, report, lambda *_: None)
        return report

    def _flush(self, pending: list[_Pending], report: IngestReport, notify: ProgressFn) -> None:
        if not pending:
            return
        texts = [c.text for p in pending for c in p.chunks]
        try:
            vectors = self.store.embeddings.embed_documents(texts)
        except Exception as exc:
            for path in dict.fromkeys(p.path for p in pending):
                self._fail(report, path, f"embedding failed ({type(exc).__name__}: {exc})", notify)
            return
        offset = 0
        done_paths: dict[str, str] = {}
        for p in pending:
            vecs = vectors[offset : offset + len(p.chunks)]
            offset += len(p.chunks)
            try:
                written = self.store.write_article(p.article, p.chunks, vecs)
            except NewsbotError as exc:
                self._fail(report, p.path, str(exc), notify)
                done_paths[p.path] = "failed"
                continue
            if written:
                report.ingested += 1
                report.chunks += len(p.chunks)
                report.article_ids.append(p.article.id)
            else:
                report.unchanged += 1
            done_paths.setdefault(p.path, "ok")
        for path, status in done_paths.items():
            if status == "ok":
                notify("file", path, "ok")

    @staticmethod
    def _fail(report: IngestReport, path: str, reason: str, notify: ProgressFn) -> None:
        if any(f.path == path for f in report.failures):
            return
        report.failures.append(FileFailure(path, reason))
        notify("failed", path, reason)
