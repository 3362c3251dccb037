"""newsbot against a real Chroma server (``chroma run`` on 127.0.0.1, a free port, a temp folder).

ingest → ask → re-ingest → change → remove through the CLI with NEWSBOT_CHROMA_URL / --chroma-url,
a bot in one process kept in step with ingests from another, and a clear error when the server
is gone. The fake embedder keeps this fast; what is tested is the store, not the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chroma_server import chroma_executable, chroma_server
from helpers import ROOT
from synthetic import question, town, write_corpus

from bot.answering.contract import AnswerResult

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chroma_executable() is None, reason="the chromadb package's `chroma` executable is missing"),
]


N = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(base / "data") as srv:
        yield srv


def run(tmp_path: Path, *args: str, url: str | None, collection: str, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_EMBEDDING": "fake",
            "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
            "NEWSBOT_COLLECTION": collection,
            "NEWSBOT_DB": str(tmp_path / "local-db-must-not-be-used"),
            "PYTHONPATH": str(ROOT),
        }
    )
    if url:
        env["NEWSBOT_CHROMA_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
    )


def texts_by_id(folder: Path) -> dict[str, str]:
    from ingest.loaders.files import discover_files, load_file

    files, _ = discover_files([folder])
    return {a.id: a.text for f in files for a in load_file(f, max_bytes=10**8)}


def server_store(url: str, collection: str):
    from ingest.embeddings.factory import make_embeddings
    from ingest.store.articles import open_store

    emb = make_embeddings("fake", model_dir=Path("/nonexistent"))
    return open_store(collection=collection, embeddings=emb, embedder_id="fake", chroma_url=url)


def assert_citations_exact(result: AnswerResult, texts: dict[str, str]) -> None:
    assert not result.abstained, result.answer
    assert result.citations
    for c in result.citations:
        article = texts[c.article_id]
        assert article[c.quote_start : c.quote_end] == c.quote


def test_ingest_ask_reingest_change_remove(server, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_corpus(folder, N)
    coll = "roundtrip"

    first = run(tmp_path, "ingest", "--json", str(folder), url=server.url, collection=coll)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["ingested"] == N and report["failed"] == 0
    assert not (tmp_path / "local-db-must-not-be-used").exists()  # everything went to the server

    listed = json.loads(run(tmp_path, "list", "--json", url=server.url, collection=coll).stdout)
    assert len(listed) == N

    q = question(3)
    asked = run(tmp_path, "ask", "--json", q, url=server.url, collection=coll)
    assert asked.returncode == 0, asked.stderr
    result = AnswerResult.model_validate_json(asked.stdout)
    texts = texts_by_id(folder)
    assert_citations_exact(result, texts)
    assert town(3) in result.citations[0].quote or town(3) in result.citations[0].title

    # Idempotent: the same files again change nothing (the --chroma-url option works like the variable).
    store = server_store(server.url, coll)
    chunks_before = store.count_chunks()
    generation = store.generation()
    again = run(tmp_path, "--chroma-url", server.url, "ingest", "--json", str(folder), url=None, collection=coll)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == N
    assert store.count_chunks() == chunks_before and store.generation() == generation

    # A changed article replaces its chunks (same id, new revision), nothing else moves.
    write_corpus(folder, 1, version=2, start=3)
    changed = json.loads(run(tmp_path, "ingest", "--json", str(folder), url=server.url, collection=coll).stdout)
    assert changed["ingested"] == 1 and changed["unchanged"] == N - 1
    texts = texts_by_id(folder)
    revisions = store.revisions()
    assert len(revisions) == N
    for c in store.iter_chunks():
        assert revisions[c.article_id] == c.rev  # no chunk of the old revision left
        assert texts[c.article_id][c.start : c.end] == c.text
    asked = AnswerResult.model_validate_json(run(tmp_path, "ask", "--json", q, url=server.url, collection=coll).stdout)
    assert_citations_exact(asked, texts)

    # Remove: gone from the list, from the chunks, and from answers.
    victim = [a for a, t in texts.items() if town(3) in t][0]
    removed = run(tmp_path, "remove", victim, url=server.url, collection=coll)
    assert removed.returncode == 0 and victim in removed.stdout
    listed = json.loads(run(tmp_path, "list", "--json", url=server.url, collection=coll).stdout)
    assert len(listed) == N - 1 and victim not in {r["id"] for r in listed}
    assert all(c.article_id != victim for c in store.iter_chunks())
    asked = AnswerResult.model_validate_json(run(tmp_path, "ask", "--json", q, url=server.url, collection=coll).stdout)
    assert all(c.article_id != victim for c in asked.citations)
    assert all(p.article_id != victim for p in asked.retrieved)
    missing = run(tmp_path, "remove", victim, url=server.url, collection=coll)
    assert missing.returncode == 1 and "no article" in missing.stderr


def test_bot_keeps_bm25_in_step_with_ingests_from_another_process(server, tmp_path: Path) -> None:
    """The deployment shape: a long-running bot, `newsbot ingest` run elsewhere against the server."""
    from bot.settings import Settings
    from bot.wiring import App

    coll = "instep"
    folder = tmp_path / "articles"
    write_corpus(folder, 5)
    assert run(tmp_path, "ingest", str(folder), url=server.url, collection=coll).returncode == 0

    app = App(Settings(chroma_url=server.url, collection=coll, embedding="fake", model_dir=tmp_path / "models"))
    chain = app.chain
    retriever = chain.retriever
    first = chain.invoke({"question": question(2)})
    assert not first.abstained
    assert len(retriever.bm25) == app.store.count_chunks()

    # Another process adds articles, changes one and removes one.
    write_corpus(folder, 5, start=5)
    write_corpus(folder, 1, version=2, start=1)
    assert run(tmp_path, "ingest", str(folder), url=server.url, collection=coll).returncode == 0
    gone = [r.id for r in app.store.articles() if town(4) in r.title][0]
    assert run(tmp_path, "remove", gone, url=server.url, collection=coll).returncode == 0

    result = chain.invoke({"question": question(7)})  # syncs BM25
    assert any(town(7) in c.quote or town(7) in c.title for c in result.citations), result
    chunk_ids = {c.id for c in app.store.iter_chunks()}
    assert len(retriever.bm25) == len(chunk_ids) and all(cid in retriever.bm25 for cid in chunk_ids)
    assert retriever._revisions == app.store.revisions()
    assert gone not in retriever._revisions


def test_server_gone_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_corpus(folder, 2)
    with chroma_server(tmp_path / "data") as srv:
        url = srv.url
        assert run(tmp_path, "ingest", str(folder), url=url, collection="gone").returncode == 0
    for args in (["list"], ["ask", "What happened?"], ["ingest", str(folder)]):
        proc = run(tmp_path, *args, url=url, collection="gone")
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        (line,) = [x for x in proc.stderr.splitlines() if x.strip()]
        assert line.startswith("error:") and "Chroma server" in line and url in line, line


def test_bad_url_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(tmp_path, "list", url="localhost:8000", collection="x")
    assert proc.returncode == 1 and "invalid Chroma URL" in proc.stderr and "Traceback" not in proc.stderr


def test_server_that_never_answers_times_out_with_one_clear_error(monkeypatch) -> None:
    """A port that accepts connections and then says nothing: the client gives up after its read
    timeout (Chroma's own client waits forever) with a one-line StoreError naming the URL."""
    import socket
    import threading
    import time

    import ingest.store.client as store_module
    from ingest.errors import StoreError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # held open, never answered
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setattr(store_module, "CHROMA_READ_TIMEOUT", 1.0)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    t0 = time.monotonic()
    try:
        with pytest.raises(StoreError) as info:
            store_module.make_client(chroma_url=url)
    finally:
        stop.set()
        for conn in accepted:
            conn.close()
        listener.close()
    assert time.monotonic() - t0 < 30  # two tries at most (Chroma retries once), not forever
    assert accepted, "the client never connected"
    assert url in str(info.value) and "\n" not in str(info.value)


def test_a_web_server_that_is_not_chroma_is_named_as_such(tmp_path: Path) -> None:
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from ingest.errors import StoreError
    from ingest.store.client import make_client

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Quiet(*a, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(StoreError) as info:
            make_client(chroma_url=url)
    finally:
        server.shutdown()
        server.server_close()
    message = str(info.value)
    assert "not a Chroma server" in message and url in message and "is it running" not in message


class DelayingProxy:
    """A TCP proxy on 127.0.0.1 that holds every reply of the server for ``delay`` seconds: a
    client far away (a cron ingest on another machine), between whose chunk write and commit
    another writer has plenty of time."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        import socket
        import threading

        self.delay = delay
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import socket
        import threading

        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, server, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.delay), daemon=True).start()

    def _pump(self, src, dst, delay: float) -> None:
        import time

        try:
            while data := src.recv(65536):
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_two_ingests_on_one_server_cannot_erase_each_other(tmp_path: Path) -> None:
    """One `newsbot ingest` talks to the server through a link that delays each reply by 1.5 s;
    meanwhile another ingest runs again and again directly, each run starting with a garbage
    collection. The slow one's chunks are written before its commit, so a collection that does not
    wait deleted them: articles listed, "ingested", with no chunks. Now every article of both
    runs ends up whole."""
    import threading

    slow_folder, fast_folder = tmp_path / "slow", tmp_path / "fast"
    write_corpus(slow_folder, 6)
    write_corpus(fast_folder, 3, start=100)
    with chroma_server(tmp_path / "data") as srv:
        proxy = DelayingProxy(srv.port, delay=1.5)
        done = threading.Event()
        fast_runs: list[int] = []

        def fast_writer() -> None:
            while not done.is_set():
                fast_runs.append(run(tmp_path, "ingest", str(fast_folder), url=srv.url, collection="race").returncode)

        writer = threading.Thread(target=fast_writer, daemon=True)
        writer.start()
        try:
            slow = run(tmp_path, "ingest", str(slow_folder), url=proxy.url, collection="race", timeout=600)
        finally:
            done.set()
            writer.join(120)
            proxy.close()
        assert slow.returncode == 0, slow.stderr
        assert len(fast_runs) >= 2 and set(fast_runs) == {0}, fast_runs

        store = server_store(srv.url, "race")
        records = store.articles()
        assert len(records) == 9
        for record in records:
            assert len(store.committed_chunks(record.id, record.rev)) == record.chunks > 0, record.id
