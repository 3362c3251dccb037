"""The keyword index kept on disk between runs (``bot/retrieval/index_file.py``, ``HybridRetriever``):
a new process loads it instead of re-reading the store, applies only what changed since, and
never trusts a damaged, stale or foreign file. Real Chroma in a temp dir, fake embedder."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from synthetic import question, write_corpus

from bot.retrieval.hybrid import HybridRetriever
from ingest.pipeline import Ingestor


def wait_for_saves() -> None:
    for t in threading.enumerate():
        if t.name == "keyword-index-save":
            t.join(30)


def results(retriever: HybridRetriever, qs: list[str]) -> list[list[tuple[str, float]]]:
    return [retriever.bm25.search(q, 10) + retriever.names.search(q, 10) for q in qs]


@pytest.fixture
def corpus(tmp_path: Path, store):
    folder = tmp_path / "articles"
    write_corpus(folder, 12)
    assert Ingestor(store).ingest_paths([folder]).ingested == 12
    return folder


def test_a_new_process_loads_the_index_and_applies_only_what_changed(tmp_path, store, corpus, monkeypatch):
    path = tmp_path / "keyword-index.npz"
    qs = [question(i) for i in (1, 5, 11, 14)]
    first = HybridRetriever(store, store.embeddings, index_path=path)
    first.sync()
    wait_for_saves()
    assert path.is_file()

    # The store changes: two articles rewritten, one removed, two added.
    write_corpus(corpus, 2, version=2, start=1)
    write_corpus(corpus, 2, start=13)
    (corpus / "art-0005.txt").unlink()
    Ingestor(store).ingest_paths([corpus])
    store.remove_article(next(r.id for r in store.articles() if r.url and r.url.endswith("/5")))

    # A new process: the whole store is never paged through; only changed articles are read.
    read: list[str] = []
    real_iter, real_committed = store.iter_chunks, store.committed_chunks

    def iter_chunks(where=None, **kwargs):
        assert where is not None, "the whole store was re-read"
        return real_iter(where, **kwargs)

    monkeypatch.setattr(store, "iter_chunks", iter_chunks)
    monkeypatch.setattr(store, "committed_chunks", lambda aid, rev, **k: read.append(aid) or real_committed(aid, rev, **k))
    second = HybridRetriever(store, store.embeddings, index_path=path)
    second.sync()
    assert 0 < len(read) <= 4
    monkeypatch.undo()

    fresh = HybridRetriever(store, store.embeddings)  # built from the store alone
    fresh.sync()
    assert results(second, qs) == results(fresh, qs)
    assert second._revisions == fresh._revisions and second._chunk_meta == fresh._chunk_meta
    assert second._lang_chunks == fresh._lang_chunks
    wait_for_saves()


def test_an_index_saved_at_the_store_generation_is_used_without_reading_the_catalog(tmp_path, store, corpus, monkeypatch):
    path = tmp_path / "keyword-index.npz"
    qs = [question(i) for i in (1, 5, 11)]
    first = HybridRetriever(store, store.embeddings, index_path=path)
    first.sync()
    wait_for_saves()

    # Nothing changed since the save: the saved revisions are the store's, not read again.
    real_revisions = store.revisions
    monkeypatch.setattr(store, "revisions", lambda: pytest.fail("the article catalog was read"))
    second = HybridRetriever(store, store.embeddings, index_path=path)
    second.sync()
    assert results(second, qs) == results(first, qs) and second._revisions == real_revisions()

    # After a change the generation differs: the catalog is read and the change applied.
    monkeypatch.setattr(store, "revisions", real_revisions)
    write_corpus(corpus, 1, version=2, start=1)
    Ingestor(store).ingest_paths([corpus])
    calls: list[int] = []
    monkeypatch.setattr(store, "revisions", lambda: calls.append(1) or real_revisions())
    third = HybridRetriever(store, store.embeddings, index_path=path)
    third.sync()
    assert calls and third._revisions == real_revisions()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other collection", "other code"])
def test_a_bad_index_file_is_rebuilt_from_the_store(tmp_path, store, corpus, monkeypatch, caplog, damage):
    path = tmp_path / "keyword-index.npz"
    first = HybridRetriever(store, store.embeddings, index_path=path)
    first.sync()
    wait_for_saves()
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an index at all")
    elif damage == "other collection":
        monkeypatch.setattr(store, "name", "another")
    else:
        import bot.retrieval.index_file

        monkeypatch.setattr(bot.retrieval.index_file, "code_fingerprint", lambda: "0123456789abcdef")
    qs = [question(i) for i in (1, 5, 11)]
    with caplog.at_level(logging.INFO, logger="bot.retrieval.index_file"):
        second = HybridRetriever(store, store.embeddings, index_path=path)
        second.sync()
    assert "rebuilding it from the store" in caplog.text
    assert results(second, qs) == results(first, qs)
    wait_for_saves()


def test_serve_warm_up_opens_the_chain_and_loads_the_keyword_index_once(tmp_path, corpus):
    from bot.settings import Settings
    from bot.wiring import App

    app = App(Settings(_env_file=None, db=tmp_path / "db", model_dir=tmp_path, embedding="fake"))  # type: ignore[call-arg]
    assert app.ingestor.ingest_paths([corpus]).ingested == 12
    wait_for_saves()

    fresh = App(app.settings)  # what `newsbot serve` starts with: nothing open yet
    first = fresh.start_warm_up()
    assert fresh.start_warm_up() is first  # a second caller gets the same warm-up
    first.join(60)
    assert not first.is_alive()
    retriever = fresh.chain.retriever
    assert retriever._index_loaded and len(retriever.bm25) > 0
    assert fresh.chain.invoke({"question": question(5)}).citations
