# Over 400 lines: the rendering cases share the HTML allow-list parser that checks every produced fragment.
"""The web UI's pure formatting (bot.surfaces.web.render) and its handlers driven with a fake chain."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from types import SimpleNamespace

import gradio as gr
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from bot.answering.contract import AnswerResult, Delta, Result, Retrieved, RetrievedPassage
from bot.answering.extractive import ExtractiveAnswerer
from bot.surfaces.web import chats
from bot.surfaces.web import render as fmt
from bot.surfaces.web import render_article as fmt_article
from bot.surfaces.web import render_corpus as fmt_corpus

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> "quoted" & \'single\''

# Markup newsbot itself may emit; anything else in the output came from data.
ALLOWED_TAGS = {"div", "a", "ul", "li", "bdi", "span", "strong", "br", "mark", "section", "table", "thead",
                "tbody", "tr", "th", "td", "p", "code", "article", "header", "h3", "sup", "b"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> _Collector:
    c = _Collector()
    c.feed(markup)
    c.close()
    return c


def assert_inert(markup: str) -> _Collector:
    """Only our tags, no event handler attributes, no non-http(s) link."""
    c = parse(markup)
    for tag, attrs in c.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, markup)
            if name == "href":
                assert value.startswith("#nb-cite-") or value == "#nb-article" or value.startswith(("http://", "https://")), value
    return c


def citation(n: int = 1, **over) -> dict:
    text = "First sentence here. The minister met the general in the port city. Last one."
    quote = "The minister met the general in the port city."
    c = {
        "n": n,
        "article_id": "a1",
        "title": "Minister visits port",
        "date": "2024-06-03",
        "source": "Example News",
        "url": "https://news.example/a1",
        "chunk_id": "a1:abc:0",
        "text": text,
        "quote": quote,
        "quote_start": 100 + text.index(quote),
        "quote_end": 100 + text.index(quote) + len(quote),
        "score": 0.9,
    }
    c.update(over)
    return c


def result(answer: str = "The minister met the general. [1]", citations=None, language="en", **over) -> dict:
    r = {
        "question": "Who did the minister meet?",
        "answer": answer,
        "abstained": False,
        "language": language,
        "citations": [citation()] if citations is None else citations,
        "retrieved": [],
    }
    r.update(over)
    return r


def answer_result(**over) -> AnswerResult:
    """:func:`result` as the chain returns it (what the handlers get from a fake chain)."""
    r = {"confidence": "high", "timings_ms": {"retrieve": 1.0, "answer": 1.0}, "answerer": "extractive", **result(**over)}
    r["citations"] = [{"lang": None, **c} for c in r["citations"]]
    return AnswerResult.model_validate(r)


# --------------------------------------------------------------------------- escaping and urls


def test_text_html_escapes_and_keeps_line_breaks_without_blank_lines():
    out = fmt.text_html(HOSTILE + "\n\nnext\r\nline")
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&quot;quoted&quot;" in out and "&#x27;single&#x27;" in out
    assert "\n" not in out  # a blank line would end the HTML block in the chat's Markdown
    assert out.endswith("next<br>line")


@pytest.mark.parametrize(
    "url",
    ["https://news.example/a?b=1&c=2", "http://example.org", "  https://example.org/x  ", "HTTPS://EXAMPLE.ORG"],
)
def test_safe_url_accepts_http_and_https(url):
    assert fmt.safe_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "/relative/path",
        "//evil.example/x",
        "http:///nohost",
        "https://exa mple.org",
        "file:///etc/passwd",
        "",
        None,
        42,
    ],
)
def test_safe_url_refuses_everything_else(url):
    assert fmt.safe_url(url) is None


# --------------------------------------------------------------------------- citation links


def test_markers_become_links_to_the_sources_panel():
    out = fmt.answer_html(result("A claim. [1] Another. [1][2]", citations=[citation(1), citation(2)]), turn=3)
    assert out.count('href="#nb-cite-3-1"') == 3  # two in the answer, one in the list under it
    assert out.count('href="#nb-cite-3-2"') == 2
    assert "[1]</a>" in out and "[2]</a>" in out


def test_only_numbers_of_real_citations_become_links():
    out = fmt.answer_html(result("Text [1] and a literal [7] from the article.", citations=[citation(1)]), turn=0)
    assert "#nb-cite-0-1" in out
    assert "#nb-cite-0-7" not in out and "[7]" in out


def test_answer_is_escaped_and_direction_auto():
    hostile = citation(title=HOSTILE, url="javascript:alert(3)")
    out = fmt.answer_html(result(HOSTILE + " [1]", citations=[hostile]), turn=0)
    c = assert_inert(out)
    assert HOSTILE in "".join(c.text)
    assert 'dir="auto"' in out


def test_sources_heading_follows_the_question_language():
    en = fmt.answer_html(result(language="en"), 0)
    ar = fmt.answer_html(result("التقى الوزير الجنرال. [1]", language="ar"), 0)
    assert "<strong>Sources</strong>" in en and 'dir="ltr"' in en
    assert "<strong>المصادر</strong>" in ar and 'dir="rtl"' in ar
    panel = fmt.turn_sources_html(result(language="ar"), 0)
    assert "المصادر" in panel and 'dir="rtl"' in panel and 'lang="ar"' in panel


def test_low_confidence_answer_shows_the_hedge_apart_and_muted():
    hedge = "The articles may not answer this directly. The closest passage says:"
    out = fmt.answer_html(
        result(f"{hedge} The minister <b>met</b> the general. [1]", confidence="low", hedge=hedge), 2
    )
    head, _, body = out.partition('<div class="nb-msg nb-answer nb-low"')
    assert 'class="nb-hedge"' in head and "Low confidence" in head and hedge in head
    assert hedge not in body, "the hedge is shown once"
    assert "&lt;b&gt;met&lt;/b&gt;" in body and 'href="#nb-cite-2-1"' in body
    ar = fmt.answer_html(result("قد لا تجيب المقالات عن هذا مباشرة. أقرب ما ورد فيها: نص. [1]", language="ar",
                                confidence="low", hedge="قد لا تجيب المقالات عن هذا مباشرة. أقرب ما ورد فيها:"), 0)
    assert "ثقة منخفضة" in ar
    # A high-confidence answer has neither, even if it happens to start with the same words.
    high = fmt.answer_html(result(f"{hedge} x. [1]", confidence="high", hedge=hedge), 0)
    assert "nb-hedge" not in high and "nb-low" not in high


def test_abstention_has_no_source_list():
    out = fmt.answer_html(result("The articles don't say.", citations=[], abstained=True), 0)
    assert "nb-cite" not in out and "Sources" not in out
    assert "The articles don&#x27;t say." in out


def test_streamed_text_is_escaped_and_not_linked():
    out = fmt.streaming_html("partial <b>bold</b> [1]")
    assert "&lt;b&gt;" in out and "nb-cite" not in out and 'dir="auto"' in out


# --------------------------------------------------------------------------- highlight


def test_locate_quote_inside_the_passage():
    c = citation()
    s, e = fmt.locate_quote(c)
    assert c["text"][s:e] == c["quote"]
    # consistent with the article offsets: same distance between start and end
    assert e - s == c["quote_end"] - c["quote_start"]


def test_locate_quote_tolerates_different_whitespace():
    c = citation(text="One.  The minister\nmet the general\u00a0in the port city. Two.")
    span = fmt.locate_quote(c)
    assert span is not None
    assert " ".join(c["text"][span[0] : span[1]].split()) == c["quote"]


def test_highlight_marks_exactly_the_supporting_sentence():
    c = citation()
    out = fmt.highlight_html(c["text"], fmt.locate_quote(c), c["quote"])
    m = re.search(r'<mark class="nb-quote">(.*?)</mark>', out)
    assert m and m.group(1) == c["quote"]
    assert out.startswith("First sentence here. ") and out.endswith(" Last one.")


def test_highlight_escapes_around_and_inside_the_mark():
    text = "<b>before</b> <script>alert(1)</script> after"
    out = fmt.highlight_html(text, (14, 39), "")
    assert out == '&lt;b&gt;before&lt;/b&gt; <mark class="nb-quote">&lt;script&gt;alert(1)&lt;/script&gt;</mark> after'


def test_unlocated_quote_is_still_highlighted_above_the_passage():
    c = citation(quote="A sentence that is not in the passage.")
    assert fmt.locate_quote(c) is None
    out = fmt.citation_html(c, 0)
    assert '<mark class="nb-quote">A sentence that is not in the passage.</mark>' in out


def test_citation_block_has_id_title_date_source_and_safe_link():
    out = fmt.citation_html(citation(n=2), turn=5)
    assert 'id="nb-cite-5-2"' in out
    assert "Minister visits port" in out and "2024-06-03" in out and "Example News" in out
    assert '<a class="nb-url" href="https://news.example/a1" target="_blank" rel="noopener noreferrer nofollow"' in out
    assert 'class="nb-passage" dir="auto"' in out
    assert_inert(out)


def test_hostile_citation_renders_as_text():
    c = citation(
        title=HOSTILE,
        source="<img src=x onerror=alert(4)>",
        url="javascript:alert(5)",
        text="Intro. " + HOSTILE + " tail.",
        quote=HOSTILE,
    )
    out = fmt.citation_html(c, 0)
    parsed = assert_inert(out)
    text = "".join(parsed.text)
    assert HOSTILE in text and "javascript:alert(5)" in text  # shown, not linked
    assert "href=\"javascript" not in out.lower()


def test_sources_panel_lists_newest_answer_first():
    r0 = result(question="first?")
    r1 = result(question="second?")
    out = fmt.sources_html([r0, r1])
    assert out.index('id="nb-turn-1"') < out.index('id="nb-turn-0"')
    assert 'id="nb-cite-0-1"' in out and 'id="nb-cite-1-1"' in out
    assert "nb-empty" in fmt.sources_html([])


def test_retrieved_table_escapes_and_formats_scores():
    rows = [RetrievedPassage(rank=1, chunk_id="a:b:0", article_id="a", title=HOSTILE, text="x" * 500, score=0.0163934,
                             dense=0.78, bm25=None)]
    out = fmt_corpus.retrieved_html(rows)
    assert_inert(out)
    assert "0.0164" in out and "0.7800" in out and "–" in out and "…" in out


# --------------------------------------------------------------------------- RTL


def test_arabic_and_mixed_text_get_automatic_direction():
    mixed = "قال الوزير إن Wagner غادرت"
    assert 'dir="auto"' in fmt.question_html(mixed)
    assert 'dir="auto"' in fmt.answer_html(result(mixed + " [1]", language="ar"), 0)
    assert 'dir="rtl"' in fmt.notice_html(fmt.t("ar", "empty_store"), "ar")
    assert 'dir="ltr"' in fmt.notice_html(fmt.t("en", "empty_store"), "en")
    assert fmt.t("ar", "sources") == "المصادر" and fmt.t("fr", "sources") == "Sources"


@given(st.text(max_size=200), st.text(max_size=60), st.text(max_size=60))
def test_any_article_text_stays_text(answer, title, url):
    c = citation(title=title, url=url, text=answer + " tail", quote=answer.strip() or "tail")
    for markup in (fmt.answer_html(result(answer, citations=[c]), 0), fmt.citation_html(c, 0)):
        assert_inert(markup)
        assert "\n" not in markup


# --------------------------------------------------------------------------- corpus helpers


def record(title, lang, date="2024-06-03", **over):
    base = dict(id="id-" + title[:3], title=title, rev="r", chunks=3, date=date, source="src", url=None, lang=lang)
    base.update(over)
    return SimpleNamespace(**base)


def test_example_questions_follow_the_article_language_newest_first():
    recs = [record("Old story", "en", "2020-01-01"), record("خبر جديد", "ar", "2024-06-03"), record("Mid", "en", "2022-01-01")]
    qs = fmt_corpus.example_questions(recs, limit=2)
    assert qs == ["ماذا جاء في خبر «خبر جديد»؟", "What does the article “Mid” report?"]
    assert fmt_corpus.example_questions([]) == []


def test_article_table_and_choices():
    recs = [record("A title", "en", source=None, date=None), record(HOSTILE, "ar", source="<b>x</b>")]
    out = fmt_corpus.articles_html(recs)
    parsed = assert_inert(out)
    assert "2 articles" in out and HOSTILE in "".join(parsed.text) and "<td>3</td>" in out
    assert out.count('<td dir="auto">') == 4
    assert "Corpus tab" in fmt_corpus.articles_html([])
    assert fmt_corpus.article_choices(recs[:1]) == [("A title (-, id-A t)", "id-A t")]


def test_ingest_report_lists_each_failure_with_its_reason():
    from ingest.pipeline import FileFailure, IngestReport

    rep = IngestReport(ingested=1, chunks=4, failures=[FileFailure("/tmp/gradio/x/bad<b>.pdf", "not a PDF")])
    out = fmt_corpus.ingest_report_html(rep, {"/tmp/gradio/x/bad<b>.pdf": "bad<b>.pdf"})
    assert "ingested 1 articles (4 chunks)" in out
    assert "<li>bad&lt;b&gt;.pdf: not a PDF</li>" in out


# --------------------------------------------------------------------------- handlers with a fake chain


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


def test_respond_streams_then_links_and_passes_history():
    from bot.surfaces.web.handlers import Handlers

    def events(request):
        passage = RetrievedPassage(rank=1, chunk_id="a1:abc:0", article_id="a1", title="t", text="p", score=0.1,
                                   dense=None, bm25=None)
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


def test_parse_auth():
    from bot.surfaces.web.auth import parse_auth
    from ingest.errors import ConfigError

    assert parse_auth(None) is None
    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)


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


def test_login_guard_locks_out_password_guessing():
    from bot.surfaces.web.auth import LoginGuard

    now = [1000.0]
    guard = LoginGuard("ann", "pw", free_failures=3, base_lockout=2.0, max_lockout=10.0, clock=lambda: now[0])
    assert guard("ann", "pw")
    assert [guard("ann", f"guess{i}") for i in range(3)] == [False, False, False]
    assert not guard("ann", "pw")  # locked: even the right password waits
    now[0] += 2.1
    assert not guard("bob", "pw")  # the lockout ended; a fourth failure doubles it
    now[0] += 2.1
    assert not guard("ann", "pw")
    now[0] += 2.0
    assert guard("ann", "pw")  # after the 4 s lockout; success resets the count
    assert not guard("ann", "x") and guard("ann", "pw")
    for _ in range(20):
        guard("eve", "x")
        now[0] += 11.0  # each lockout is capped at max_lockout
    assert guard.locked_until - now[0] <= 10.0


def test_slow_llm_answers_never_hold_back_extractive_ones(monkeypatch):
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


def test_question_names_and_terms_are_marked_in_quotes_across_scripts():
    from bot.surfaces.web.render import marked_html, question_terms

    quote = "أنهى نائب وزير الدفاع يفكيروف زيارة إلى بنغازي التقى خلالها حفتر [1]"
    shown = marked_html(quote, question_terms("Who did Yevkurov meet in Benghazi?"))
    assert '<b class="nb-term">يفكيروف</b>' in shown and '<b class="nb-term">بنغازي</b>' in shown
    assert '<b class="nb-term">حفتر</b>' not in shown  # not asked about
    assert "[1]" in shown  # markers are left for the citation links
    # Same script: the question's words; the text stays escaped.
    shown = marked_html("The <b>harbour</b> reopened", question_terms("When did the harbour reopen?"))
    assert '<b class="nb-term">harbour</b>' in shown and "&lt;b&gt;" in shown
    # In the answer and in its source, end to end.
    result = {
        "question": "Who did Yevkurov meet?", "language": "en", "answer": "يفكيروف التقى حفتر [1]",
        "citations": [{"n": 1, "title": "t", "text": "نص. يفكيروف التقى حفتر. نص.", "quote": "يفكيروف التقى حفتر."}],
    }
    from bot.surfaces.web.render import answer_html, sources_html

    assert '<b class="nb-term">يفكيروف</b>' in answer_html(result, 0)
    assert '<mark class="nb-quote"><b class="nb-term">يفكيروف</b>' in sources_html([result])


# --------------------------------------------------------------------------- article view

ARTICLE_TEXT = (
    "Minister visits port\n\n"
    "The minister arrived on Monday. He toured the docks.\n\n"
    "قال الوزير إن الميناء سيتوسع. The minister met the general in the port city. Talks lasted an hour.\n\n"
    "Closing <script>alert(1)</script> paragraph."
)


def article_record(**over) -> dict:
    base = {"id": "a1", "title": "Minister <b>visits</b> port", "date": "2024-06-03", "source": "Example News",
            "url": "https://news.example/a1", "lang": "en"}
    base.update(over)
    return base


def cited(quote: str, n: int, text: str = ARTICLE_TEXT, shift: int = 0) -> dict:
    i = text.index(quote) + shift
    return citation(n, quote=quote, quote_start=i, quote_end=i + len(quote))


def test_article_view_highlights_the_cited_sentence_and_marks_the_others_of_the_answer():
    focus = cited("The minister met the general in the port city.", 2)
    other = cited("He toured the docks.", 1)
    view = fmt_article.article_html(article_record(), ARTICLE_TEXT, citations=[other, focus], focus=2,
                            question="Who did the minister meet?")
    c = assert_inert(view)
    marks = [(tag, attrs) for tag, attrs in c.tags if tag == "mark"]
    assert [a.get("class") for _, a in marks] == ["nb-quote nb-also", "nb-quote nb-focus"]  # article order
    assert [a.get("id") for _, a in marks] == [None, "nb-article-focus"]
    # Every paragraph is laid out in its own direction; the article text is all there, escaped.
    assert view.count('<p dir="auto">') == 4
    assert "Closing &lt;script&gt;alert(1)&lt;/script&gt; paragraph." in view
    assert "Minister &lt;b&gt;visits&lt;/b&gt; port" in view
    assert '<span class="nb-lang" title="language">English</span>' in view
    assert 'href="https://news.example/a1"' in view and "2024-06-03" in view
    assert "Cited as [2] in the answer to:" in view and "Other sentences this answer cited" in view
    # The question's words are marked inside the highlighted sentence.
    focus_html = view[view.index('id="nb-article-focus"'):]
    assert '<b class="nb-term">minister</b>' in focus_html[: focus_html.index("</mark>")]


def test_article_view_finds_a_sentence_whose_offsets_moved_and_says_when_it_is_gone():
    moved = cited("He toured the docks.", 1, shift=7)  # the article was re-ingested with a longer head
    view = fmt_article.article_html(article_record(), ARTICLE_TEXT, citations=[moved], focus=1)
    assert 'id="nb-article-focus"' in view and ">He toured the docks.</mark>" in view
    gone = citation(1, quote="A sentence the article no longer has.", quote_start=0, quote_end=10)
    view = fmt_article.article_html(article_record(), ARTICLE_TEXT, citations=[gone], focus=1)
    assert "<mark" not in view and "no longer in this article" in view
    assert "no longer in the corpus" in fmt_article.article_html(None, None)


def test_article_view_of_an_arabic_article_in_an_arabic_answer():
    text = "عنوان الخبر\n\nوصل يفكيروف إلى بنغازي الجمعة.\n\nوالتقى حفتر في مقره."
    c = cited("والتقى حفتر في مقره.", 1, text)
    view = fmt_article.article_html(article_record(lang="ar", title="عنوان"), text, citations=[c], focus=1,
                            question="من التقى يفكيروف؟", lang="ar")
    assert "العربية" in view and 'dir="rtl"' in view  # the notes follow the answer's language
    assert "مستشهد به [1]" in view


def test_paragraphs_are_blank_line_blocks_or_lines():
    assert fmt_article.paragraphs("a b\n\n  c\nd \n\n\n") == [(0, 3), (7, 10)]
    assert fmt_article.paragraphs("one\ntwo\n three") == [(0, 3), (4, 7), (9, 14)]
    assert fmt_article.paragraphs("   ") == []


def test_a_very_long_article_shows_the_part_around_the_cited_sentence(monkeypatch):
    monkeypatch.setattr(fmt_article, "ARTICLE_VIEW_MAX_CHARS", 2_000)
    lines = [f"Line {i} of the long article." for i in range(400)]
    text = "\n".join(lines)
    c = cited("Line 300 of the long article.", 1, text)
    view = fmt_article.article_html(article_record(), text, citations=[c], focus=1)
    assert 'id="nb-article-focus"' in view and "only the part around the cited sentence" in view
    assert "Line 0 of" not in view and len(view) < 10_000


@given(st.text(max_size=300), st.text(max_size=40))
def test_any_article_view_stays_text(text, title):
    quote = text.strip()[:30] or "x"
    view = fmt_article.article_html(article_record(title=title, url=title), text, citations=[citation(1, quote=quote)], focus=1,
                            question=title)
    assert_inert(view)


def test_citations_and_corpus_rows_carry_links_that_open_the_article():
    r = result(citations=[citation(1, lang="ar")])
    answer = fmt.answer_html(r, 3)
    assert 'class="nb-open" href="#nb-article" data-turn="3" data-n="1"' in answer
    panel = fmt.sources_html([result(), r])
    assert panel.count('data-turn="1" data-n="1"') == 2  # [1] + title, and "Open article"
    assert "Arabic · العربية" in panel  # the article's language next to its title
    table = fmt_corpus.articles_html([record("Portville <ferry>", "en", id='x"y')])
    assert 'data-article="x&quot;y"' in table and "Portville &lt;ferry&gt;" in table


# --------------------------------------------------------------------------- chats kept in the browser


def test_chats_keep_the_current_one_and_a_bounded_list_of_earlier_ones():
    kept = chats.save(None, [result()])
    first = kept["current"]["id"]
    assert chats.save(kept, [result(), result()])["current"]["id"] == first  # same chat, more turns
    for i in range(chats.MAX_EARLIER + 3):
        kept = chats.start_new(chats.save(kept, [result(question=f"Question {i}?")]))
    labels = [label for label, _ in chats.choices(kept)]
    assert len(labels) == chats.MAX_EARLIER and labels[0].startswith("Question 12?")
    chosen = chats.choices(kept)[3][1]
    kept = chats.switch_to(chats.save(kept, [result(question="Now?")]), chosen)
    assert kept["current"]["id"] == chosen and chats.choices(kept)[0][0].startswith("Now?")
    long = chats.save(None, [result(question=f"q{i}") for i in range(chats.MAX_TURNS + 5)])
    assert len(long["current"]["results"]) == chats.MAX_TURNS and long["current"]["results"][0]["question"] == "q5"


def test_chats_from_a_damaged_or_older_browser_value_start_empty():
    for value in (None, "text", {"current": {"id": 1}}, {"current": None, "earlier": "x"}, [1, 2]):
        assert chats.current_results(value) == [] and chats.choices(value) == []


def test_a_notice_is_a_turn_of_the_chat_but_not_history_or_sources():
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


def test_open_article_from_a_citation_and_from_the_corpus():
    from bot.surfaces.web.handlers import Handlers

    focus = cited("The minister met the general in the port city.", 1)
    other = cited("He toured the docks.", 2)
    elsewhere = citation(3, article_id="a2")
    store = SimpleNamespace(
        article=lambda i: SimpleNamespace(as_dict=lambda: article_record(id=i)) if i in ("a1", "a2") else None,
        article_text=lambda i: {"a1": ARTICLE_TEXT, "a2": "Other article."}.get(i),
    )
    h = Handlers(SimpleNamespace(store=store, settings=SimpleNamespace(k=5, concurrency=2)))
    results = [result(citations=[focus, other, elsewhere])]
    view, tabs = h.open_article(results, SimpleNamespace(_data={"turn": 0, "n": 1}))
    assert view.count("<mark") == 2 and 'id="nb-article-focus"' in view and tabs.selected == "article"
    view, _ = h.open_article(results, SimpleNamespace(_data={"article": "a1"}))
    assert "<mark" not in view and "Minister &lt;b&gt;visits" in view
    view, _ = h.open_article(results, SimpleNamespace(_data={"article": "gone"}))
    assert "no longer in the corpus" in view
    for bad in ({"turn": 5, "n": 1}, {"turn": 0, "n": 9}, {"turn": "x"}, {}):
        assert h.open_article(results, SimpleNamespace(_data=bad)) == (gr.skip(), gr.skip())


def test_the_chat_key_is_made_once_and_kept_beside_the_store(tmp_path):
    from bot.settings import Settings
    from bot.surfaces.web.auth import ui_secret

    settings = Settings(db=tmp_path / "db", collection="c1")
    first = ui_secret(settings)
    assert ui_secret(settings) == first and len(first) >= 16  # chats survive a restart
    path = settings.ui_secret_path()
    assert path.parent == tmp_path / "db" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert ui_secret(Settings(db=tmp_path / "db", collection="c2")) != first
    assert ui_secret(Settings(db=tmp_path / "db", ui_secret="s" * 20)) == "s" * 20
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert len(ui_secret(Settings(db=blocked / "db"))) >= 16  # cannot be kept: one for this run
