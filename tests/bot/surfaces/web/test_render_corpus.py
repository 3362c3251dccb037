"""The corpus tab and the retrieval debug view (bot.surfaces.web.render_corpus): the article table
and its choices, example questions, the ingest report, the retrieved passages."""

from __future__ import annotations

from bot.answering.contract import RetrievedPassage
from bot.surfaces.web import render_corpus as fmt_corpus


def test_retrieved_table_escapes_and_formats_scores(hostile_text, assert_inert):
    rows = [
        RetrievedPassage(
            rank=1, chunk_id="a:b:0", article_id="a", title=hostile_text, text="x" * 500, score=0.0163934, dense=0.78, bm25=None
        )
    ]
    out = fmt_corpus.retrieved_html(rows)
    assert_inert(out)
    assert "0.0164" in out and "0.7800" in out and "–" in out and "…" in out


def test_example_questions_follow_the_article_language_newest_first(record):
    recs = [record("Old story", "en", "2020-01-01"), record("خبر جديد", "ar", "2024-06-03"), record("Mid", "en", "2022-01-01")]
    qs = fmt_corpus.example_questions(recs, limit=2)
    assert qs == ["ماذا جاء في خبر «خبر جديد»؟", "What does the article “Mid” report?"]
    assert fmt_corpus.example_questions([]) == []


def test_article_table_and_choices(hostile_text, assert_inert, record):
    recs = [record("A title", "en", source=None, date=None), record(hostile_text, "ar", source="<b>x</b>")]
    out = fmt_corpus.articles_html(recs)
    parsed = assert_inert(out)
    assert "2 articles" in out and hostile_text in "".join(parsed.text) and "<td>3</td>" in out
    assert out.count('<td dir="auto">') == 4
    assert "Corpus tab" in fmt_corpus.articles_html([])
    assert fmt_corpus.article_choices(recs[:1]) == [("A title (-, id-A t)", "id-A t")]


def test_ingest_report_lists_each_failure_with_its_reason():
    from ingest.pipeline import FileFailure, IngestReport

    rep = IngestReport(ingested=1, chunks=4, failures=[FileFailure("/tmp/gradio/x/bad<b>.pdf", "not a PDF")])
    out = fmt_corpus.ingest_report_html(rep, {"/tmp/gradio/x/bad<b>.pdf": "bad<b>.pdf"})
    assert "ingested 1 articles (4 chunks)" in out
    assert "<li>bad&lt;b&gt;.pdf: not a PDF</li>" in out
