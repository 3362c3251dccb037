"""The web UI's pure formatting (bot.ui_format) and its handlers driven with a fake chain."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import ui_format as fmt

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(2)> "quoted" & \'single\''

# Markup newsbot itself may emit; anything else in the output came from data.
ALLOWED_TAGS = {"div", "a", "ul", "li", "bdi", "span", "strong", "br", "mark", "section", "table", "thead",
                "tbody", "tr", "th", "td", "p", "code"}


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
                assert value.startswith("#nb-cite-") or value.startswith(("http://", "https://")), value
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
    rows = [{"rank": 1, "title": HOSTILE, "text": "x" * 500, "score": 0.0163934, "dense": 0.78, "bm25": None}]
    out = fmt.retrieved_html(rows)
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
    qs = fmt.example_questions(recs, limit=2)
    assert qs == ["ماذا جاء في خبر «خبر جديد»؟", "What does the article “Mid” report?"]
    assert fmt.example_questions([]) == []


def test_article_table_and_choices():
    recs = [record("A title", "en", source=None, date=None), record(HOSTILE, "ar", source="<b>x</b>")]
    out = fmt.articles_html(recs)
    parsed = assert_inert(out)
    assert "2 articles" in out and HOSTILE in "".join(parsed.text) and "<td>3</td>" in out
    assert out.count('<td dir="auto">') == 4
    assert "Corpus tab" in fmt.articles_html([])
    assert fmt.article_choices(recs[:1]) == [("A title (-, id-A t)", "id-A t")]


def test_ingest_report_lists_each_failure_with_its_reason():
    from ingest.pipeline import FileFailure, IngestReport

    rep = IngestReport(ingested=1, chunks=4, failures=[FileFailure("/tmp/gradio/x/bad<b>.pdf", "not a PDF")])
    out = fmt.ingest_report_html(rep, {"/tmp/gradio/x/bad<b>.pdf": "bad<b>.pdf"})
    assert "ingested 1 articles (4 chunks)" in out
    assert "<li>bad&lt;b&gt;.pdf: not a PDF</li>" in out


# --------------------------------------------------------------------------- handlers with a fake chain


class FakeChain:
    answerer = "extractive"
    chat_models: dict = {}

    def __init__(self, events):
        self.events = events
        self.requests = []

    def stream(self, request):
        self.requests.append(request)
        yield from self.events(request)


def fake_app(events, empty=False):
    store = SimpleNamespace(is_empty=lambda: empty, articles=lambda: [])
    return SimpleNamespace(chain=FakeChain(events), store=store, settings=SimpleNamespace(k=5, concurrency=2))


def test_respond_streams_then_links_and_passes_history():
    from bot.ui import _Handlers

    def events(request):
        yield {"event": "retrieved", "retrieved": [{"rank": 1, "title": "t", "text": "p", "score": 0.1}]}
        yield {"event": "delta", "text": "The minister met "}
        yield {"event": "delta", "text": "the general. [1]"}
        yield {"event": "result", "result": result(question=request["question"])}

    app = fake_app(events)
    h = _Handlers(app)
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

    assert h.new_chat()[:3] == ([], [], [])


def test_respond_on_an_empty_store_says_how_to_add_articles():
    from bot.chain import EmptyStoreError
    from bot.ui import _Handlers

    def events(request):
        raise EmptyStoreError()
        yield  # pragma: no cover

    h = _Handlers(fake_app(events, empty=True))
    *_, last = h.respond("من التقى الوزير؟", 5, "extractive", [], [])
    content = last[0][-1]["content"]
    assert fmt.esc(fmt.t("ar", "empty_store")) in content and 'dir="rtl"' in content
    *_, last = h.respond("Who?", 5, "extractive", [], [])
    assert "Corpus tab" in last[0][-1]["content"]


def test_parse_auth():
    from bot.ui import parse_auth
    from ingest.errors import ConfigError

    assert parse_auth(None) is None
    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    for bad in ("nocolon", ":pw", "user:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)


def test_upload_reads_only_files_of_the_upload(tmp_path, monkeypatch):
    from bot.ui import _Handlers
    from ingest.pipeline import IngestReport

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
            progress("file", str(p), "ok")
        return IngestReport(ingested=len(paths), chunks=1)

    app = fake_app(lambda r: iter(()))
    app.ingestor = SimpleNamespace(ingest_paths=ingest_paths)
    h = _Handlers(app)
    out = h.ingest([str(inside), str(outside), str(link), str(uploads / "abc")], progress=lambda *a, **k: None)
    assert seen == [inside]
    report_html = out[0]
    assert "ingested 1 articles" in report_html
    for name in ("secret.txt", "link.txt", "abc"):
        assert f"<li>{name}: refused: not a file of this upload</li>" in report_html


def test_login_guard_locks_out_password_guessing():
    from bot.ui import LoginGuard

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

    import bot.ui
    from bot.ui import _Handlers

    monkeypatch.setattr(bot.ui, "LLM_SLOT_WAIT", 0.2)
    release = threading.Event()

    def events(request):
        yield {"event": "retrieved", "retrieved": []}
        if request["answerer"] == "openai":
            release.wait(30)  # the LLM at the boundary: stuck until released
        yield {"event": "delta", "text": "The minister met the general. [1]"}
        yield {"event": "result", "result": result(question=request["question"])}

    h = _Handlers(fake_app(events))  # concurrency=2
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
    from bot.ui_format import marked_html, question_terms

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
    from bot.ui_format import answer_html, sources_html

    assert '<b class="nb-term">يفكيروف</b>' in answer_html(result, 0)
    assert '<mark class="nb-quote"><b class="nb-term">يفكيروف</b>' in sources_html([result])
