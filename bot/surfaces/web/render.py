"""Pure formatting for the web UI: chain results → HTML strings. No Gradio, no I/O.

Everything that comes from an article (title, text, source, url, and the extractive answer, which
is article text too) is data: it is HTML-escaped before it is put into markup, and only http(s)
urls become links. Markup newsbot adds is built here and nowhere else, so the escaping can be
tested in one place (tests/test_ui_format.py).

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
        "empty_store": (
            "No articles yet. Add some in the Corpus tab (upload files), "
            "or run: newsbot ingest PATH"
        ),
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
        "llm_busy": (
            "The LLM is busy with other questions; ask again in a moment, or choose the extractive answerer"
        ),
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
    body = link_markers(marked_html(answer, question_terms(str(result.get("question") or ""))), turn,
                        (c["n"] for c in citations))
    kind = "nb-answer nb-low" if hedge else "nb-answer"
    parts.append(f'<div class="nb-msg {kind}" dir="auto">{body}</div>')
    if citations:
        items = "".join(_source_item(c, turn) for c in citations)
        direction = "rtl" if lang == "ar" else "ltr"
        parts.append(
            f'<div class="nb-srcline" dir="{direction}"><strong>{esc(t(lang, "sources"))}</strong>'
            f"<ul>{items}</ul></div>"
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


def _find_loose(text: str, quote: str) -> tuple[int, int] | None:
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
    return _find_loose(text, quote)


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
                f'<a class="nb-url" href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow"'
                f' dir="ltr">{esc(url)}</a>'
            )
        else:
            bits.append(f'<span class="nb-url" dir="ltr">{esc(raw)}</span>')
    return " · ".join(bits)


def citation_html(
    citation: Mapping[str, Any], turn: int, terms: tuple[frozenset[str], frozenset[str]] | None = None,
    lang: str | None = "en",
) -> str:
    n = int(citation["n"])
    title = esc(citation.get("title") or "")
    meta = meta_html(citation)
    passage = highlight_html(
        str(citation.get("text") or ""), locate_quote(citation), str(citation.get("quote") or ""), terms
    )
    head = open_link(f'<span class="nb-n">[{n}]</span> <span class="nb-title">{title}</span>', turn=turn, n=n)
    return (
        f'<section class="nb-source" id="{cite_id(turn, n)}">'
        f'<div class="nb-source-head" dir="auto">{head} {language_html(citation.get("lang"))}</div>'
        + f'<div class="nb-meta">{meta + " · " if meta else ""}'
        f'{open_link(esc(t(lang, "open_article")) + " &#8599;", turn=turn, n=n)}</div>'
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


# --------------------------------------------------------------------------- article view

#: Language names shown next to an article's title.
LANGUAGE_NAMES = {"ar": "Arabic · العربية", "en": "English"}

#: Longest article text the article view renders whole; a longer one shows this much around the
#: cited sentence (a browser slows down on megabytes of marked-up text).
ARTICLE_VIEW_MAX_CHARS = 120_000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAK = re.compile(r"\n\s*")


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


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of an article text: blocks between blank lines, or lines
    when the text has no blank line. Offsets are into ``text``; blank space is left out."""
    breaks = _PARAGRAPH_BREAK if _PARAGRAPH_BREAK.search(text) else _LINE_BREAK
    spans: list[tuple[int, int]] = []
    start = 0
    for m in breaks.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def locate_in_article(text: str, citation: Mapping[str, Any]) -> tuple[int, int] | None:
    """Offsets of the citation's sentence in the article text: its own offsets when they still
    hold the sentence, else wherever the sentence is now (whitespace-tolerant), else None."""
    quote = str(citation.get("quote") or "")
    if not quote:
        return None
    s, e = citation.get("quote_start"), citation.get("quote_end")
    if isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text) and text[s:e] == quote:
        return s, e
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    return _find_loose(text, quote)


