"""Readers' 👍/👎 (bot/surfaces/feedback.py): the JSONL record, the web UI's handler that writes it, and
``newsbot feedback export`` → ``newsbot eval`` round trip on a real store with the bundled e5."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from articles import FERRY_TERMINAL as ARTICLE
from click.testing import CliRunner

from bot.surfaces import feedback as fb
from bot.surfaces.cli import cli


def result(**over) -> dict:
    r = {
        "question": "How much did the terminal cost?",
        "language": "en",
        "answer": "It cost twelve million euros, paid by the regional council. [1]",
        "confidence": "high",
        "abstained": False,
        "answerer": "extractive",
        "citations": [
            {
                "n": 1,
                "article_id": "a1",
                "title": "Ferry terminal",
                "chunk_id": "a1:0",
                "text": "passage",
                "quote": "It cost twelve million euros, paid by the regional council.",
                "quote_start": 120,
                "quote_end": 179,
                "date": "2024-05-02",
                "score": 0.9,
            }
        ],
        "retrieved": [{"text": "not kept in feedback"}],
    }
    r.update(over)
    return r


def test_record_keeps_question_history_answer_and_citation_offsets_only():
    earlier = [
        result(question="Where is the terminal?", answer="In Kellmouth. [1]"),
        {"question": "x", "notice": "busy", "kind": "notice"},
    ]
    rec = fb.make_record(result(), "down", history=earlier, reason="  wrong\nsource ", user="ana")
    assert rec["verdict"] == "down" and rec["reason"] == "wrong source" and rec["user"] == "ana"
    assert rec["history"] == [
        {"role": "user", "content": "Where is the terminal?"},
        {"role": "assistant", "content": "In Kellmouth. [1]"},
    ]  # the notice turn is not part of the conversation
    assert rec["citations"] == [
        {
            "n": 1,
            "article_id": "a1",
            "title": "Ferry terminal",
            "chunk_id": "a1:0",
            "quote": "It cost twelve million euros, paid by the regional council.",
            "quote_start": 120,
            "quote_end": 179,
        }
    ]
    assert "retrieved" not in rec and "ip" not in json.dumps(rec).lower().replace("ship", "")
    with pytest.raises(ValueError):
        fb.make_record(result(), "maybe")


def test_log_appends_whole_lines_from_many_threads_and_the_last_line_of_an_id_wins(tmp_path):
    log = fb.FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    records = [fb.make_record(result(question=f"q{i}?"), "up") for i in range(200)]
    threads = [threading.Thread(target=log.append, args=(r,)) for r in records]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.append({**records[0], "reason": "changed my mind"})
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 201 and all(json.loads(line)["id"] for line in lines)
    assert oct(os.stat(log.path).st_mode & 0o777) == "0o600"  # readers' questions stay private
    read = fb.read_records(log.path)
    assert len(read) == 200
    assert next(r for r in read if r["id"] == records[0]["id"])["reason"] == "changed my mind"


def test_a_damaged_line_is_named(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text(json.dumps(fb.make_record(result(), "up")) + '\n{"verdict": "up", "quest\n', encoding="utf-8")
    with pytest.raises(fb.FeedbackError, match=r"feedback.jsonl: line 2: invalid JSON"):
        fb.read_records(path)
    path.write_text('{"verdict": "sideways", "question": "q"}\n', encoding="utf-8")
    with pytest.raises(fb.FeedbackError, match=r"line 1: not a feedback record"):
        fb.read_records(path)


def test_export_maps_verdicts_to_questions_and_review():
    up = fb.make_record(result(), "up")
    up_abstained = fb.make_record(
        result(question="Who won the cup?", abstained=True, citations=[], answer="The articles don't say."), "up"
    )
    down_missing = fb.make_record(result(question="Who built it?"), "down", reason="Not in the articles")
    down_wrong = fb.make_record(
        result(question="When did it open?"), "down", reason="wrong answer", history=[result(question="Where?")]
    )
    questions, review = fb.to_questions([up, up_abstained, down_missing, down_wrong])
    assert [(q["question"], q["answerable"]) for q in questions] == [
        ("How much did the terminal cost?", True),
        ("Who won the cup?", False),
        ("Who built it?", False),
    ]
    assert questions[0]["gold"] == "It cost twelve million euros, paid by the regional council."
    assert questions[0]["gold_article"] == "Ferry terminal" and questions[0]["answers"] == []
    assert [r["question"] for r in review] == ["When did it open?"]
    assert review[0]["reason"] == "wrong answer" and review[0]["follow_up"] is True
    assert review[0]["history"][0] == {"role": "user", "content": "Where?"}


@pytest.fixture
def env(monkeypatch, tmp_path, model_dir):
    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(model_dir))  # the converted e5, shared by the tests
    monkeypatch.chdir(tmp_path)
    return tmp_path


def newsbot(db: Path, *args: str):
    out = CliRunner().invoke(cli, ["--db", str(db), *args])
    if out.exception is not None and not isinstance(out.exception, SystemExit):
        raise out.exception
    return out


@pytest.mark.slow
def test_thumbs_in_the_ui_export_to_a_questions_file_that_newsbot_eval_runs(env):
    """The UI handler writes the verdict (with the article offsets of what was cited), export
    turns it into questions, and `newsbot eval` scores them on the same store: the 👍 answer's
    cited sentence is found again, the 👎 "not in the articles" one is abstained on."""
    from bot.settings import Settings
    from bot.surfaces.web.handlers import Handlers
    from bot.wiring import App

    db = env / "db"
    (env / "terminal.md").write_text(ARTICLE, encoding="utf-8")
    assert newsbot(db, "ingest", "--quiet", str(env / "terminal.md")).exit_code == 0

    app = App(Settings(db=db))
    h = Handlers(app)
    results: list = []
    for question in ("How much did the Kellmouth ferry terminal cost?", "What is the boiling point of tungsten?"):
        *_, last = h.respond(question, 3, "extractive", [], results)
        results = last[2]
    assert results[0]["citations"], results[0]
    who = SimpleNamespace(username=None)
    row, record, results = h.feedback(results, SimpleNamespace(index=1, liked=True), who)
    assert record and record["verdict"] == "up"
    row, record, results = h.feedback(results, SimpleNamespace(index=3, liked=False), who)
    # The verdicts are noted in the results, so a chat restored from the browser shows them.
    assert [r["feedback"] for r in results] == ["Like", "Dislike"]
    h.feedback_reason(fb.NOT_IN_ARTICLES, record)
    h.feedback(results, SimpleNamespace(index=0, liked=True), who)  # a question message: ignored

    lines = [json.loads(x) for x in Settings(db=db).feedback_path().read_text(encoding="utf-8").splitlines()]
    assert [x["verdict"] for x in lines] == ["up", "down", "down"] and lines[2]["reason"] == fb.NOT_IN_ARTICLES
    cited = lines[0]["citations"][0]
    text = app.store.article_text(cited["article_id"])
    assert text[cited["quote_start"] : cited["quote_end"]] == cited["quote"]

    out = newsbot(db, "feedback", "export", str(env / "from-readers.jsonl"))
    assert out.exit_code == 0, out.output
    assert "3 verdicts" not in out.output and "2 verdicts" in out.output  # two ids (a reason re-sends one)
    assert "1 answerable, 1 unanswerable" in out.output
    scored = newsbot(db, "eval", str(env / "from-readers.jsonl"), "--k", "3", "--json")
    assert scored.exit_code == 0, scored.output
    summary = json.loads(scored.output)["all"]
    assert summary["citation_hit"] == 1.0 and summary["abstention_accuracy"] == 1.0
    assert summary["answer_hit"] is None  # no answer groups to score


def test_export_without_feedback_says_where_it_looked(env):
    out = newsbot(env / "db", "feedback", "export", str(env / "q.jsonl"))
    assert out.exit_code == 1 and "no feedback yet" in out.output and "feedback-news.jsonl" in out.output


def test_with_a_login_the_verdict_names_the_user(tmp_path):
    from bot.surfaces.web.handlers import Handlers

    path = tmp_path / "feedback.jsonl"
    app = SimpleNamespace(settings=SimpleNamespace(concurrency=2, feedback_path=lambda: path))
    h = Handlers(app)
    h.feedback([result()], SimpleNamespace(index=1, liked=False), SimpleNamespace(username="ana"))
    *_, taken_back = h.feedback([result()], SimpleNamespace(index=1, liked=None), SimpleNamespace(username="ana"))
    assert taken_back[0]["feedback"] is None
    [line] = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["user"] == "ana" and record["verdict"] == "down"
    assert record["citations"][0]["quote_start"] == 120 and record["citations"][0]["quote_end"] == 179
