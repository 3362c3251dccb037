"""Pure formatting for the web UI: chain results → HTML strings. No Gradio, no I/O.

Everything that comes from an article (title, text, source, url, and the extractive answer, which
is article text too) is data: it is HTML-escaped before it is put into markup, and only http(s)
urls become links. Markup newsbot adds is built here and nowhere else, so the escaping can be
tested in one place (tests/bot/surfaces/web/test_render_*.py, every fragment through the allow-list
check of that folder's conftest.py).

Chat messages are one HTML block without blank lines: the Chatbot's Markdown renderer then leaves
their content alone (an article's ``*``, ``#`` or ``[x](y)`` shows as written).

Citation links: the answer's ``[n]`` markers become ``<a href="#nb-cite-<turn>-<n>">``; the sources
panel holds an element with that id per citation (the passage with the supporting sentence in a
``<mark>``). Plain anchor navigation already brings it into view; a small script (``CLICK_JS``)
scrolls smoothly and marks the chosen passage. Links with class ``nb-open`` open the article view
(:func:`article_html`): the stored article text with the cited sentences marked by their offsets.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.citations.markers import split_hedge
from bot.retrieval.names import name_keys
from ingest.text.textnorm import tokenize

# Interface strings newsbot adds around answers, in the question's language.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "sources": "Sources",
        "question": "Question",
        "empty_store": ("No articles yet. Add some in the Corpus tab (upload files), or run: newsbot ingest PATH"),
        "error": "Sorry, something went wrong",
        "no_sources": "Ask a question: the passages cited by the answer appear here.",
        "retrieved": "Retrieved passages",
        "nothing_retrieved": "No passage retrieved.",
        "rank": "#",
        "title": "Title",
        "score": "Fused",
        "dense": "Dense",
        "bm25": "BM25",
        "passage": "Passage",
        "not_located": "Supporting sentence:",
        "low_confidence": "Low confidence",
        "open_article": "Open article",
        "cited_in": "Cited as [{n}] in the answer to:",
        "also_cited": "Other sentences this answer cited from this article are marked too.",
        "quote_moved": "The cited sentence is no longer in this article (it changed since the answer was given).",
        "article_gone": "This article is no longer in the corpus.",
        "article_cut": "A long article: only the part around the cited sentence is shown.",
        "no_article": "Open an article from a citation in the chat, or from the Corpus tab.",
        "llm_busy": ("The LLM is busy with other questions; ask again in a moment, or choose the extractive answerer"),
    },
    "ar": {
        "sources": "المصادر",
        "question": "السؤال",
        "empty_store": "لا توجد مقالات بعد. أضف مقالات من تبويب Corpus (رفع ملفات)، أو شغّل: newsbot ingest PATH",
        "error": "عذرًا، حدث خطأ",
        "no_sources": "اطرح سؤالًا: ستظهر هنا المقاطع التي تستشهد بها الإجابة.",
        "retrieved": "المقاطع المسترجعة",
        "nothing_retrieved": "لم يُسترجع أي مقطع.",
        "rank": "#",
        "title": "العنوان",
        "score": "الدمج",
        "dense": "الكثيف",
        "bm25": "BM25",
        "passage": "المقطع",
        "not_located": "الجملة الداعمة:",
        "low_confidence": "ثقة منخفضة",
        "open_article": "فتح المقال",
        "cited_in": "مستشهد به [{n}] في الإجابة عن:",
        "also_cited": "الجمل الأخرى التي استشهدت بها هذه الإجابة من المقال نفسه معلَّمة أيضًا.",
        "quote_moved": "الجملة المستشهد بها لم تعد في هذا المقال (تغيّر بعد الإجابة).",
        "article_gone": "لم يعد هذا المقال في المدونة.",
        "article_cut": "مقال طويل: يُعرض الجزء المحيط بالجملة المستشهد بها فقط.",
        "no_article": "افتح مقالًا من استشهاد في المحادثة أو من تبويب Corpus.",
        "llm_busy": "النموذج اللغوي مشغول بأسئلة أخرى؛ أعد السؤال بعد قليل، أو اختر المجيب الاستخراجي",
    },
}

_MARKER = re.compile(r"\[(\d{1,3})\]")


def ui_lang(lang: str | None) -> str:
    """The interface language for a question language ("ar" or "en")."""
    return "ar" if lang == "ar" else "en"


def t(lang: str | None, key: str) -> str:
    return STRINGS[ui_lang(lang)][key]


def esc(text: Any) -> str:
    """Escape text for HTML content or a quoted attribute value (line breaks become spaces)."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return escaped.replace("\r", " ").replace("\n", " ")


