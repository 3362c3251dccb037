"""The store on a real Chroma in a temp dir: idempotent, replace-on-change, all-or-nothing, remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import chunk_article
from ingest.errors import StoreError
from ingest.store.articles import open_store
from ingest.store.schema import ChunkScope, date_ordinal
from ingest.types import Article

TEXT = (
    "Harbour reopens after storm\n\n"
    "The harbour reopened on Tuesday after a three-day closure. Fishing boats returned in the morning.\n\n"
    "The port authority said damage to the main pier was limited. Repairs to the lighthouse will start next month.\n"
)


def _article(text: str = TEXT, **kw) -> Article:
    fields = {"id": "harbour", "text": text, "title": "Harbour reopens after storm", "date": "2024-05-02"}
    fields.update(kw)
    return Article(**fields)


def _write(store, article: Article) -> bool:
    return store.write_article(article, chunk_article(article, size=120, max_size=200))


def test_write_is_idempotent(store) -> None:
    a = _article()
    assert _write(store, a) is True
    n = store.count_chunks()
    gen = store.generation()
    assert n >= 2
    assert _write(store, a) is False
    assert store.count_chunks() == n
    assert store.generation() == gen


def test_changed_article_replaces_its_chunks(store) -> None:
    _write(store, _article())
    old_ids = {c.id for c in store.iter_chunks()}
    changed = _article(TEXT.replace("three-day", "four-day"))
    assert _write(store, changed) is True
    chunks = list(store.iter_chunks())
    assert not old_ids & {c.id for c in chunks}
    assert all("four-day" in c.text or "three-day" not in c.text for c in chunks)
    (record,) = store.articles()
    assert record.chunks == len(chunks)
    assert store.article_text("harbour") == changed.text


def test_offsets_are_stored_and_slice_the_stored_text(store) -> None:
    _write(store, _article())
    text = store.article_text("harbour")
    for c in store.iter_chunks():
        assert text[c.start : c.end] == c.text


def test_failed_commit_leaves_old_revision_whole(store, monkeypatch) -> None:
    _write(store, _article())
    before = sorted(c.id for c in store.iter_chunks())
    rev_before = store.revisions()["harbour"]

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store._catalog, "upsert", boom)
    with pytest.raises(StoreError, match="cannot write article harbour"):
        _write(store, _article(TEXT + "\nA new paragraph about the ferry timetable was added later.\n"))
    monkeypatch.undo()
    # Readers trust only the committed revision: still the old one, with all its chunks.
    assert store.revisions()["harbour"] == rev_before
    committed = store.committed_chunks("harbour", rev_before)
    assert sorted(c.id for c in committed) == before
    # The half-written revision is garbage: kept while it could still be another writer's commit
    # in progress, collected once it is old; the old revision stays intact.
    assert store.collect_garbage() == 0
    assert store.collect_garbage(grace_seconds=0) > 0
    assert sorted(c.id for c in store.iter_chunks()) == before


def test_garbage_collection_between_another_writers_chunks_and_commit_loses_nothing(
    tmp_path: Path, fake_embeddings, monkeypatch
) -> None:
    """Two writers on one store: the second one's garbage collection runs after the first wrote
    its chunks and before it committed them. The article ends up whole (it was committed empty
    when the collection ignored write times)."""
    writer = open_store(collection="news", embeddings=fake_embeddings, embedder_id="fake", db=tmp_path / "db")
    other = open_store(collection="news", embeddings=fake_embeddings, embedder_id="fake", db=tmp_path / "db")
    commit = writer._catalog.upsert
    collected: list[int] = []

    def collect_then_commit(*args, **kwargs):
        if kwargs.get("ids") != ["__generation__"]:
            collected.append(other.collect_garbage())
        return commit(*args, **kwargs)

    monkeypatch.setattr(writer._catalog, "upsert", collect_then_commit)
    assert _write(writer, _article()) is True
    assert collected == [0]
    (record,) = other.articles()
    assert len(other.committed_chunks("harbour", record.rev)) == record.chunks >= 2


def test_reingest_rewrites_an_article_whose_chunks_are_missing(store) -> None:
    a = _article()
    _write(store, a)
    (record,) = store.articles()
    lost = sorted(c.id for c in store.iter_chunks())[0]
    store.chunks.delete(ids=[lost])
    assert store.collect_garbage() == 0
    assert store.incomplete_articles() == {"harbour"}
    chunks = chunk_article(a, size=120, max_size=200)
    assert not store.is_unchanged(a, chunks, store.revisions())
    assert _write(store, a) is True  # the catalog says "stored", the chunks say otherwise
    assert len(store.committed_chunks("harbour", record.rev)) == record.chunks
    assert store.incomplete_articles() == set()
    assert _write(store, a) is False


def test_remove_article(store) -> None:
    _write(store, _article())
    _write(store, _article(id="other", text=TEXT.replace("harbour", "marina"), title="Marina"))
    assert store.remove_article("harbour") is True
    assert store.remove_article("harbour") is False
    assert [r.id for r in store.articles()] == ["other"]
    assert all(c.article_id == "other" for c in store.iter_chunks())


def test_list_metadata(store) -> None:
    _write(store, _article(source="Coast News", lang="en", url="https://example.org/h"))
    (r,) = store.articles()
    d = r.as_dict()
    assert d["title"] == "Harbour reopens after storm"
    assert d["date"] == "2024-05-02"
    assert d["source"] == "Coast News"
    assert d["lang"] == "en"
    assert d["chunks"] >= 2


def test_query_returns_cosine_similarity(store, fake_embeddings) -> None:
    _write(store, _article())
    hits = store.query(fake_embeddings.embed_query("lighthouse repairs"), 2)
    assert hits and "lighthouse" in hits[0][0].text
    assert -1.0 <= hits[0][1] <= 1.0 + 1e-6


def test_query_scope_narrows_what_comes_back(store, fake_embeddings) -> None:
    """Each field of a ChunkScope narrows a real Chroma query; the store alone writes the syntax."""
    _write(store, _article(lang="en"))
    _write(store, _article(id="quay", title="Quay repaired", date="2023-01-10", source="Port Daily", lang="en"))
    _write(store, _article(id="marsa", text="أعيد فتح الميناء بعد العاصفة. أصلح العمال المنارة.", title="الميناء", lang="ar"))
    vector = fake_embeddings.embed_query("lighthouse repairs")

    def articles(scope: ChunkScope | None) -> set[str]:
        return {c.article_id for c, _ in store.query(vector, 50, scope)}

    assert articles(None) == {"harbour", "quay", "marsa"}
    assert articles(ChunkScope()) == {"harbour", "quay", "marsa"} and ChunkScope().where() is None
    assert articles(ChunkScope(article_id="quay")) == {"quay"}
    assert articles(ChunkScope(articles=("harbour", "marsa"))) == {"harbour", "marsa"}
    assert articles(ChunkScope(exclude_articles=("harbour",))) == {"quay", "marsa"}
    assert articles(ChunkScope(source="Port Daily")) == {"quay"}
    assert articles(ChunkScope(lang="ar")) == {"marsa"}
    assert articles(ChunkScope(date_from=date_ordinal("2024-01-01"))) == {"harbour", "marsa"}
    assert articles(ChunkScope(date_to=date_ordinal("2023-12-31", end=True))) == {"quay"}
    assert articles(ChunkScope(articles=("harbour", "quay"), lang="en", exclude_articles=("quay",))) == {"harbour"}


def test_store_persists_across_clients(tmp_path: Path, fake_embeddings) -> None:
    db = tmp_path / "db"
    s1 = open_store(collection="corpus1", embeddings=fake_embeddings, embedder_id="fake", db=db)
    _write(s1, _article())
    s2 = open_store(collection="corpus1", embeddings=fake_embeddings, embedder_id="fake", db=db)
    assert [r.id for r in s2.articles()] == ["harbour"]
    assert s2.is_unchanged(_article(), chunk_article(_article(), size=120, max_size=200))


def test_collections_are_separate_corpora(tmp_path: Path, fake_embeddings) -> None:
    db = tmp_path / "db"
    a = open_store(collection="alpha", embeddings=fake_embeddings, embedder_id="fake", db=db)
    b = open_store(collection="beta", embeddings=fake_embeddings, embedder_id="fake", db=db)
    _write(a, _article())
    assert b.articles() == []


def test_refuses_mixing_embedders(tmp_path: Path, fake_embeddings) -> None:
    db = tmp_path / "db"
    s1 = open_store(collection="corpus1", embeddings=fake_embeddings, embedder_id="fake", db=db)
    _write(s1, _article())
    with pytest.raises(StoreError, match="was built with embedder"):
        open_store(collection="corpus1", embeddings=fake_embeddings, embedder_id="other-model", db=db)


def test_bad_store_locations(tmp_path: Path, fake_embeddings) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        open_store(collection="corpus1", embeddings=fake_embeddings, db=f)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a newsbot store"):
        open_store(collection="corpus1", embeddings=fake_embeddings, db=foreign)
    with pytest.raises(StoreError, match="invalid collection name"):
        open_store(collection="a", embeddings=fake_embeddings, db=tmp_path / "ok")


def test_index_out_of_step_is_explained(tmp_path: Path) -> None:
    """Chroma's "Error finding id" (its index and database disagree: another process wrote to the
    local folder, or the index files are damaged) becomes a line that says what to do."""
    from ingest.store.failures import diagnose as _diagnose

    message, store_failed = _diagnose(RuntimeError("Error finding id"), db=tmp_path)
    assert store_failed
    assert str(tmp_path) in message and "one process at a time" in message and "Chroma server" in message
