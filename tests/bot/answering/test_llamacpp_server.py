"""The ``openai`` answerer against a REAL llama.cpp server (not a stub).

No model can be downloaded here, so the module builds a tiny random-weight llama GGUF
(tests/tiny_gguf.py, with the ``gguf`` package) and serves it with llama.cpp's own HTTP server
from the ``xllamacpp`` wheel, in a subprocess on 127.0.0.1 (a free port, ChatML template). The
model writes nonsense, so the tests check only what holds for any model output: the stream's
event contract, the result's contract, that the token budget reaches the server, and that
failures (a wrong route, the overall deadline) are newsbot's one-line ``LLMError``.

llama.cpp serves one model and ignores the request's model name, so a wrong *route* (not a wrong
model name) is the "misconfigured endpoint" case here; it also serves ``/chat/completions``
without the ``/v1`` prefix, so the wrong route is a made-up path prefix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, free_port

pytest.importorskip("gguf", reason="the gguf package (builds the tiny test model) is not installed")
pytest.importorskip("xllamacpp", reason="the xllamacpp package (llama.cpp's server) is not installed")

from articles import PORT_LUMEN, ZAHRAA
from test_openai_stub import clean_env  # noqa: F401  (autouse: no NEWSBOT_* from outside)
from tiny_gguf import MAX_TOKEN_CHARS, WORDS, write_tiny_llama

from bot.answering.contract import AnswerResult
from bot.answering.llm import LLMError
from bot.settings import Settings
from bot.wiring import App

pytestmark = pytest.mark.slow

TINY_GGUF = ROOT / "tests" / "tiny_gguf.py"

QUESTION = "How much drinking water does the Port Lumen plant produce per day?"


# --------------------------------------------------------------------------- the server


class LlamaServer:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_bytes()[-n:].decode("utf-8", "replace")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200 and json.load(response).get("status") == "ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    yield from _serve(tmp_path_factory, sentinel=False)


@pytest.fixture(scope="module")
def llama_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A model that only ever writes newsbot's "cannot answer" sentinel."""
    yield from _serve(tmp_path_factory, sentinel=True)


