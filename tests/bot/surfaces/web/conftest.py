"""Shared by the web app's tests: sample citations and results as the chain's JSON gives them, hostile
text, and the check that produced markup is inert (only newsbot's own tags, no handler attributes,
no link but http(s) and our own anchors). The builders are session fixtures that return functions (``citation(n, **over)``), so that
hypothesis tests can use them too."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> \"quoted\" & 'single'"

# Markup newsbot itself may emit; anything else in the output came from data.
ALLOWED_TAGS = {
    "div",
    "a",
    "ul",
    "li",
    "bdi",
    "span",
    "strong",
    "br",
    "mark",
    "section",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "p",
    "code",
    "article",
    "header",
    "h3",
    "sup",
    "b",
}


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


@pytest.fixture(scope="session")
def hostile_text() -> str:
    """Markup and quotes that must come out as text wherever data is shown."""
    return HOSTILE


@pytest.fixture(scope="session")
def assert_inert():
    """``assert_inert(markup)``: only our tags, no event handler attributes, no non-http(s) link;
    returns the parsed tags and text."""

    def check(markup: str) -> _Collector:
        c = parse(markup)
        for tag, attrs in c.tags:
            assert tag in ALLOWED_TAGS, (tag, markup)
            for name, value in attrs.items():
                assert not name.startswith("on"), (name, markup)
                if name == "href":
                    assert value.startswith("#nb-cite-") or value == "#nb-article" or value.startswith(("http://", "https://")), (
                        value
                    )
        return c

    return check


@pytest.fixture(scope="session")
def citation():
    """``citation(n, **over)``: a citation of the chain's JSON, its quote inside its passage."""

    def make(n: int = 1, **over) -> dict:
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

    return make


@pytest.fixture(scope="session")
def result(citation):
    """``result(answer, citations, language, **over)``: an answer of the chain's JSON, as the chat keeps it."""

    def make(answer: str = "The minister met the general. [1]", citations=None, language="en", **over) -> dict:
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

    return make


@pytest.fixture(scope="session")
def record():
    """``record(title, lang, date, **over)``: a stored article's record, as the corpus views read it."""

    def make(title, lang, date="2024-06-03", **over):
        base = dict(id="id-" + title[:3], title=title, rev="r", chunks=3, date=date, source="src", url=None, lang=lang)
        base.update(over)
        return SimpleNamespace(**base)

    return make
