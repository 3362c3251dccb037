# Over 400 lines: the fault cases share the subprocess helpers and the child script that kills an ingest at exact points.
"""Faults: an ingest killed with SIGKILL, damaged/foreign/read-only stores, a full disk.

Every case runs the real CLI in a subprocess (``python -m bot``) with the fake embedder and checks
what a user sees (exit code, one ``error:`` line, no traceback) and that nothing else was damaged.
The read-only and full-disk cases need a mount (a read-only bind mount / a tiny tmpfs) when run as
root, since root ignores file permissions; without that they are skipped with the reason.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import ROOT
from synthetic import question, town, write_corpus

pytestmark = pytest.mark.slow  # subprocesses, 200-article corpora, mounts: a few minutes in all


CLI_TIMEOUT = 120


# --------------------------------------------------------------------------- helpers


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update({"NEWSBOT_EMBEDDING": "fake", "NEWSBOT_MODEL_DIR": str(tmp_path / "models"), "PYTHONPATH": str(ROOT)})
    return env


def newsbot(tmp_path: Path, *args: str, db: Path | None = None, timeout: float = CLI_TIMEOUT):
    """Run the CLI; returns the CompletedProcess (text)."""
    argv = [sys.executable, "-m", "bot"]
    if db is not None:
        argv += ["--db", str(db)]
    return subprocess.run(argv + list(args), cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=timeout)


def assert_clean_error(proc, *needles: str) -> str:
    """Exit 1, no traceback, and one ``error:`` line on stderr that contains every needle."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def open_local(db: Path):
    """The store at ``db``, read fresh (Chroma caches one client per folder and process; other
    processes wrote to it)."""
    from chromadb.api.client import SharedSystemClient

    from ingest.embeddings.factory import make_embeddings
    from ingest.store.articles import open_store

    SharedSystemClient.clear_system_cache()
    return open_store(collection="news", embeddings=make_embeddings("fake", model_dir=db.parent), embedder_id="fake", db=db)


def check_consistent(store, expected: dict[str, str]) -> None:
    """Each expected article (id → text) stored once, with exactly its committed chunks; BM25 agrees.

    What the killed run left uncommitted is young, so the re-run's garbage collection kept it (it
    could be another writer's, not yet committed): collected here as it will be an hour later."""
    from bot.retrieval.hybrid import HybridRetriever

    store.collect_garbage(grace_seconds=0)
    assert not store.incomplete_articles()
    records = store.articles()
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(expected), set(ids) ^ set(expected)
    texts = store.article_texts(ids)
    assert all(texts[a] == expected[a] for a in ids)
    committed = {r.id: r.rev for r in records}
    chunks = list(store.iter_chunks())
    orphans = [c.id for c in chunks if committed.get(c.article_id) != c.rev]
    assert not orphans, f"{len(orphans)} orphan chunks, e.g. {orphans[:3]}"
    per_article: dict[str, int] = {}
    for c in chunks:
        per_article[c.article_id] = per_article.get(c.article_id, 0) + 1
        assert texts[c.article_id][c.start : c.end] == c.text
    assert per_article == {r.id: r.chunks for r in records}
    retriever = HybridRetriever(store, store.embeddings)
    retriever.sync()
    assert len(retriever.bm25) == len(chunks)
    assert all(c.id in retriever.bm25 for c in chunks)


def expected_articles(folder: Path) -> dict[str, str]:
    """article id → text, as the loaders see the files of ``folder``."""
    from ingest.loaders.files import discover_files, load_file

    files, _ = discover_files([folder])
    out = {}
    for f in files:
        for a in load_file(f, max_bytes=10**8):
            out[a.id] = a.text
    return out


def digest_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- kill -9 mid-ingest