def _serve(tmp_path_factory: pytest.TempPathFactory, *, sentinel: bool) -> Iterator[LlamaServer]:
    base = tmp_path_factory.mktemp("llamacpp")
    model = write_tiny_llama(base / "tiny-llama.gguf", sentinel=sentinel)
    port = free_port()
    log = base / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(TINY_GGUF), "serve", str(model), str(port)],
            cwd=base,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")},
        )
    server = LlamaServer(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if process.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server not healthy within 60 s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def make_app(tmp_path: Path, base_url: str, **extra: Any) -> App:
    options: dict[str, Any] = {"llm_model": "tiny-random-llama", "llm_timeout": 30} | extra
    settings = Settings(
        db=tmp_path / "db", embedding="fake", model_dir=tmp_path / "models", llm_base_url=base_url, llm_api_key="x", **options
    )
    assert settings.effective_answerer() == "openai"
    app = App(settings)
    folder = tmp_path / "articles"
    folder.mkdir(parents=True)
    (folder / "port.md").write_text(PORT_LUMEN, encoding="utf-8")
    (folder / "zahraa.md").write_text(ZAHRAA, encoding="utf-8")
    report = app.ingestor.ingest_paths([folder])
    assert report.ingested == 2 and report.failed == 0, report.summary()
    return app


def answer_text(events: list[dict[str, Any]]) -> str:
    return "".join(e.text for e in events if e.event == "delta")


def assert_result_contract(result: dict[str, Any], app: App) -> None:
    assert isinstance(result.answer, str)
    assert isinstance(result.citations, list)
    assert result.confidence in ("high", "low", "none")
    assert isinstance(result.abstained, bool)
    assert result.abstained == (result.confidence == "none")
    if result.abstained:
        assert result.citations == []
    for c in result.citations:  # whatever survived the checks quotes the article exactly
        assert app.store.article_text(c.article_id)[c.quote_start : c.quote_end] == c.quote


def assert_one_line(err: pytest.ExceptionInfo[LLMError], base_url: str) -> str:
    message = str(err.value)
    assert base_url in message and "\n" not in message, message
    return message


# --------------------------------------------------------------------------- tests


def test_streamed_answer_from_real_server(tmp_path: Path, llama: LlamaServer) -> None:
    app = make_app(tmp_path, llama.base_url)
    events = list(app.chain.stream({"question": QUESTION}))

    kinds = [e.event for e in events]
    assert kinds[0] == "retrieved" and events[0].retrieved
    assert kinds[-1] == "result" and kinds.count("result") == 1
    assert set(kinds[1:-1]) == {"delta"}, kinds
    text = answer_text(events)
    # The tiny model (greedy) only ever writes its plain words: the deltas are its output.
    pieces = {w.replace("▁", " ") for w in WORDS}
    rest = text
    while rest:
        piece = next((p for p in pieces if rest.startswith(p)), None)
        assert piece is not None, f"not the model's words: {rest[:40]!r} in {text[:200]!r}"
        rest = rest[len(piece) :]
    result = events[-1].result
    assert result.answerer == "openai"
    assert_result_contract(result, app)
    print(f"tiny model wrote {text[:80]!r}; confidence {result.confidence}")
    # Random words never pass the citation checks as a confident answer.
    assert result.confidence != "high", result


def test_max_tokens_is_honoured(tmp_path: Path, llama: LlamaServer) -> None:
    """newsbot sends ``max_completion_tokens``; llama.cpp stops there (the tiny model never writes
    </s>, and the server's own cap is 256 tokens, so without it the answer would be far longer)."""
    app = make_app(tmp_path, llama.base_url, llm_max_tokens=16)
    short = answer_text(list(app.chain.stream({"question": QUESTION})))
    assert 16 <= len(short) <= 16 * MAX_TOKEN_CHARS, short

    app = make_app(tmp_path / "longer", llama.base_url, llm_max_tokens=48)
    longer = answer_text(list(app.chain.stream({"question": QUESTION})))
    assert len(short) < len(longer) <= 48 * MAX_TOKEN_CHARS, longer


def test_wrong_route_is_one_line_llm_error(tmp_path: Path, llama: LlamaServer) -> None:
    base_url = f"http://127.0.0.1:{llama.port}/no-such-prefix/v1"
    app = make_app(tmp_path, base_url)
    with pytest.raises(LLMError) as err:
        list(app.chain.stream({"question": QUESTION}))
    message = assert_one_line(err, base_url)
    assert "404" in message, message


def test_deadline_is_one_line_llm_error(tmp_path: Path, llama: LlamaServer) -> None:
    """A 50 ms budget for the whole answer: the real server needs longer (a ~2k-token prompt,
    then up to 600 streamed tokens), so the answer is abandoned, either while waiting for the
    first reply (a read timeout) or at the deadline between streamed pieces."""
    app = make_app(tmp_path, llama.base_url, llm_timeout=0.05)
    start = time.monotonic()
    with pytest.raises(LLMError) as err:
        list(app.chain.stream({"question": QUESTION}))
    assert time.monotonic() - start < 5
    message = assert_one_line(err, llama.base_url)
    assert "NEWSBOT_LLM_TIMEOUT" in message, message
    # The server is still fine afterwards (the abandoned generation does not wedge its one slot).
    app2 = make_app(tmp_path / "after", llama.base_url, llm_max_tokens=16)
    assert_result_contract(list(app2.chain.stream({"question": QUESTION}))[-1].result, app2)


def test_cli_ingest_and_ask_against_the_real_server(tmp_path: Path, llama: LlamaServer) -> None:
    """`newsbot ingest` then `newsbot ask --json` with the endpoint in the environment, as a user
    runs them: one JSON object that keeps the answer contract."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "port.md").write_text(PORT_LUMEN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        {
            "NEWSBOT_DB": str(tmp_path / "db"),
            "NEWSBOT_EMBEDDING": "fake",
            "NEWSBOT_MODEL_DIR": str(tmp_path / "models"),
            "NEWSBOT_LLM_BASE_URL": llama.base_url,
            "NEWSBOT_LLM_MODEL": "tiny",
            "NEWSBOT_LLM_API_KEY": "x",
            "NEWSBOT_LLM_MAX_TOKENS": "24",
            "PYTHONPATH": str(ROOT),
        }
    )

    def newsbot(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    assert newsbot("ingest", str(folder)).returncode == 0
    proc = newsbot("ask", "--json", QUESTION)
    assert proc.returncode == 0, proc.stderr
    result = AnswerResult.model_validate_json(proc.stdout)
    assert result.answerer == "openai"
    assert result.confidence != "high"  # random words never pass the checks as confident
    assert "Traceback" not in proc.stderr


def test_web_chat_handler_against_the_real_server(tmp_path: Path, llama: LlamaServer) -> None:
    """The chat's answer handler (what `newsbot serve` runs per question) streams the real
    server's words into the chat and ends with the answer (or an abstention), never an error."""
    from bot.surfaces.web.handlers import Handlers

    app = make_app(tmp_path, llama.base_url, llm_max_tokens=16)
    # What the chat showed at each step (the handler updates one message list in place).
    shown = [step[0][-1]["content"] for step in Handlers(app).respond(QUESTION, 5, "openai", [], [])]
    assert any("nb-streaming" in x and "city" in x for x in shown), shown[:3]
    assert "nb-answer" in shown[-1] and "nb-error" not in shown[-1], shown[-1]


def test_served_chat_against_the_real_server(tmp_path: Path, llama: LlamaServer) -> None:
    """The web app as `newsbot serve` launches it, asked through its /chat API with the openai
    answerer: the real server's answer comes back as a chat message, not an error."""
    from gradio_client import Client

    from bot.surfaces.web.app import build_ui, launch_options

    app = make_app(tmp_path, llama.base_url, llm_max_tokens=16)
    demo = build_ui(app)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(app))
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        chat_messages, *_ = client.predict(QUESTION, 5, "openai", api_name="/chat")
    finally:
        demo.close()
    answer = str(chat_messages[-1]["content"])
    assert "nb-answer" in answer and "nb-error" not in answer, answer


def test_sentinel_from_the_real_server_is_an_abstention(tmp_path: Path, llama_sentinel: LlamaServer) -> None:
    """The model answers with the "cannot answer" sentinel: newsbot says the articles don't say,
    in the question's language, with no citation (the sentinel never reaches the user)."""
    from prompts.templates import ABSTAIN_MESSAGES, CANNOT_ANSWER

    app = make_app(tmp_path, llama_sentinel.base_url, llm_max_tokens=16)
    events = list(app.chain.stream({"question": QUESTION}))
    assert CANNOT_ANSWER in answer_text(events)  # what the server wrote
    result = events[-1].result
    assert result.abstained is True and result.confidence == "none" and result.citations == []
    assert result.answer == ABSTAIN_MESSAGES["en"]
    result = app.chain.invoke({"question": "كم كتابا تضم مكتبة الزهراء؟"})
    assert result.abstained is True and result.answer == ABSTAIN_MESSAGES["ar"]
