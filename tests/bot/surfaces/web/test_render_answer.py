"""An answer in the chat (bot.surfaces.web.render): text escaped and links made safe, citation
markers linked to the sources panel, the hedge of a low-confidence answer, abstention, the text
while it streams, direction (RTL, mixed), and the question's terms marked across scripts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.surfaces.web import render as fmt

# --------------------------------------------------------------------------- escaping and urls


def test_text_html_escapes_and_keeps_line_breaks_without_blank_lines(hostile_text):
    out = fmt.text_html(hostile_text + "\n\nnext\r\nline")
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


# --------------------------------------------------------------------------- citation links, hedge, abstention


def test_markers_become_links_to_the_sources_panel(citation, result):
    out = fmt.answer_html(result("A claim. [1] Another. [1][2]", citations=[citation(1), citation(2)]), turn=3)
    assert out.count('href="#nb-cite-3-1"') == 3  # two in the answer, one in the list under it
    assert out.count('href="#nb-cite-3-2"') == 2
    assert "[1]</a>" in out and "[2]</a>" in out


def test_only_numbers_of_real_citations_become_links(citation, result):
    out = fmt.answer_html(result("Text [1] and a literal [7] from the article.", citations=[citation(1)]), turn=0)
    assert "#nb-cite-0-1" in out
    assert "#nb-cite-0-7" not in out and "[7]" in out


def test_answer_is_escaped_and_direction_auto(hostile_text, assert_inert, citation, result):
    hostile = citation(title=hostile_text, url="javascript:alert(3)")
    out = fmt.answer_html(result(hostile_text + " [1]", citations=[hostile]), turn=0)
    c = assert_inert(out)
    assert hostile_text in "".join(c.text)
    assert 'dir="auto"' in out


def test_sources_heading_follows_the_question_language(result):
    en = fmt.answer_html(result(language="en"), 0)
    ar = fmt.answer_html(result("التقى الوزير الجنرال. [1]", language="ar"), 0)
    assert "<strong>Sources</strong>" in en and 'dir="ltr"' in en
    assert "<strong>المصادر</strong>" in ar and 'dir="rtl"' in ar
    panel = fmt.turn_sources_html(result(language="ar"), 0)
    assert "المصادر" in panel and 'dir="rtl"' in panel and 'lang="ar"' in panel


def test_low_confidence_answer_shows_the_hedge_apart_and_muted(result):
    hedge = "The articles may not answer this directly. The closest passage says:"
    out = fmt.answer_html(result(f"{hedge} The minister <b>met</b> the general. [1]", confidence="low", hedge=hedge), 2)
    head, _, body = out.partition('<div class="nb-msg nb-answer nb-low"')
    assert 'class="nb-hedge"' in head and "Low confidence" in head and hedge in head
    assert hedge not in body, "the hedge is shown once"
    assert "&lt;b&gt;met&lt;/b&gt;" in body and 'href="#nb-cite-2-1"' in body
    ar = fmt.answer_html(
        result(
            "قد لا تجيب المقالات عن هذا مباشرة. أقرب ما ورد فيها: نص. [1]",
            language="ar",
            confidence="low",
            hedge="قد لا تجيب المقالات عن هذا مباشرة. أقرب ما ورد فيها:",
        ),
        0,
    )
    assert "ثقة منخفضة" in ar
    # A high-confidence answer has neither, even if it happens to start with the same words.
    high = fmt.answer_html(result(f"{hedge} x. [1]", confidence="high", hedge=hedge), 0)
    assert "nb-hedge" not in high and "nb-low" not in high


def test_abstention_has_no_source_list(result):
    out = fmt.answer_html(result("The articles don't say.", citations=[], abstained=True), 0)
    assert "nb-cite" not in out and "Sources" not in out
    assert "The articles don&#x27;t say." in out


def test_streamed_text_is_escaped_and_not_linked():
    out = fmt.streaming_html("partial <b>bold</b> [1]")
    assert "&lt;b&gt;" in out and "nb-cite" not in out and 'dir="auto"' in out


# --------------------------------------------------------------------------- RTL and question terms


def test_arabic_and_mixed_text_get_automatic_direction(result):
    mixed = "قال الوزير إن Wagner غادرت"
    assert 'dir="auto"' in fmt.question_html(mixed)
    assert 'dir="auto"' in fmt.answer_html(result(mixed + " [1]", language="ar"), 0)
    assert 'dir="rtl"' in fmt.notice_html(fmt.t("ar", "empty_store"), "ar")
    assert 'dir="ltr"' in fmt.notice_html(fmt.t("en", "empty_store"), "en")
    assert fmt.t("ar", "sources") == "المصادر" and fmt.t("fr", "sources") == "Sources"


@given(st.text(max_size=200), st.text(max_size=60), st.text(max_size=60))
def test_any_article_text_stays_text(assert_inert, citation, result, answer, title, url):
    c = citation(title=title, url=url, text=answer + " tail", quote=answer.strip() or "tail")
    for markup in (fmt.answer_html(result(answer, citations=[c]), 0), fmt.citation_html(c, 0)):
        assert_inert(markup)
        assert "\n" not in markup


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
        "question": "Who did Yevkurov meet?",
        "language": "en",
        "answer": "يفكيروف التقى حفتر [1]",
        "citations": [{"n": 1, "title": "t", "text": "نص. يفكيروف التقى حفتر. نص.", "quote": "يفكيروف التقى حفتر."}],
    }
    from bot.surfaces.web.render import answer_html, sources_html

    assert '<b class="nb-term">يفكيروف</b>' in answer_html(result, 0)
    assert '<mark class="nb-quote"><b class="nb-term">يفكيروف</b>' in sources_html([result])
