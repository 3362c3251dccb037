"""Twenty questions at once against a real ``newsbot serve`` process (the CLI, on 127.0.0.1).

The store holds synthetic articles ingested with the real default embedder through ``newsbot
ingest``; twenty gradio_client sessions then ask at the same moment. Every one must get an answer
(not an error) that cites the article its question is about, within a bound that allows for the
queue (``NEWSBOT_CONCURRENCY`` answers at a time) on a 2-core machine, and the server must still
answer afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from helpers import ROOT, free_port
from synthetic import question, town, write_corpus

pytestmark = pytest.mark.slow


QUESTIONS = 20
ARTICLES = 20
START_LIMIT = 240  # seconds for `newsbot serve` to load the model and answer its first request
TIME_LIMIT = 240  # seconds for all twenty answers


@pytest.fixture(scope="module")
def newsbot_serve(tmp_path_factory, model_dir):
    from gradio_client import Client

    tmp = tmp_path_factory.mktemp("serve-load")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_DB": str(tmp / "db"),
            "NEWSBOT_COLLECTION": "load",
            "NEWSBOT_MODEL_DIR": str(model_dir),
            "NEWSBOT_CONCURRENCY": "4",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": str(ROOT),
        }
    )
    articles = tmp / "articles"
    write_corpus(articles, ARTICLES)
    ingest = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", "--quiet", str(articles)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ingest.returncode == 0, ingest.stderr

    port = free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_LIMIT
    client = None
    while client is None:
        if proc.poll() is not None:
            pytest.fail(f"newsbot serve exited with {proc.returncode}: {(tmp / 'serve.log').read_text()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"newsbot serve did not come up within {START_LIMIT}s")
        try:
            client = Client(url, verbose=False)
        except Exception:
            time.sleep(0.5)
    try:
        yield {"url": url, "process": proc}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


def test_twenty_simultaneous_questions_all_get_cited_answers(newsbot_serve) -> None:
    from gradio_client import Client

    url = newsbot_serve["url"]
    clients = [Client(url, verbose=False) for _ in range(QUESTIONS)]  # one session each

    def ask(i: int):
        job = clients[i].submit(question(i % ARTICLES), 5, "extractive", api_name="/chat")
        return i, job.result(timeout=TIME_LIMIT)

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=QUESTIONS) as pool:
        futures = [pool.submit(ask, i) for i in range(QUESTIONS)]
        done, pending = wait(futures, timeout=TIME_LIMIT + 30)
    elapsed = time.monotonic() - start
    assert not pending, f"{len(pending)} of {QUESTIONS} questions got no answer within {TIME_LIMIT}s"

    cited_right = 0
    for future in futures:
        i, (chat_messages, sources, _debug, _textbox) = future.result()
        assert len(chat_messages) == 2, chat_messages  # each session sees only its own turn
        answer = str(chat_messages[1]["content"])
        assert "nb-answer" in answer, answer  # an answer, not an error notice
        if town(i % ARTICLES) in sources:
            cited_right += 1
    assert cited_right >= QUESTIONS * 3 // 4, f"only {cited_right}/{QUESTIONS} answers cite their article"
    assert newsbot_serve["process"].poll() is None, "the server died under load"

    # Still answering after the burst.
    chat_messages, *_ = Client(url, verbose=False).predict(question(0), 5, "extractive", api_name="/chat")
    assert "nb-answer" in str(chat_messages[-1]["content"])
    print(f"{QUESTIONS} simultaneous questions answered in {elapsed:.1f}s ({cited_right} citing their article)")
