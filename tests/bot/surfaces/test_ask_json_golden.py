"""Golden shape of ``newsbot ask --json``: the keys and their order, as they were when the result was
a hand-built dict (it is :class:`bot.answering.contract.AnswerResult` now, dumped at the CLI).

The real bundled embedder over the fixture articles of ``tests/articles.py``, through the CLI's
entry point in-process. No scores are asserted (they are tuned elsewhere): only the structure, and
that each quote is the cited passage's own sentence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from articles import write_articles
from click.testing import CliRunner

from bot.answering.contract import AnswerResult
from bot.surfaces.cli import cli

TOP_KEYS = ["question", "answer", "abstained", "confidence", "language", "citations", "retrieved", "timings_ms", "answerer"]
# Present only when they apply, always in this order after the keys above.
OPTIONAL_KEYS = ["hedge", "standalone_question", "conversation", "dropped_claims", "dropped_citations", "evidence"]
CITATION_KEYS = [
    "n",
    "article_id",
    "title",
    "date",
    "source",
    "url",
    "lang",
    "chunk_id",
    "text",
    "quote",
    "quote_start",
    "quote_end",
    "score",
]
RETRIEVED_KEYS = ["rank", "chunk_id", "article_id", "title", "text", "score", "dense", "bm25"]


@pytest.fixture
def db(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(model_dir))  # the e5 conversion shared by the session
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "db"
    write_articles(tmp_path / "articles")
    ingest = CliRunner().invoke(cli, ["--db", str(db), "ingest", str(tmp_path / "articles")])
    assert ingest.exit_code == 0, ingest.output
    return db


def ask_json(db: Path, *args: str) -> dict:
    out = CliRunner().invoke(cli, ["--db", str(db), "ask", "--json", *args])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def assert_golden_shape(result: dict) -> None:
    keys = list(result)
    assert keys[: len(TOP_KEYS)] == TOP_KEYS, keys
    assert keys[len(TOP_KEYS) :] == [k for k in OPTIONAL_KEYS if k in result], keys
    assert list(result["timings_ms"]) == ["retrieve", "answer"]
    for r in result["retrieved"]:
        assert list(r) == RETRIEVED_KEYS
    for c in result["citations"]:
        assert list(c) == CITATION_KEYS
        assert c["quote"] and c["quote"] in c["text"], c
        assert c["chunk_id"] in {r["chunk_id"] for r in result["retrieved"]}
    # The JSON is the model's: it reads back into it and dumps to the same keys, order and values.
    assert AnswerResult.model_validate(result).to_json() == result
    assert json.dumps(AnswerResult.model_validate(result).to_json()) == json.dumps(result)


@pytest.mark.slow  # the real e5 embedder
def test_ask_json_keys_and_order(db: Path, tmp_path: Path) -> None:
    first = ask_json(db, "How much drinking water does the Port Lumen plant produce per day?")
    assert_golden_shape(first)
    assert first["retrieved"] and first["abstained"] is False and first["citations"]
    assert first["citations"][0]["title"].startswith("Port Lumen")
    assert ("hedge" in first) is (first["confidence"] == "low")
    assert "evidence" in first and "conversation" not in first and "standalone_question" not in first

    # A follow-up asked with the earlier result as history: "conversation" joins, in its place.
    (tmp_path / "history.json").write_text(json.dumps([first]), encoding="utf-8")
    follow = ask_json(db, "--history", str(tmp_path / "history.json"), "Who cut the ribbon at its opening?")
    assert_golden_shape(follow)
    assert list(follow["conversation"]) == ["context", "articles"]

    # Nothing about it in the articles: an abstention keeps every key above, with no citations.
    none = ask_json(db, "--source", "No Such Source", "What is the boiling point of tungsten?")
    assert_golden_shape(none)
    assert none["abstained"] is True and none["citations"] == none["retrieved"] == [] and none["confidence"] == "none"
