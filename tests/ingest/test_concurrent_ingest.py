"""Ingest while questions are being answered: every answer sees each article whole, old or new.

A writer keeps replacing articles with another version (same id, new revision), adds articles and
removes them, while reader threads ask questions through the real chain. Every passage an answer
retrieved must be a whole chunk of a committed version of its article, all passages and quotes of
one article in one answer must come from the same version, and every quote must be exactly the
text at its offsets in that version.

Locally the writer is a thread of the bot's process (Chroma's local store is single-process); with
a Chroma server it is another process running ``newsbot ingest`` / ``newsbot remove``, as in a
deployment.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from chroma_server import chroma_executable, chroma_server
from helpers import ROOT
from synthetic import question, write_corpus

from ingest.chunking import chunk_article
from ingest.loaders.files import load_file
from ingest.store.schema import article_revision

N = 8  # articles that get rewritten
EXTRA = 100  # ids of articles that come and go
READERS = 3


@dataclass
class Version:
    text: str
    chunks: set[str]


def known_versions(folder: Path, chunking, versions=(1, 2)) -> dict[str, dict[str, Version]]:
    """article id → {revision prefix in chunk ids → Version} for every version the writer writes."""
    out: dict[str, dict[str, Version]] = {}
    for v in versions:
        vdir = folder.parent / f"{folder.name}-v{v}"
        write_corpus(vdir, N, version=v)
        write_corpus(vdir, 3, version=v, start=EXTRA)
        for path in sorted(vdir.iterdir()):
            (article,) = load_file(path, max_bytes=10**7)
            chunks = chunk_article(article, size=chunking.size, max_size=chunking.max_size, overlap=chunking.overlap)
            rev = article_revision(article, chunks, "fake")
            out.setdefault(article.id, {})[rev[:8]] = Version(article.text, {c.text for c in chunks})
    return out


def check_answer(result: dict, known: dict[str, dict[str, Version]]) -> list[str]:
    problems = []
    seen: dict[str, set[str]] = {}
    for p in result.retrieved:
        aid, rev8 = p.chunk_id.split(":")[:2]
        version = known.get(aid, {}).get(rev8)
        if version is None:
            problems.append(f"passage {p.chunk_id} of no written version")
        elif p.text not in version.chunks:
            problems.append(f"passage {p.chunk_id} is not a whole chunk of its version")
        seen.setdefault(aid, set()).add(rev8)
    for c in result.citations:
        aid, rev8 = c.chunk_id.split(":")[:2]
        seen.setdefault(aid, set()).add(rev8)
        version = known.get(aid, {}).get(rev8)
        if version is None or version.text[c.quote_start : c.quote_end] != c.quote:
            problems.append(f"quote [{c.n}] does not match its version's text at its offsets")
    for aid, revs in seen.items():
        if len(revs) > 1:
            problems.append(f"article {aid} mixed from revisions {sorted(revs)} in one answer")
    return problems


def ask_until(stop: threading.Event, chain, known, results: list, problems: list, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        i = rng.randrange(N)
        try:
            result = chain.invoke({"question": question(i), "k": 5})
        except Exception as exc:
            problems.append(f"question {i}: {type(exc).__name__}: {exc}")
            continue
        results.append(result)
        problems.extend(check_answer(result, known))


def run_readers(chain, known, writer) -> tuple[list, list]:
    results: list = []
    problems: list = []
    stop = threading.Event()
    readers = [
        threading.Thread(target=ask_until, args=(stop, chain, known, results, problems, s), daemon=True) for s in range(READERS)
    ]
    for t in readers:
        t.start()
    try:
        writer()
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=120)
    assert not any(t.is_alive() for t in readers), "a reader hung"
    return results, problems


def test_answers_stay_whole_while_ingesting_locally(tmp_path: Path) -> None:
    from bot.settings import Settings
    from bot.wiring import App

    folder = tmp_path / "live"
    write_corpus(folder, N)
    app = App(Settings(db=tmp_path / "db", collection="live", embedding="fake", model_dir=tmp_path / "models"))
    known = known_versions(folder, app.ingestor.chunking)
    assert app.ingestor.ingest_paths([folder]).ingested == N
    chain = app.chain
    changes = {"written": 0, "removed": 0}

    def writer() -> None:
        rng = random.Random(1)
        version = {i: 1 for i in range(N)}
        for step in range(30):
            i = rng.randrange(N)
            version[i] = 3 - version[i]
            write_corpus(folder, 1, version=version[i], start=i)
            report = app.ingestor.ingest_paths([folder / f"art-{i:04d}.txt"])
            assert report.failed == 0, report.failures
            changes["written"] += report.ingested
            extra = EXTRA + step % 3
            if step % 4 == 0:
                write_corpus(folder, 1, version=1 + step % 2, start=extra)
                app.ingestor.ingest_paths([folder / f"art-{extra:04d}.txt"])
            elif step % 4 == 2:
                for r in app.store.articles():
                    if r.url and r.url.endswith(f"/{extra}") and app.store.remove_article(r.id):
                        changes["removed"] += 1
                (folder / f"art-{extra:04d}.txt").unlink(missing_ok=True)
            time.sleep(0.02)

    results, problems = run_readers(chain, known, writer)
    assert not problems, f"{len(problems)} problems, e.g. {problems[:5]}"
    assert changes["written"] >= 20
    assert len(results) >= 20, f"only {len(results)} answers while ingesting"
    assert sum(not r.abstained for r in results) >= len(results) // 2
    # And afterwards the bot's BM25 is exactly the store's committed chunks.
    chain.retriever.sync()
    ids = {c.id for c in app.store.iter_chunks()}
    assert len(chain.retriever.bm25) == len(ids) and all(cid in chain.retriever.bm25 for cid in ids)


@pytest.mark.slow
@pytest.mark.skipif(chroma_executable() is None, reason="the chromadb package's `chroma` executable is missing")
def test_answers_stay_whole_while_another_process_ingests(tmp_path: Path) -> None:
    from bot.settings import Settings
    from bot.wiring import App

    folder = tmp_path / "live"
    write_corpus(folder, N)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    with chroma_server(tmp_path / "chroma") as server:
        env.update(
            {
                "NEWSBOT_CHROMA_URL": server.url,
                "NEWSBOT_COLLECTION": "live",
                "NEWSBOT_EMBEDDING": "fake",
                "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
                "PYTHONPATH": str(ROOT),
            }
        )

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
            )

        assert cli("ingest", str(folder)).returncode == 0
        app = App(Settings(chroma_url=server.url, collection="live", embedding="fake", model_dir=tmp_path / "models"))
        known = known_versions(folder, app.ingestor.chunking)
        chain = app.chain

        def writer() -> None:
            rng = random.Random(2)
            version = {i: 1 for i in range(N)}
            for step in range(8):  # each CLI run rewrites three articles and adds or removes one
                for i in rng.sample(range(N), 3):
                    version[i] = 3 - version[i]
                    write_corpus(folder, 1, version=version[i], start=i)
                extra = EXTRA + step % 3
                write_corpus(folder, 1, version=1, start=extra)
                proc = cli("ingest", str(folder))
                assert proc.returncode == 0, proc.stderr
                if step % 2:
                    victim = [r.id for r in app.store.articles() if r.url and r.url.endswith(f"/{extra}")]
                    (folder / f"art-{extra:04d}.txt").unlink()
                    assert cli("remove", victim[0]).returncode == 0

        results, problems = run_readers(chain, known, writer)
        assert not problems, f"{len(problems)} problems, e.g. {problems[:5]}"
        assert len(results) >= 10
        chain.retriever.sync()
        ids = {c.id for c in app.store.iter_chunks()}
        assert len(chain.retriever.bm25) == len(ids) and all(cid in chain.retriever.bm25 for cid in ids)