def text_html(text: Any) -> str:
    """Escaped text with its line breaks kept as ``<br>`` (no blank line can end an HTML block)."""
    normalized = ("" if text is None else str(text)).replace("\r\n", "\n").replace("\r", "\n")
    return html.escape(normalized, quote=True).replace("\n", "<br>")


_WORD = re.compile(r"[^\W\d_][\w\u064b-\u065f\u0670]*")


def question_terms(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The question's name keys (which match across scripts: Haftar ↔ حفتر, bot.retrieval.names) and its
    words' terms (ingest.text.textnorm), for :func:`marked_html`."""
    return frozenset(name_keys(question)), frozenset(t for t in tokenize(question) if len(t) >= 3)


def marked_html(text: Any, terms: tuple[frozenset[str], frozenset[str]] | None = None) -> str:
    """:func:`text_html`, with each word that matches the question's names or terms (in any
    script) in ``<b class="nb-term">``: an English reader finds يفكيروف in an Arabic quote."""
    raw = "" if text is None else str(text)
    if not terms or not (terms[0] or terms[1]):
        return text_html(raw)
    keys, words = terms
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(raw):
        word = m.group()
        if (keys and not keys.isdisjoint(name_keys(word))) or (words and not words.isdisjoint(tokenize(word))):
            out.append(text_html(raw[last : m.start()]))
            out.append(f'<b class="nb-term">{text_html(word)}</b>')
            last = m.end()
    out.append(text_html(raw[last:]))
    return "".join(out)


def safe_url(url: Any) -> str | None:
    """The url if it is an absolute http(s) url, else None (javascript:, data:, relative, ...)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def cite_id(turn: int, n: int) -> str:
    """The element id of citation ``n`` of answer ``turn`` in the sources panel."""
    return f"nb-cite-{int(turn)}-{int(n)}"


def cite_link(turn: int, n: int) -> str:
    return f'<a class="nb-cite" href="#{cite_id(turn, n)}">[{int(n)}]</a>'


def link_markers(escaped: str, turn: int, valid: Iterable[int]) -> str:
    """Turn ``[n]`` markers of already-escaped text into citation links (only numbers in ``valid``)."""
    numbers = set(valid)

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return cite_link(turn, n) if n in numbers else m.group(0)

    return _MARKER.sub(repl, escaped)


# --------------------------------------------------------------------------- chat messages


def question_html(question: str) -> str:
    return f'<div class="nb-msg" dir="auto">{text_html(question)}</div>'


def streaming_html(text: str) -> str:
    """The raw text being written (markers not linked yet: they may still be renumbered)."""
    return f'<div class="nb-msg nb-streaming" dir="auto">{text_html(text)}&#8230;</div>'


def notice_result(question: str, text: str, lang: str | None, kind: str = "notice") -> dict[str, Any]:
    """A turn that got no answer (an error, the LLM busy, an empty store): kept in the
    conversation beside the answers so that turn ``i`` of the chat is always ``results[i]``."""
    return {"question": question, "language": ui_lang(lang), "notice": text, "kind": kind}


def is_notice(result: Mapping[str, Any]) -> bool:
    return "notice" in result


def notice_html(text: str, lang: str | None = None, kind: str = "notice") -> str:
    direction = "rtl" if ui_lang(lang) == "ar" else "ltr"
    return f'<div class="nb-msg nb-{esc(kind)}" dir="{direction}">{text_html(text)}</div>'


def answer_html(result: Mapping[str, Any], turn: int) -> str:
    """The final answer: escaped, each ``[n]`` a link, then a short list of the cited sources.

    A low-confidence answer shows its hedge apart, muted and labelled, above the closest sentence.
    """
    lang = ui_lang(result.get("language"))
    citations = list(result.get("citations") or [])
    hedge, answer = split_hedge(result)
    parts = []
    if hedge:
        parts.append(
            f'<div class="nb-hedge" dir="auto"><span class="nb-badge">{esc(t(lang, "low_confidence"))}</span> '
            f"{text_html(hedge)}</div>"
        )
    body = link_markers(marked_html(answer, question_terms(str(result.get("question") or ""))), turn, (c["n"] for c in citations))
    kind = "nb-answer nb-low" if hedge else "nb-answer"
    parts.append(f'<div class="nb-msg {kind}" dir="auto">{body}</div>')
    if citations:
        items = "".join(_source_item(c, turn) for c in citations)
        direction = "rtl" if lang == "ar" else "ltr"
        parts.append(
            f'<div class="nb-srcline" dir="{direction}"><strong>{esc(t(lang, "sources"))}</strong><ul>{items}</ul></div>'
        )
    return "".join(parts)


def chat_messages(results: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The chat's messages redrawn from its results (a chat restored from the browser)."""
    messages: list[dict[str, str]] = []
    for turn, r in enumerate(results):
        messages.append({"role": "user", "content": question_html(str(r.get("question") or ""))})
        if is_notice(r):
            content = notice_html(str(r.get("notice") or ""), r.get("language"), str(r.get("kind") or "notice"))
        else:
            content = answer_html(r, turn)
        messages.append({"role": "assistant", "content": content})
    return messages


def _source_item(citation: Mapping[str, Any], turn: int) -> str:
    """One line of the list under an answer: ``[n]`` (to the sources panel), the title (opens
    the article), the date."""
    title = open_link(f"<bdi>{esc(citation.get('title') or '')}</bdi>", turn=turn, n=citation["n"])
    date = f' <span class="nb-meta">({esc(citation["date"])})</span>' if citation.get("date") else ""
    return f"<li>{cite_link(turn, citation['n'])} {title}{date}</li>"


# --------------------------------------------------------------------------- sources panel


def find_loose(text: str, quote: str) -> tuple[int, int] | None:
    """Find ``quote`` in ``text`` allowing different runs of whitespace."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


def locate_quote(citation: Mapping[str, Any]) -> tuple[int, int] | None:
    """Offsets of the supporting sentence inside the citation's passage (``text``), or None.

    ``quote_start``/``quote_end`` are offsets in the article; the passage's own offset is not in
    the citation, so the quote is found in the passage text (exactly, else whitespace-tolerant).
    """
    text = str(citation.get("text") or "")
    quote = str(citation.get("quote") or "")
    if not quote:
        return None
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    return find_loose(text, quote)


def highlight_html(
    text: str, span: tuple[int, int] | None, quote: str = "", terms: tuple[frozenset[str], frozenset[str]] | None = None
) -> str:
    """The passage escaped, with the supporting sentence in ``<mark class="nb-quote">`` (the
    question's names and terms in it marked, see :func:`marked_html`).

    If the sentence could not be located in the passage, it is shown highlighted above the
    passage, so every citation still shows its sentence.
    """
    if span is None:
        if not quote:
            return text_html(text)
        return f'<mark class="nb-quote">{marked_html(quote, terms)}</mark><br><br>{text_html(text)}'
    s, e = span
    return f'{text_html(text[:s])}<mark class="nb-quote">{marked_html(text[s:e], terms)}</mark>{text_html(text[e:])}'


def meta_html(citation: Mapping[str, Any]) -> str:
    """Date · source · url (a link only if http(s); otherwise shown as text)."""
    bits = []
    for key in ("date", "source"):
        if citation.get(key):
            bits.append(f'<span class="nb-meta-{key}" dir="auto">{esc(citation[key])}</span>')
    raw = citation.get("url")
    if raw:
        url = safe_url(raw)
        if url:
            bits.append(
                f'<a class="nb-url" href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow" dir="ltr">{esc(url)}</a>'
            )
        else:
            bits.append(f'<span class="nb-url" dir="ltr">{esc(raw)}</span>')
    return " · ".join(bits)


def citation_html(
    citation: Mapping[str, Any],
    turn: int,
    terms: tuple[frozenset[str], frozenset[str]] | None = None,
    lang: str | None = "en",
) -> str:
    n = int(citation["n"])
    title = esc(citation.get("title") or "")
    meta = meta_html(citation)
    passage = highlight_html(str(citation.get("text") or ""), locate_quote(citation), str(citation.get("quote") or ""), terms)
    head = open_link(f'<span class="nb-n">[{n}]</span> <span class="nb-title">{title}</span>', turn=turn, n=n)
    return (
        f'<section class="nb-source" id="{cite_id(turn, n)}">'
        f'<div class="nb-source-head" dir="auto">{head} {language_html(citation.get("lang"))}</div>'
        + f'<div class="nb-meta">{meta + " · " if meta else ""}'
        f"{open_link(esc(t(lang, 'open_article')) + ' &#8599;', turn=turn, n=n)}</div>"
        + f'<div class="nb-passage" dir="auto">{passage}</div></section>'
    )


def turn_sources_html(result: Mapping[str, Any], turn: int) -> str:
    """The sources of one answer: heading in the question's language, then each citation."""
    lang = ui_lang(result.get("language"))
    direction = "rtl" if lang == "ar" else "ltr"
    citations = result.get("citations") or []
    head = (
        f'<div class="nb-turn-head"><strong>{esc(t(lang, "sources"))}</strong> '
        f'<bdi class="nb-turn-q">{esc(result.get("question", ""))}</bdi></div>'
    )
    if citations:
        terms = question_terms(str(result.get("question") or ""))
        body = "".join(citation_html(c, turn, terms, lang) for c in citations)
    else:
        body = f'<div class="nb-none" dir="auto">{text_html(result.get("answer", ""))}</div>'
    return f'<div class="nb-turn" id="nb-turn-{int(turn)}" dir="{direction}" lang="{lang}">{head}{body}</div>'


def sources_html(results: Sequence[Mapping[str, Any]]) -> str:
    """The sources panel: every answer of the conversation, newest first."""
    if not any(not is_notice(r) for r in results):
        return f'<div class="nb-sources nb-empty" dir="auto">{esc(t("en", "no_sources"))}</div>'
    turns = "".join(turn_sources_html(r, i) for i, r in reversed(list(enumerate(results))) if not is_notice(r))
    return f'<div class="nb-sources">{turns}</div>'


# --------------------------------------------------------------------------- article labels and links

#: Language names shown next to an article's title.
LANGUAGE_NAMES = {"ar": "Arabic · العربية", "en": "English"}


def language_html(lang: Any) -> str:
    """The article's language as a small label ("" when unknown)."""
    if not lang:
        return ""
    name = LANGUAGE_NAMES.get(str(lang), str(lang))
    return f'<span class="nb-lang" title="language">{esc(name)}</span>'


def open_link(label: str, *, turn: int | None = None, n: int | None = None, article_id: str | None = None) -> str:
    """A link that opens the article view: for citation ``n`` of answer ``turn``, or an article."""
    if article_id is not None:
        data = f'data-article="{esc(article_id)}"'
    else:
        data = f'data-turn="{int(turn or 0)}" data-n="{int(n or 0)}"'
    return f'<a class="nb-open" href="#nb-article" {data}>{label}</a>'
