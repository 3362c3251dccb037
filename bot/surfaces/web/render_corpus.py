"""The corpus tab and the retrieval-debug table: articles, example questions, ingest reports. Pure, like :mod:`bot.surfaces.web.render`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.answering.contract import RetrievedPassage
from bot.surfaces.web.render import esc, open_link, t, text_html


def _num(x: Any) -> str:
    return "–" if x is None else f"{float(x):.4f}"


def retrieved_html(retrieved: Sequence[RetrievedPassage], lang: str | None = "en", snippet: int = 240) -> str:
    """The retrieval-debug table: rank, title, scores and the start of each passage."""
    if not retrieved:
        return f'<div class="nb-debug" dir="auto">{esc(t(lang, "nothing_retrieved"))}</div>'
    head = "".join(f"<th>{esc(t(lang, k))}</th>" for k in ("rank", "title", "score", "dense", "bm25", "passage"))
    rows = []
    for p in retrieved:
        short = p.text if len(p.text) <= snippet else p.text[:snippet].rstrip() + "…"
        rows.append(
            f'<tr><td>{esc(p.rank)}</td><td dir="auto">{esc(p.title)}</td>'
            f"<td>{_num(p.score)}</td><td>{_num(p.dense)}</td><td>{_num(p.bm25)}</td>"
            f'<td dir="auto">{text_html(short)}</td></tr>'
        )
    return f'<div class="nb-debug"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


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