# A child that ingests ``folder`` and SIGKILLs itself at an exact point of the N-th article write,
# or (point "external") prints a line per finished file so the parent can kill it from outside.
_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ingest.store import articles as st
    from ingest.embeddings.factory import make_embeddings
    from ingest.pipeline import FileDone, Ingestor

    db, folder, point, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    calls = {"n": 0}

    def killer(orig):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return orig(*args, **kwargs)
        return wrapped

    if point == "after_chunks":  # chunks written, catalog (the commit point) not yet
        st.ArticleStore._article_metadata = staticmethod(killer(st.ArticleStore._article_metadata))
    elif point == "after_commit":  # committed, old revisions' chunks not yet deleted (per batch)
        st.ArticleStore._delete_other_revisions_many = killer(st.ArticleStore._delete_other_revisions_many)

    emb = make_embeddings("fake", model_dir=db.parent)
    store = st.open_store(collection="news", embeddings=emb, embedder_id="fake", db=db)
    def progress(event):
        if isinstance(event, FileDone):
            print("done", event.path, flush=True)
    Ingestor(store, embed_batch=8).ingest_paths([folder], progress=progress)
    print("finished", flush=True)
    """
)


def _run_child(tmp_path: Path, db: Path, folder: Path, point: str, kill_at: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db), str(folder), point, str(kill_at)],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_from_outside(proc: subprocess.Popen, after_files: int) -> None:
    seen = 0
    deadline = time.monotonic() + CLI_TIMEOUT
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("done"):
            seen += 1
        if seen >= after_files or time.monotonic() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("point", ["after_chunks", "after_commit", "external"])
def test_ingest_killed_halfway_then_run_again(tmp_path: Path, point: str) -> None:
    folder = tmp_path / "articles"
    db = tmp_path / "db"
    write_corpus(folder, 200)
    if point == "after_commit":
        # A first full run, then every article changes: the kill lands between the commit of a
        # new revision and the deletion of the old one.
        assert newsbot(tmp_path, "ingest", "--quiet", str(folder), db=db).returncode == 0
        write_corpus(folder, 200, version=2)

    # Halfway: the 100th article's commit, or the 25th batch (of about 4 articles) of deletions.
    proc = _run_child(tmp_path, db, folder, point, kill_at=25 if point == "after_commit" else 100)
    if point == "external":
        _kill_from_outside(proc, after_files=100)
    else:
        proc.wait(timeout=CLI_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""

    # What the killed run left: committed articles are whole; whatever else is orphans.
    store = open_local(db)
    committed = store.revisions()
    assert 0 < len(committed) <= 200
    if point == "after_commit":  # both revisions of some article are in the store
        assert store.count_chunks() > sum(r.chunks for r in store.articles())
    elif point == "after_chunks":  # chunks of an uncommitted revision are
        assert any(committed.get(c.article_id) != c.rev for c in store.iter_chunks())
    del store

    again = newsbot(tmp_path, "ingest", str(folder), db=db)
    assert again.returncode == 0, again.stderr
    assert "failed 0" in again.stdout
    check_consistent(open_local(db), expected_articles(folder))


def test_bm25_of_a_running_bot_follows_the_recovery(tmp_path: Path) -> None:
    """A bot that read the half-ingested store stays in step while the same ingest is re-run."""
    from bot.retrieval.hybrid import HybridRetriever
    from ingest.pipeline import Ingestor

    folder = tmp_path / "articles"
    db = tmp_path / "db"
    write_corpus(folder, 200)
    proc = _run_child(tmp_path, db, folder, "after_chunks", kill_at=100)
    proc.wait(timeout=CLI_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL

    store = open_local(db)
    running = HybridRetriever(store, store.embeddings)
    running.sync()
    before = len(running.bm25)
    assert 0 < before < 400
    report = Ingestor(store).ingest_paths([folder])
    assert report.failed == 0 and report.ingested + report.unchanged == 200
    running.sync()  # incremental: only the articles whose revision changed
    fresh = HybridRetriever(store, store.embeddings)
    fresh.sync()
    assert len(running.bm25) == len(fresh.bm25) == store.count_chunks()
    assert running._revisions == fresh._revisions == store.revisions()
    assert all(c.id in running.bm25 for c in store.iter_chunks())


def test_running_bot_survives_a_cli_ingest_into_its_local_folder(tmp_path: Path) -> None:
    """`newsbot serve` keeps its Chroma index in memory; a CLI ingest into the same folder made
    every later question fail ("Error finding id") until a restart. The store now reopens itself
    and the new articles are found."""
    from bot.retrieval.hybrid import HybridRetriever
    from ingest.pipeline import Ingestor

    db = tmp_path / "db"
    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first, 150)
    write_corpus(second, 150, start=500)
    store = open_local(db)
    assert Ingestor(store).ingest_paths([first]).ingested == 150
    retriever = HybridRetriever(store, store.embeddings)
    assert retriever.retrieve(question(7), 5).passages  # the index is loaded in this process

    proc = newsbot(tmp_path, "ingest", "--quiet", str(second), db=db)
    assert proc.returncode == 0, proc.stderr

    for i in (520, 611, 7):
        passages = retriever.retrieve(question(i), 5).passages
        assert any(town(i) in p.text for p in passages), (i, [p.text[:60] for p in passages])
    assert len(store.articles()) == 300


# --------------------------------------------------------------------------- damaged and foreign stores


@pytest.fixture
def seeded_store(tmp_path: Path) -> Path:
    """A real store holding 3 synthetic articles."""
    folder = tmp_path / "seed"
    write_corpus(folder, 3)
    db = tmp_path / "good"
    proc = newsbot(tmp_path, "ingest", "--quiet", str(folder), db=db)
    assert proc.returncode == 0, proc.stderr
    return db


def _garbage(db: Path) -> None:
    (db / "chroma.sqlite3").write_bytes(os.urandom(64 * 1024))


def _truncated(db: Path) -> None:
    path = db / "chroma.sqlite3"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _scribbled(db: Path) -> None:
    path = db / "chroma.sqlite3"
    data = bytearray(path.read_bytes())
    for i in range(4096, len(data), 4096):  # every page but the header page
        data[i : i + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))


def _foreign_sqlite(db: Path) -> None:
    db.mkdir()
    con = sqlite3.connect(db / "chroma.sqlite3")
    con.execute("CREATE TABLE notes (body TEXT)")
    con.execute("INSERT INTO notes VALUES ('somebody else''s data')")
    con.commit()
    con.close()


def _foreign_files(db: Path) -> None:
    db.mkdir()
    (db / "thesis.txt").write_text("not a store")


def _a_file(db: Path) -> None:
    db.write_text("just a file")


DAMAGES = {
    "random bytes": (_garbage, "damaged"),
    "truncated": (_truncated, "damaged"),
    "scribbled pages": (_scribbled, "damaged"),
    "foreign sqlite": (_foreign_sqlite, "not a Chroma store"),
    "foreign folder": (_foreign_files, "not a newsbot store"),
    "a file": (_a_file, "is a file"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_or_foreign_store_gives_one_clear_line(tmp_path: Path, seeded_store: Path, damage: str) -> None:
    make, needle = DAMAGES[damage]
    if damage in ("random bytes", "truncated", "scribbled pages"):
        db = tmp_path / "broken"
        subprocess.run(["cp", "-a", str(seeded_store), str(db)], check=True)
        make(db)
    else:
        db = tmp_path / "foreign"
        make(db)
    bystander = tmp_path / "bystander.txt"
    bystander.write_text("keep me")
    before = digest_tree(db) if db.is_dir() else {"file": hashlib.sha256(db.read_bytes()).hexdigest()}
    good_before = digest_tree(seeded_store)
    articles = tmp_path / "seed"

    for args in (["list"], ["ask", "What did the council approve?"], ["ingest", str(articles)]):
        proc = newsbot(tmp_path, *args, db=db)
        if proc.returncode == 0 and damage == "scribbled pages" and args[0] != "ingest":
            continue  # SQLite may not touch a damaged page to list; the write below must fail
        assert_clean_error(proc, needle)

    after = digest_tree(db) if db.is_dir() else {"file": hashlib.sha256(db.read_bytes()).hexdigest()}
    assert after == before, "the damaged/foreign store was modified"
    assert digest_tree(seeded_store) == good_before
    assert bystander.read_text() == "keep me"


def test_foreign_collection_of_the_same_name_is_left_alone(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    db = tmp_path / "shared-store"
    client = chromadb.PersistentClient(path=str(db), settings=ChromaSettings(anonymized_telemetry=False))
    theirs = client.get_or_create_collection("news", embedding_function=None, metadata={"owner": "other app"})
    theirs.add(ids=["t1", "t2"], embeddings=[[0.1] * 384, [0.2] * 384], documents=["theirs 1", "theirs 2"])
    del theirs, client

    folder = tmp_path / "articles"
    write_corpus(folder, 2)
    for args in (["ingest", str(folder)], ["list"]):
        assert_clean_error(newsbot(tmp_path, *args, db=db), "not made by newsbot", "NEWSBOT_COLLECTION")
    # Another collection name in the same store works, and their records are untouched.
    ok = newsbot(tmp_path, "--collection", "mynews", "ingest", str(folder), db=db)
    assert ok.returncode == 0, ok.stderr
    client = chromadb.PersistentClient(path=str(db), settings=ChromaSettings(anonymized_telemetry=False))
    assert sorted(client.get_collection("news").get()["documents"]) == ["theirs 1", "theirs 2"]


# --------------------------------------------------------------------------- mounts (read-only, full)


def _mount(*args: str) -> str | None:
    """Run mount/umount; None on success, else why not."""
    if os.geteuid() != 0:
        return "not root"
    try:
        proc = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"{args[0]} failed")


@pytest.fixture
def read_only(tmp_path: Path):
    """Make a folder read-only: chmod for a normal user, a read-only bind mount for root."""
    mounted: list[Path] = []

    def make(folder: Path) -> None:
        if os.geteuid() != 0:
            for p in [folder, *folder.rglob("*")]:
                p.chmod(p.stat().st_mode & ~0o222)
            return
        why = _mount("mount", "--bind", str(folder), str(folder))
        if why:
            pytest.skip(f"root ignores file permissions and a read-only bind mount is not possible here: {why}")
        mounted.append(folder)
        why = _mount("mount", "-o", "remount,bind,ro", str(folder))
        if why:
            pytest.skip(f"cannot remount read-only: {why}")

    yield make
    for folder in mounted:
        _mount("umount", str(folder))
    for p in tmp_path.rglob("*"):
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def test_read_only_store_gives_one_clear_line(tmp_path: Path, seeded_store: Path, read_only) -> None:
    before = digest_tree(seeded_store)
    read_only(seeded_store)
    more = tmp_path / "more"
    write_corpus(more, 2, start=10)
    for args in (["list"], ["ask", "What did the council approve?"], ["ingest", str(more)], ["remove", "x"]):
        assert_clean_error(newsbot(tmp_path, *args, db=seeded_store), "read-only")
    assert digest_tree(seeded_store) == before


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 64 MB tmpfs (a disk that fills up quickly), unmounted at the end."""
    where = tmp_path / "disk"
    where.mkdir()
    why = _mount("mount", "-t", "tmpfs", "-o", "size=64m", "newsbot-test", str(where))
    if why:
        pytest.skip(f"cannot mount a tiny tmpfs to simulate a full disk: {why}")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def _fill(disk: Path, leave: int) -> Path:
    """A ballast file that leaves ``leave`` bytes free on ``disk``."""
    import shutil

    ballast = disk / "ballast"
    size = shutil.disk_usage(disk).free - leave
    with ballast.open("wb") as f:
        f.truncate(0)
        chunk = b"\0" * (1 << 20)
        while size > 0:  # written, not sparse: tmpfs counts written pages
            f.write(chunk[: min(size, len(chunk))])
            size -= len(chunk)
    return ballast


