"""The article view: a whole article (or a window of a long one) with its cited sentences marked. Pure, like :mod:`bot.surfaces.web.render`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.surfaces.web.render import esc, find_loose, language_html, marked_html, meta_html, question_terms, t, text_html, ui_lang

#: Longest article text the article view renders whole; a longer one shows this much around the
#: cited sentence (a browser slows down on megabytes of marked-up text).
ARTICLE_VIEW_MAX_CHARS = 120_000
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAK = re.compile(r"\n\s*")


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
    return find_loose(text, quote)


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
    text: str,
    span: tuple[int, int],
    marks: Sequence[tuple[int, int, int, bool]],
    terms: tuple[frozenset[str], frozenset[str]] | None,
    focus_done: list[bool],
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
