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
scrolls smoothly and marks the chosen passage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.citations import split_hedge
from bot.names import name_keys
from bot.textnorm import tokenize

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
    """The question's name keys (which match across scripts: Haftar ↔ حفتر, bot.names) and its
    words' terms (bot.textnorm), for :func:`marked_html`."""
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
        items = "".join(
            f"<li>{cite_link(turn, c['n'])} <bdi>{esc(c.get('title') or '')}</bdi>"
            + (f' <span class="nb-meta">({esc(c["date"])})</span>' if c.get("date") else "")
            + "</li>"
            for c in citations
        )
        direction = "rtl" if lang == "ar" else "ltr"
        parts.append(
            f'<div class="nb-srcline" dir="{direction}"><strong>{esc(t(lang, "sources"))}</strong>'
            f"<ul>{items}</ul></div>"
        )
    return "".join(parts)


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
    citation: Mapping[str, Any], turn: int, terms: tuple[frozenset[str], frozenset[str]] | None = None
) -> str:
    n = int(citation["n"])
    title = esc(citation.get("title") or "")
    meta = meta_html(citation)
    passage = highlight_html(
        str(citation.get("text") or ""), locate_quote(citation), str(citation.get("quote") or ""), terms
    )
    return (
        f'<section class="nb-source" id="{cite_id(turn, n)}">'
        f'<div class="nb-source-head" dir="auto"><span class="nb-n">[{n}]</span> <span class="nb-title">{title}</span></div>'
        + (f'<div class="nb-meta">{meta}</div>' if meta else "")
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
        body = "".join(citation_html(c, turn, terms) for c in citations)
    else:
        body = f'<div class="nb-none" dir="auto">{text_html(result.get("answer", ""))}</div>'
    return f'<div class="nb-turn" id="nb-turn-{int(turn)}" dir="{direction}" lang="{lang}">{head}{body}</div>'


def sources_html(results: Sequence[Mapping[str, Any]]) -> str:
    """The sources panel: every answer of the conversation, newest first."""
    if not results:
        return f'<div class="nb-sources nb-empty" dir="auto">{esc(t("en", "no_sources"))}</div>'
    turns = "".join(turn_sources_html(r, i) for i, r in reversed(list(enumerate(results))))
    return f'<div class="nb-sources">{turns}</div>'


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
        f'<tr><td dir="auto">{esc(r.title)}</td><td>{esc(r.date or "")}</td>'
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
