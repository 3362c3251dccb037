"""The Article tab (bot.surfaces.web.render_article): the whole article with the cited sentence
highlighted and the answer's other sentences marked, the links that open it from answers, sources
and the corpus table, and the handler that opens it."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.surfaces.web import render as fmt
from bot.surfaces.web import render_article as fmt_article
from bot.surfaces.web import render_corpus as fmt_corpus

ARTICLE_TEXT = (
    "Minister visits port\n\n"
    "The minister arrived on Monday. He toured the docks.\n\n"
    "قال الوزير إن الميناء سيتوسع. The minister met the general in the port city. Talks lasted an hour.\n\n"
    "Closing <script>alert(1)</script> paragraph."
)


def article_record(**over) -> dict:
    base = {
        "id": "a1",
        "title": "Minister <b>visits</b> port",
        "date": "2024-06-03",
        "source": "Example News",
        "url": "https://news.example/a1",
        "lang": "en",
    }
    base.update(over)
    return base


@pytest.fixture(scope="session")
def cited(citation):
    """A citation of ``quote`` in ``text`` at its offsets (moved by ``shift``)."""

    def make(quote: str, n: int, text: str = ARTICLE_TEXT, shift: int = 0) -> dict:
        i = text.index(quote) + shift
        return citation(n, quote=quote, quote_start=i, quote_end=i + len(quote))

    return make


def test_article_view_highlights_the_cited_sentence_and_marks_the_others_of_the_answer(assert_inert, cited):
    focus = cited("The minister met the general in the port city.", 2)
    other = cited("He toured the docks.", 1)
    view = fmt_article.article_html(
        article_record(), ARTICLE_TEXT, citations=[other, focus], focus=2, question="Who did the minister meet?"
    )
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
    focus_html = view[view.index('id="nb-article-focus"') :]
    assert '<b class="nb-term">minister</b>' in focus_html[: focus_html.index("</mark>")]


def test_article_view_finds_a_sentence_whose_offsets_moved_and_says_when_it_is_gone(citation, cited):
    moved = cited("He toured the docks.", 1, shift=7)  # the article was re-ingested with a longer head
    view = fmt_article.article_html(article_record(), ARTICLE_TEXT, citations=[moved], focus=1)
    assert 'id="nb-article-focus"' in view and ">He toured the docks.</mark>" in view
    gone = citation(1, quote="A sentence the article no longer has.", quote_start=0, quote_end=10)
    view = fmt_article.article_html(article_record(), ARTICLE_TEXT, citations=[gone], focus=1)
    assert "<mark" not in view and "no longer in this article" in view
    assert "no longer in the corpus" in fmt_article.article_html(None, None)


def test_article_view_of_an_arabic_article_in_an_arabic_answer(cited):
    text = "عنوان الخبر\n\nوصل يفكيروف إلى بنغازي الجمعة.\n\nوالتقى حفتر في مقره."
    c = cited("والتقى حفتر في مقره.", 1, text)
    view = fmt_article.article_html(
        article_record(lang="ar", title="عنوان"), text, citations=[c], focus=1, question="من التقى يفكيروف؟", lang="ar"
    )
    assert "العربية" in view and 'dir="rtl"' in view  # the notes follow the answer's language
    assert "مستشهد به [1]" in view


def test_paragraphs_are_blank_line_blocks_or_lines():
    assert fmt_article.paragraphs("a b\n\n  c\nd \n\n\n") == [(0, 3), (7, 10)]
    assert fmt_article.paragraphs("one\ntwo\n three") == [(0, 3), (4, 7), (9, 14)]
    assert fmt_article.paragraphs("   ") == []


def test_a_very_long_article_shows_the_part_around_the_cited_sentence(monkeypatch, cited):
    monkeypatch.setattr(fmt_article, "ARTICLE_VIEW_MAX_CHARS", 2_000)
    lines = [f"Line {i} of the long article." for i in range(400)]
    text = "\n".join(lines)
    c = cited("Line 300 of the long article.", 1, text)
    view = fmt_article.article_html(article_record(), text, citations=[c], focus=1)
    assert 'id="nb-article-focus"' in view and "only the part around the cited sentence" in view
    assert "Line 0 of" not in view and len(view) < 10_000


@given(st.text(max_size=300), st.text(max_size=40))
def test_any_article_view_stays_text(assert_inert, citation, text, title):
    quote = text.strip()[:30] or "x"
    view = fmt_article.article_html(
        article_record(title=title, url=title), text, citations=[citation(1, quote=quote)], focus=1, question=title
    )
    assert_inert(view)


def test_citations_and_corpus_rows_carry_links_that_open_the_article(citation, result, record):
    r = result(citations=[citation(1, lang="ar")])
    answer = fmt.answer_html(r, 3)
    assert 'class="nb-open" href="#nb-article" data-turn="3" data-n="1"' in answer
    panel = fmt.sources_html([result(), r])
    assert panel.count('data-turn="1" data-n="1"') == 2  # [1] + title, and "Open article"
    assert "Arabic · العربية" in panel  # the article's language next to its title
    table = fmt_corpus.articles_html([record("Portville <ferry>", "en", id='x"y')])
    assert 'data-article="x&quot;y"' in table and "Portville &lt;ferry&gt;" in table


def test_open_article_from_a_citation_and_from_the_corpus(citation, result, cited):
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
