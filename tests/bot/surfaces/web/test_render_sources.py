"""The sources panel (bot.surfaces.web.render): each citation's passage with its supporting sentence
found and highlighted, the citation's title, date, source and link, newest answer first."""

from __future__ import annotations

import re

from bot.surfaces.web import render as fmt


def test_locate_quote_inside_the_passage(citation):
    c = citation()
    s, e = fmt.locate_quote(c)
    assert c["text"][s:e] == c["quote"]
    # consistent with the article offsets: same distance between start and end
    assert e - s == c["quote_end"] - c["quote_start"]


def test_locate_quote_tolerates_different_whitespace(citation):
    c = citation(text="One.  The minister\nmet the general\u00a0in the port city. Two.")
    span = fmt.locate_quote(c)
    assert span is not None
    assert " ".join(c["text"][span[0] : span[1]].split()) == c["quote"]


def test_highlight_marks_exactly_the_supporting_sentence(citation):
    c = citation()
    out = fmt.highlight_html(c["text"], fmt.locate_quote(c), c["quote"])
    m = re.search(r'<mark class="nb-quote">(.*?)</mark>', out)
    assert m and m.group(1) == c["quote"]
    assert out.startswith("First sentence here. ") and out.endswith(" Last one.")


def test_highlight_escapes_around_and_inside_the_mark():
    text = "<b>before</b> <script>alert(1)</script> after"
    out = fmt.highlight_html(text, (14, 39), "")
    assert out == '&lt;b&gt;before&lt;/b&gt; <mark class="nb-quote">&lt;script&gt;alert(1)&lt;/script&gt;</mark> after'


def test_unlocated_quote_is_still_highlighted_above_the_passage(citation):
    c = citation(quote="A sentence that is not in the passage.")
    assert fmt.locate_quote(c) is None
    out = fmt.citation_html(c, 0)
    assert '<mark class="nb-quote">A sentence that is not in the passage.</mark>' in out


def test_citation_block_has_id_title_date_source_and_safe_link(assert_inert, citation):
    out = fmt.citation_html(citation(n=2), turn=5)
    assert 'id="nb-cite-5-2"' in out
    assert "Minister visits port" in out and "2024-06-03" in out and "Example News" in out
    assert '<a class="nb-url" href="https://news.example/a1" target="_blank" rel="noopener noreferrer nofollow"' in out
    assert 'class="nb-passage" dir="auto"' in out
    assert_inert(out)


def test_hostile_citation_renders_as_text(hostile_text, assert_inert, citation):
    c = citation(
        title=hostile_text,
        source="<img src=x onerror=alert(4)>",
        url="javascript:alert(5)",
        text="Intro. " + hostile_text + " tail.",
        quote=hostile_text,
    )
    out = fmt.citation_html(c, 0)
    parsed = assert_inert(out)
    text = "".join(parsed.text)
    assert hostile_text in text and "javascript:alert(5)" in text  # shown, not linked
    assert 'href="javascript' not in out.lower()


def test_sources_panel_lists_newest_answer_first(result):
    r0 = result(question="first?")
    r1 = result(question="second?")
    out = fmt.sources_html([r0, r1])
    assert out.index('id="nb-turn-1"') < out.index('id="nb-turn-0"')
    assert 'id="nb-cite-0-1"' in out and 'id="nb-cite-1-1"' in out
    assert "nb-empty" in fmt.sources_html([])
