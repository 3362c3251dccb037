"""The chat's handlers (bot.surfaces.web.handlers) driven with a fake chain: streaming, links and
history, notices, the upload, and the LLM slots that keep slow LLM answers from holding back
extractive ones."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from bot.answering.contract import AnswerResult, Delta, Result, Retrieved, RetrievedPassage
from bot.answering.extractive import ExtractiveAnswerer
from bot.surfaces.web import chats
from bot.surfaces.web import render as fmt


@pytest.fixture(scope="session")
def answer_result(result):
    """``result(**over)`` as the chain returns it (what the handlers get from a fake chain)."""

    def make(**over) -> AnswerResult:
        r = {"confidence": "high", "timings_ms": {"retrieve": 1.0, "answer": 1.0}, "answerer": "extractive", **result(**over)}
        r["citations"] = [{"lang": None, **c} for c in r["citations"]]
        return AnswerResult.model_validate(r)

    return make


class FakeChain:
    """Streams the events it is given and records the requests; its answerers are what the web app
    asks about (the extractive one, and an LLM one whose model is never called)."""

    answerer = "extractive"

    def __init__(self, events):
        self.events = events
        self.requests = []
        self.answerers = {
            "extractive": ExtractiveAnswerer(),
            "openai": SimpleNamespace(name="openai", chat_model=GenericFakeChatModel(messages=iter(())), streams_tokens=True),
        }

    def stream(self, request):
        self.requests.append(request)
        yield from self.events(request)


def fake_app(events, empty=False):
    store = SimpleNamespace(is_empty=lambda: empty, articles=lambda: [])
    return SimpleNamespace(chain=FakeChain(events), store=store, settings=SimpleNamespace(k=5, concurrency=2))


def test_respond_streams_then_links_and_passes_history(answer_result):
    from bot.surfaces.web.handlers import Handlers

    def events(request):
        passage = RetrievedPassage(
            rank=1, chunk_id="a1:abc:0", article_id="a1", title="t", text="p", score=0.1, dense=None, bm25=None
        )
        yield Retrieved(retrieved=[passage])
        yield Delta(text="The minister met ")
        yield Delta(text="the general. [1]")
        yield Result(result=answer_result(question=request["question"]))

    app = fake_app(events)
    h = Handlers(app)
    steps = []
    shown = []  # what the chat showed at each step (Gradio sends every yield at once)
    for step in h.respond("Who did the minister meet?", 3, "extractive", [], []):
        steps.append(step)
        shown.append(step[0][-1]["content"])
    assert any("nb-streaming" in x and "The minister met the general. [1]" in x for x in shown)
    assert "nb-streaming" not in shown[-1]
    chat, messages, results, sources, debug, box = steps[-1]
    assert box == "" and len(chat) == 2 and chat[0]["role"] == "user"
    assert 'href="#nb-cite-0-1"' in chat[1]["content"]
    assert 'id="nb-cite-0-1"' in sources and "<mark" in sources
    assert "nb-debug" in debug
    assert app.chain.requests[0] == {"question": "Who did the minister meet?", "history": [], "k": 3, "answerer": "extractive"}

    # a follow-up sends the earlier result as history; citations of turn 1 get their own ids
    steps = list(h.respond("And then?", 3, "extractive", messages, results))
    chat, messages, results, sources, _, _ = steps[-1]
    assert app.chain.requests[1]["history"] == results[:1]
    assert 'href="#nb-cite-1-1"' in chat[-1]["content"]
    assert sources.index("nb-turn-1") < sources.index("nb-turn-0")

    # The browser keeps the chat (after each answer), "New chat" files it under the earlier
    # chats, and choosing it there brings it back as it was.
    kept, _ = h.keep(results, None)
    assert [r["question"] for r in kept["current"]["results"]] == [r["question"] for r in results]
    assert "retrieved" not in kept["current"]["results"][0]  # the browser keeps what redraws the chat
    cleared = h.new_chat(results, kept)
    assert cleared[1:3] == ([], []) and cleared[0].value == [] and cleared[6]["current"] is None
    [(label, chat_id)] = chats.choices(cleared[6])
    assert label.startswith("Who did the minister meet?")
    back = h.open_chat(chat_id, [], cleared[6])
    assert back[1] == chat  # the messages, redrawn from the kept results
    assert len(back[0].value) == len(chat) and back[0].feedback_value == [None, None]
    assert back[3] == sources  # the sources panel is drawn again from the kept citations


def test_respond_on_an_empty_store_says_how_to_add_articles():
    from bot.answering.chain import EmptyStoreError
    from bot.surfaces.web.handlers import Handlers

    def events(request):
        raise EmptyStoreError()
        yield  # pragma: no cover

    h = Handlers(fake_app(events, empty=True))
    *_, last = h.respond("من التقى الوزير؟", 5, "extractive", [], [])
    content = last[0][-1]["content"]
    assert fmt.esc(fmt.t("ar", "empty_store")) in content and 'dir="rtl"' in content
    *_, last = h.respond("Who?", 5, "extractive", [], [])
    assert "Corpus tab" in last[0][-1]["content"]


def test_a_notice_is_a_turn_of_the_chat_but_not_history_or_sources(result):
    from bot.answering.chain import EmptyStoreError
    from bot.surfaces.web.handlers import Handlers

    def events(request):
        raise EmptyStoreError()
        yield  # pragma: no cover

    h = Handlers(fake_app(events))
    *_, last = h.respond("Who?", 5, "extractive", [], [result()])
    chat, _, results, *_ = last
    assert fmt.is_notice(results[-1]) and len(results) == 2
    assert fmt.sources_html(results) == fmt.sources_html(results[:1])
    redrawn = fmt.chat_messages(results)
    assert [m["role"] for m in redrawn] == ["user", "assistant", "user", "assistant"]
    assert "Corpus tab" in redrawn[-1]["content"] and "nb-notice" in redrawn[-1]["content"]


def test_upload_reads_only_files_of_the_upload(tmp_path, monkeypatch):
    from bot.surfaces.web.handlers import Handlers
    from ingest.pipeline import FileDone, IngestReport

    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    inside = uploads / "abc" / "story.txt"
    inside.write_text("Title\n\nBody.", encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the web", encoding="utf-8")
    link = uploads / "abc" / "link.txt"
    link.symlink_to(outside)

    seen = []

    def ingest_paths(paths, progress=None):
        seen.extend(paths)
        for p in paths:
            progress(FileDone(str(p), "ok"))
        return IngestReport(ingested=len(paths), chunks=1)

    app = fake_app(lambda r: iter(()))
    app.ingestor = SimpleNamespace(ingest_paths=ingest_paths)
    h = Handlers(app)
    out = h.ingest([str(inside), str(outside), str(link), str(uploads / "abc")], progress=lambda *a, **k: None)
    assert seen == [inside]
    report_html = out[0]
    assert "ingested 1 articles" in report_html
    for name in ("secret.txt", "link.txt", "abc"):
        assert f"<li>{name}: refused: not a file of this upload</li>" in report_html


def test_slow_llm_answers_never_hold_back_extractive_ones(monkeypatch, answer_result):
    """Two LLM answers hang (concurrency 2): a third LLM question is told the LLM is busy after a
    short wait, and an extractive question is answered meanwhile."""
    import threading

    import bot.surfaces.web.handlers
    from bot.surfaces.web.handlers import Handlers

    monkeypatch.setattr(bot.surfaces.web.handlers, "LLM_SLOT_WAIT", 0.2)
    release = threading.Event()

    def events(request):
        yield Retrieved(retrieved=[])
        if request["answerer"] == "openai":
            release.wait(30)  # the LLM at the boundary: stuck until released
        yield Delta(text="The minister met the general. [1]")
        yield Result(result=answer_result(question=request["question"]))

    h = Handlers(fake_app(events))  # concurrency=2
    stuck = [h.respond(f"LLM question {i}?", 3, "openai", [], []) for i in range(2)]
    runners = [threading.Thread(target=lambda g=g: list(g), daemon=True) for g in stuck]
    for r in runners:
        r.start()
    deadline = time.monotonic() + 10
    while h._slots["llm"]._value > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert h._slots["llm"]._value == 0, "the two LLM answers did not start"

    busy = list(h.respond("A third LLM question?", 3, "openai", [], []))
    assert "busy" in busy[-1][0][-1]["content"]
    answered = list(h.respond("Who did the minister meet?", 3, "extractive", [], []))
    assert "nb-answer" in answered[-1][0][-1]["content"] and "general." in answered[-1][0][-1]["content"]

    release.set()
    for r in runners:
        r.join(10)
    assert h._slots["llm"]._value == 2  # both slots back