def test_full_disk_refused_before_it_breaks_the_store(tmp_path: Path, tiny_disk: Path) -> None:
    from ingest.store.failures import MIN_FREE_BYTES

    db = tiny_disk / "db"
    first = tmp_path / "first"
    write_corpus(first, 5)
    assert newsbot(tmp_path, "ingest", str(first), db=db).returncode == 0
    ballast = _fill(tiny_disk, leave=MIN_FREE_BYTES // 2)

    more = tmp_path / "more"
    write_corpus(more, 20, start=100)
    proc = newsbot(tmp_path, "ingest", str(more), db=db)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "is full" in proc.stderr and "free some space" in proc.stderr
    assert "stopped early" in proc.stdout
    # Nothing else damaged: the store still answers and lists exactly the first articles.
    listed = newsbot(tmp_path, "list", "--json", db=db)
    assert listed.returncode == 0, listed.stderr
    asked = newsbot(tmp_path, "ask", "--json", f"What did the council of {town(0)} approve?", db=db)
    assert asked.returncode == 0, asked.stderr
    ballast.unlink()
    assert newsbot(tmp_path, "ingest", str(more), db=db).returncode == 0
    check_consistent(open_local(db), expected_articles(first) | expected_articles(more))


# Bypasses the free-space guard so Chroma really hits ENOSPC mid-write.
_NO_GUARD = "import sys, ingest.store.articles as s; s.ArticleStore._ensure_space = lambda *a, **k: None; from bot.surfaces.cli import main; main()"


def test_disk_filling_up_mid_write_stops_cleanly(tmp_path: Path, tiny_disk: Path) -> None:
    db = tiny_disk / "db"
    first = tmp_path / "first"
    write_corpus(first, 5)
    assert newsbot(tmp_path, "ingest", str(first), db=db).returncode == 0
    ballast = _fill(tiny_disk, leave=400 * 1024)

    more = tmp_path / "more"
    write_corpus(more, 200, start=100)
    proc = subprocess.run(
        [sys.executable, "-c", _NO_GUARD, "--db", str(db), "ingest", str(more)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )  # no hang: the run stops at the first failed write
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "is full" in failed[0], proc.stderr
    assert "stopped early" in proc.stdout

    ballast.unlink()
    again = newsbot(tmp_path, "ingest", str(more), db=db)
    assert again.returncode == 0, again.stderr
    check_consistent(open_local(db), expected_articles(first) | expected_articles(more))