def _window(text: str, centre: int, size: int) -> tuple[int, int]:
    """A span of about ``size`` characters of ``text`` around ``centre``, cut at line breaks."""
    if len(text) <= size:
        return 0, len(text)
    start = max(0, min(centre - size // 2, len(text) - size))
    end = start + size
    if start > 0:
        nl = text.find("\n", start)
        start = nl + 1 if 0 <= nl < centre else start
    if end < len(text):
        nl = text.rfind("\n", centre, end)
        end = nl if nl > centre else end
    return start, end


def _marked_paragraph(
    text: str, span: tuple[int, int], marks: Sequence[tuple[int, int, int, bool]],
    terms: tuple[frozenset[str], frozenset[str]] | None, focus_done: list[bool],
) -> str:
    s, e = span
    out: list[str] = []
    pos = s
    for ms, me, n, focus in marks:
        a, b = max(ms, s), min(me, e)
        if a >= b:
            continue
        if a > pos:
            out.append(text_html(text[pos:a]))
        attrs = f'class="nb-quote{" nb-focus" if focus else " nb-also"}" data-n="{int(n)}"'
        if focus and not focus_done[0]:
            attrs += ' id="nb-article-focus"'
            focus_done[0] = True
        out.append(f"<mark {attrs}>{marked_html(text[a:b], terms)}</mark>")
        if not focus:
            out.append(f'<sup class="nb-also-n">[{int(n)}]</sup>')
        pos = b
    if pos < e:
        out.append(text_html(text[pos:e]))
    return "".join(out)


def article_html(
    record: Mapping[str, Any] | None,
    text: str | None,
    *,
    citations: Sequence[Mapping[str, Any]] = (),
    focus: int | None = None,
    question: str = "",
    lang: str | None = "en",
) -> str:
    """The article view: headline, language, date · source · link, then the article text by
    paragraph (each laid out in its own direction), with the sentence of citation ``focus``
    highlighted (``#nb-article-focus``) and the other ``citations`` of the same answer from this
    article marked too. ``question`` names the answer (its names and terms are marked in the
    sentences, see :func:`marked_html`). Offsets are into the stored article text, so this is the
    same for every file format."""
    ui = ui_lang(lang)
    if record is None or text is None:
        return f'<div class="nb-article nb-empty" dir="auto">{esc(t(ui, "article_gone"))}</div>'
    marks: list[tuple[int, int, int, bool]] = []
    missing = False
    for c in citations:
        span = locate_in_article(text, c)
        if span is None:
            missing = missing or c.get("n") == focus
            continue
        marks.append((span[0], span[1], int(c.get("n") or 0), c.get("n") == focus))
    marks.sort()
    notes: list[str] = []
    if focus is not None:
        notes.append(f'{esc(t(ui, "cited_in").format(n=int(focus)))} <bdi class="nb-article-q">{esc(question)}</bdi>')
        if len(marks) > 1 or (len(marks) == 1 and not marks[0][3]):
            notes.append(esc(t(ui, "also_cited")))
    if missing:
        notes.append(esc(t(ui, "quote_moved")))
    window = (0, len(text))
    if len(text) > ARTICLE_VIEW_MAX_CHARS:
        centre = next((m[0] for m in marks if m[3]), marks[0][0] if marks else 0)
        window = _window(text, centre, ARTICLE_VIEW_MAX_CHARS)
        notes.append(esc(t(ui, "article_cut")))
    terms = question_terms(question) if question else None
    focus_done = [False]
    body = "".join(
        f'<p dir="auto">{_marked_paragraph(text, (max(s, window[0]), min(e, window[1])), marks, terms, focus_done)}</p>'
        for s, e in paragraphs(text)
        if e > window[0] and s < window[1]
    )
    meta = meta_html(record)
    direction = "rtl" if ui == "ar" else "ltr"
    return (
        f'<article class="nb-article" data-article="{esc(record.get("id") or "")}">'
        f'<header class="nb-article-head"><h3 class="nb-article-title" dir="auto">{esc(record.get("title") or "")}</h3>'
        f"{language_html(record.get('lang'))}"
        + (f'<div class="nb-meta">{meta}</div>' if meta else "")
        + "".join(f'<div class="nb-article-note" dir="{direction}">{n}</div>' for n in notes)
        + f'</header><div class="nb-article-body">{body}</div></article>'
    )


def article_placeholder_html() -> str:
    return (
        f'<div class="nb-article nb-empty"><div dir="ltr">{esc(t("en", "no_article"))}</div>'
        f'<div dir="rtl">{esc(t("ar", "no_article"))}</div></div>'
    )


# --------------------------------------------------------------------------- debug view


def _num(x: Any) -> str:
    return "–" if x is None else f"{float(x):.4f}"


def retrieved_html(retrieved: Sequence[Mapping[str, Any]], lang: str | None = "en", snippet: int = 240) -> str:
    """The retrieval-debug table: rank, title, scores and the start of each passage."""
    if not retrieved:
        return f'<div class="nb-debug" dir="auto">{esc(t(lang, "nothing_retrieved"))}</div>'
    head = "".join(f"<th>{esc(t(lang, k))}</th>" for k in ("rank", "title", "score", "dense", "bm25", "passage"))
    rows = []
    for p in retrieved:
        text = str(p.get("text") or "")
        short = text if len(text) <= snippet else text[:snippet].rstrip() + "…"
        rows.append(
            f"<tr><td>{esc(p.get('rank'))}</td><td dir=\"auto\">{esc(p.get('title') or '')}</td>"
            f"<td>{_num(p.get('score'))}</td><td>{_num(p.get('dense'))}</td><td>{_num(p.get('bm25'))}</td>"
            f'<td dir="auto">{text_html(short)}</td></tr>'
        )
    return (
        f'<div class="nb-debug"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


# --------------------------------------------------------------------------- corpus tab


def articles_html(records: Sequence[Any]) -> str:
    """The article table of the corpus tab (title, date, source, language, chunks, id)."""
    if not records:
        return f'<div class="nb-articles nb-empty">{esc(t("en", "empty_store"))}</div>'
    head = "".join(f"<th>{h}</th>" for h in ("Title", "Date", "Source", "Language", "Chunks", "Id"))
    rows = "".join(
        f'<tr><td dir="auto">{open_link(esc(r.title), article_id=r.id)}</td><td>{esc(r.date or "")}</td>'
        f'<td dir="auto">{esc(r.source or "")}</td><td>{esc(r.lang or "")}</td>'
        f"<td>{int(r.chunks)}</td><td><code>{esc(r.id)}</code></td></tr>"
        for r in records
    )
    return (
        f'<div class="nb-articles"><p>{len(records)} articles</p><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def article_choices(records: Iterable[Any]) -> list[tuple[str, str]]:
    """(label, article id) pairs for the remove dropdown."""
    out = []
    for r in records:
        title = r.title if len(r.title) <= 80 else r.title[:79] + "…"
        out.append((f"{title} ({r.date or '-'}, {r.id})", r.id))
    return out


def example_questions(records: Sequence[Any], limit: int = 4) -> list[str]:
    """Generic example questions for the newest articles, in each article's language."""
    ordered = sorted(records, key=lambda r: (r.date or "", r.title), reverse=True)
    out = []
    for r in ordered[:limit]:
        title = " ".join(str(r.title).split())
        if len(title) > 90:
            title = title[:89] + "…"
        if r.lang == "ar":
            out.append(f"ماذا جاء في خبر «{title}»؟")
        else:
            out.append(f"What does the article “{title}” report?")
    return out


def ingest_report_html(report: Any, names: Mapping[str, str]) -> str:
    """Per-file result lines of an upload (failures with their reason, as the CLI prints them)."""
    lines = [
        f"<li>{esc(names.get(f.path, f.path))}{esc(' ' + f.where) if getattr(f, 'where', None) else ''}: {esc(f.reason)}</li>"
        for f in report.failures
    ]
    summary = f"<p>{esc(report.summary())}</p>"
    if lines:
        return f'<div class="nb-ingest">{summary}<p>failed:</p><ul>{"".join(lines)}</ul></div>'
    return f'<div class="nb-ingest">{summary}</div>'
