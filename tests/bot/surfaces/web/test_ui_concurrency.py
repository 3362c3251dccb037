"""Ten simultaneous chats through the app's API (gradio_client), served on 127.0.0.1 only.

The Gradio app runs in-process over a temp store holding the seed article (real embedder), with its
queue limited to ``settings.concurrency`` answers at a time; each chat is its own client (session).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from helpers import SEED, free_port

from bot.surfaces.web import render as fmt

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SEED.is_file(), reason="../shared (test data) is not beside the repo"),
]

QUESTIONS = [
    "Who did Yevkurov meet in Benghazi?",
    "من التقى يفكيروف في بنغازي؟",
    "Where did Yevkurov travel after leaving Benghazi?",
    "إلى أين توجه يفكيروف بعد بنغازي؟",
    "Who is the deputy head of the UN mission in Libya?",
]
CHATS = 10
TIME_LIMIT = 180  # seconds for all ten answers on a 2-core machine


class CountingChain:
    """Wraps the real chain and records how many answers run at the same time."""

    def __init__(self, chain) -> None:
        self.chain = chain
        self.answerer = chain.answerer
        self.answerers = chain.answerers
        self.active = 0
        self.peak = 0
        self.calls = 0
        self.lock = threading.Lock()

    def stream(self, request):
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        try:
            yield from self.chain.stream(request)
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture(scope="module")
def served(tmp_path_factory, model_dir):
    from bot.settings import Settings
    from bot.surfaces.web.app import build_ui, launch_options
    from bot.wiring import App

    tmp = tmp_path_factory.mktemp("concurrency")
    app = App(Settings(db=tmp / "db", collection="concurrency", embedding="e5", model_dir=model_dir, concurrency=4))
    report = app.ingestor.ingest_paths([SEED])
    assert report.ingested == 1, report.failures
    counting = CountingChain(app.chain)
    app.__dict__["chain"] = counting  # App.chain is a cached property: the UI gets the wrapper
    demo = build_ui(app)
    port = free_port()
    options = launch_options(app)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **options)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "chain": counting, "app": app}
    finally:
        demo.close()


def test_server_binds_loopback_only(served):
    assert served["url"].startswith("http://127.0.0.1:")


def test_ten_simultaneous_chats_all_get_answers(served):
    from gradio_client import Client

    clients = [Client(served["url"], verbose=False) for _ in range(CHATS)]  # one session each

    def chat(i: int):
        question = QUESTIONS[i % len(QUESTIONS)]
        job = clients[i].submit(question, 5, "extractive", api_name="/chat")
        return question, job.result(timeout=TIME_LIMIT)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=CHATS) as pool:
        futures = [pool.submit(chat, i) for i in range(CHATS)]
        done, pending = wait(futures, timeout=TIME_LIMIT)
    elapsed = time.monotonic() - start
    assert not pending, f"{len(pending)} of {CHATS} chats got no answer within {TIME_LIMIT}s"

    cited = 0
    for future in futures:
        question, outputs = future.result()
        chat_messages, sources, _debug, textbox = outputs
        assert textbox == ""
        assert len(chat_messages) == 2, chat_messages  # each session sees only its own turn
        assert fmt.esc(question) in str(chat_messages[0]["content"])
        answer = str(chat_messages[1]["content"])
        assert "nb-answer" in answer, answer  # an answer (or an abstention), not an error
        if "nb-cite" in answer:  # an answer with citations has them in the sources panel
            assert "<mark" in sources
            cited += 1

    chain = served["chain"]
    assert chain.calls == CHATS
    assert chain.peak <= served["app"].settings.concurrency
    print(f"{CHATS} chats answered in {elapsed:.1f}s ({cited} with citations); at most {chain.peak} at once")


def test_login_is_required_when_newsbot_auth_is_set(tmp_path):
    import urllib.request

    from gradio_client import Client

    from bot.settings import Settings
    from bot.surfaces.web.app import build_ui, launch_options
    from bot.wiring import App

    app = App(Settings(db=tmp_path / "db", collection="auth", embedding="fake", model_dir=tmp_path, auth="ann:pw"))
    demo = build_ui(app)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(app))
    url = f"http://127.0.0.1:{port}/"
    try:
        with urllib.request.urlopen(url + "config", timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    try:
        assert status in (401, 403)
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a bare Exception here
            Client(url, verbose=False)
        client = Client(url, auth=("ann", "pw"), verbose=False)
        chat_messages, *_ = client.predict("Who?", 5, "extractive", api_name="/chat")
        assert "Corpus tab" in str(chat_messages[-1]["content"])  # empty store: how to add articles
    finally:
        demo.close()


def test_remove_api_takes_an_article_id(served, tmp_path):
    """The published /remove endpoint: an unknown id is answered, not refused by the dropdown's
    (browser-only) choices; a real id removes that article, which is then put back."""
    from gradio_client import Client

    app = served["app"]
    (record,) = app.store.articles()
    client = Client(served["url"], verbose=False)
    report, *_ = client.predict("no-such-article", api_name="/remove")
    assert "no article with id no-such-article" in report
    report, *_ = client.predict(record.id, api_name="/remove")
    assert f"removed {record.id}" in report
    assert app.store.articles() == []
    assert app.ingestor.ingest_paths([SEED]).ingested == 1
