# Over 400 lines: every CLI command's cases share the `newsbot` runner helper and the ingested-samples fixture at the top.
"""The command line through its real entry points: click's CliRunner on ``bot.surfaces.cli.cli`` and, for a
smoke test, the installed ``newsbot`` script in a subprocess. Fake embedder, a temp ``--db``.

Covers ``ingest`` (exit codes 0/1/2, the summary line, bad files named, re-ingest unchanged),
``list --json``, ``remove``, ``ask`` (``--json`` contract, filters, history, empty store) and
``eval`` (metrics per language, ``--out`` JSONL, a bad questions file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from articles import PORT_LUMEN_SHORT as ARTICLE
from click.testing import CliRunner, Result
from helpers import ROOT

from bot.surfaces.cli import cli
from prompts.templates import ABSTAIN_MESSAGES

SAMPLES = ROOT / "samples"
SUMMARY = re.compile(r"^ingested (\d+) articles \((\d+) chunks\), unchanged (\d+), failed (\d+)$", re.MULTILINE)

# The sample folder: 5 files (one JSON Lines file with 2 records) and a README that is skipped.
SAMPLE_ARTICLES = 6

QUESTIONS = [
    {
        "id": "en-1",
        "lang": "en",
        "question": "Who won the Port Halden Marathon?",
        "answerable": True,
        "answers": [["Lemaiyan"]],
        "gold": "Joseph Lemaiyan won the Port Halden Marathon",
    },
    {"id": "en-2", "lang": "en", "question": "What is the boiling point of tungsten?", "answerable": False},
    {
        "id": "ar-1",
        "lang": "ar",
        "question": "كم عدد المتفرجين في مباراة الشروق والنجوم؟",
        "answerable": True,
        "answers": [["28 ألف"]],
        "gold": "نحو 28 ألف متفرج",
    },
    {"id": "ar-2", "lang": "ar", "question": "ما هي درجة غليان التنغستن؟", "answerable": False},
]
METRICS = ("retrieval_hit@", "citation_hit", "answer_hit", "abstention_accuracy", "false_abstention", "latency")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No NEWSBOT_* settings from outside and no .env file (Settings reads both)."""
    for key in list(os.environ):
        if key.startswith("NEWSBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "db"


def newsbot(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", str(db), "--embedding", "fake", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash, not an exit code
    return result


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output


@pytest.fixture
def ingested(db: Path) -> Path:
    result = newsbot(db, "ingest", str(SAMPLES))
    assert result.exit_code == 0, result.output
    return db


def articles(db: Path) -> list[dict[str, Any]]:
    result = newsbot(db, "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- ingest


def test_ingest_good_files_exit_0_with_summary(db: Path) -> None:
    result = newsbot(db, "ingest", str(SAMPLES))
    assert result.exit_code == 0, result.output
    m = SUMMARY.search(result.stdout)
    assert m, result.stdout
    ingested, chunks, unchanged, failed = map(int, m.groups())
    assert (ingested, unchanged, failed) == (SAMPLE_ARTICLES, 0, 0)
    assert chunks >= ingested
    assert result.stderr.strip() == ""


def test_reingest_says_unchanged(ingested: Path) -> None:
    result = newsbot(ingested, "ingest", str(SAMPLES))
    assert result.exit_code == 0, result.output
    assert SUMMARY.search(result.stdout).groups() == ("0", "0", str(SAMPLE_ARTICLES), "0")


def test_ingest_with_bad_file_exit_1_names_it(tmp_path: Path, db: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.md").write_text(ARTICLE, encoding="utf-8")
    bad = folder / "broken.json"
    bad.write_text('{"title": "x", "text": ', encoding="utf-8")
    empty = folder / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = newsbot(db, "ingest", str(folder))
    assert result.exit_code == 1, result.output
    assert_no_traceback(result)
    assert SUMMARY.search(result.stdout).groups() == ("1", "1", "0", "2"), result.stdout
    failed_lines = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert any(str(bad) in line and "invalid JSON" in line for line in failed_lines), result.stderr
    assert any(str(empty) in line and "empty file" in line for line in failed_lines), result.stderr
    # The good file beside them was ingested.
    assert [a["title"] for a in articles(db)] == ["Port Lumen opens desalination plant"]


def test_ingest_keeps_good_records_beside_bad_ones_and_names_each(tmp_path: Path, db: Path) -> None:
    """A bad JSON Lines line, a reserved id, an id met twice (in one file and across files) and a
    file name that is not UTF-8: each named on its own line, everything else ingested once."""
    folder = tmp_path / "in"
    folder.mkdir()

    def record(rid: str, what: str) -> str:
        return json.dumps(
            {
                "id": rid,
                "title": f"The {what} report",
                "text": f"The {what} report was published on Monday. It covers the harbour.",
            }
        )

    (folder / "a-feed.jsonl").write_text(
        "\n".join(
            [
                record("one", "first"),
                '{"id": "two", "text": ',
                record("__generation__", "sneaky"),
                record("three", "third"),
                record("one", "repeated"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / "b-more.json").write_text(
        json.dumps([json.loads(record("three", "clashing")), json.loads(record("four", "fourth"))]), encoding="utf-8"
    )
    odd = os.fsdecode(os.fsencode(str(folder)) + b"/c-caf\xe9.md")
    Path(odd).write_text(ARTICLE, encoding="utf-8")
    result = newsbot(db, "ingest", str(folder))
    assert result.exit_code == 1, result.output
    assert_no_traceback(result)
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    feed, more = folder / "a-feed.jsonl", folder / "b-more.json"
    assert any(line.startswith(f"failed: {feed} line 2: invalid JSON") for line in failed), failed
    assert any(line.startswith(f"failed: {feed} line 3: id '__generation__' is reserved") for line in failed), failed
    assert any(line.startswith(f"failed: {feed} id one: ") and "earlier in this file" in line for line in failed), failed
    assert any(line.startswith(f"failed: {more} id three: ") and f"from {feed}" in line for line in failed), failed
    assert len(failed) == 4, failed
    assert SUMMARY.search(result.stdout).groups()[::2] == ("4", "0"), result.stdout
    stored = {a["id"]: a for a in articles(db)}
    assert {"one", "three", "four"} <= set(stored) and len(stored) == 4
    assert stored["one"]["title"] == "The first report" and stored["three"]["title"] == "The third report"
    (md,) = [a for a in stored.values() if a["id"] not in ("one", "three", "four")]
    assert md["path"].endswith("c-caf\\xe9.md")


def test_ingest_missing_path_exit_1(tmp_path: Path, db: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = newsbot(db, "ingest", str(missing))
    assert result.exit_code == 1
    assert f"failed: {missing}: no such file or folder" in result.stderr
    assert SUMMARY.search(result.stdout).groups() == ("0", "0", "0", "1")


def test_ingest_json_summary(tmp_path: Path, db: Path) -> None:
    (tmp_path / "a.md").write_text(ARTICLE, encoding="utf-8")
    result = newsbot(db, "ingest", "--json", str(tmp_path / "a.md"))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ingested"] == 1 and report["failed"] == 0 and len(report["articles"]) == 1


@pytest.mark.parametrize(
    "argv",
    [["ingest"], ["ask"], ["eval"], ["remove"], ["--embedding", "bogus", "list"], ["ask", "q", "--k", "0"]],
)
def test_usage_errors_exit_2(db: Path, argv: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), *argv])
    assert result.exit_code == 2, (argv, result.output)
    assert_no_traceback(result)
    assert "Usage" in result.output or "Error" in result.output


# --------------------------------------------------------------------------- list / remove


def test_list_json_and_remove(ingested: Path) -> None:
    records = articles(ingested)
    assert len(records) == SAMPLE_ARTICLES
    for r in records:
        assert {"id", "title", "date", "source", "lang", "url", "path", "chunks"} <= set(r)
        assert r["chunks"] >= 1
    ids = {r["id"] for r in records}
    assert "demo-sport-port-halden-marathon-2024" in ids
    assert {r["lang"] for r in records} == {"ar", "en"}

    result = newsbot(ingested, "remove", "demo-sport-port-halden-marathon-2024")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "removed demo-sport-port-halden-marathon-2024"
    assert {r["id"] for r in articles(ingested)} == ids - {"demo-sport-port-halden-marathon-2024"}

    again = newsbot(ingested, "remove", "demo-sport-port-halden-marathon-2024")
    assert again.exit_code == 1
    assert "no article with id" in again.stderr


def test_list_plain_text(ingested: Path, tmp_path: Path) -> None:
    result = newsbot(ingested, "list")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == f"{SAMPLE_ARTICLES} articles"
    empty = newsbot(tmp_path / "empty-db", "list")
    assert empty.exit_code == 0 and "no articles yet" in empty.stdout


# --------------------------------------------------------------------------- ask


def test_ask_json_prints_one_contract_object(ingested: Path) -> None:
    result = newsbot(ingested, "ask", "--json", "Who won the Port Halden Marathon?")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)  # exactly one JSON value, nothing else on stdout
    assert isinstance(obj, dict)
    assert {"question", "answer", "abstained", "confidence", "language", "citations", "retrieved", "timings_ms"} <= set(obj)
    assert obj["question"] == "Who won the Port Halden Marathon?"
    assert obj["language"] == "en"
    assert isinstance(obj["abstained"], bool)
    assert set(obj["timings_ms"]) >= {"retrieve", "answer"}
    assert 1 <= len(obj["retrieved"]) <= 5
    for r in obj["retrieved"]:
        assert {"rank", "chunk_id", "article_id", "title", "text", "score"} <= set(r)
    for c in obj["citations"]:
        assert {
            "n",
            "article_id",
            "title",
            "date",
            "source",
            "url",
            "chunk_id",
            "text",
            "quote",
            "quote_start",
            "quote_end",
        } <= set(c)
        assert c["quote"] in c["text"]
    assert obj["abstained"] or obj["citations"]


@pytest.mark.parametrize(
    "question",
    ["Who won the Port Halden Marathon?", "When was the marathon winner born?", "ما هي درجة غليان التنغستن؟"],
)
def test_ask_confidence_in_json_and_in_text(ingested: Path, question: str) -> None:
    """`confidence` is high, low or none; low answers start with the hedge (also in `hedge`) and
    keep their citations; the text form prints the hedge on a line of its own above the sentence."""
    obj = json.loads(newsbot(ingested, "ask", "--json", question).stdout)
    assert obj["confidence"] in ("high", "low", "none")
    assert obj["abstained"] is (obj["confidence"] == "none")
    lines = newsbot(ingested, "ask", question).stdout.splitlines()
    if obj["confidence"] == "none":
        assert obj["citations"] == [] and lines[0] == ABSTAIN_MESSAGES[obj["language"]]
    elif obj["confidence"] == "low":
        assert obj["citations"] and obj["answer"].startswith(obj["hedge"] + " ")
        assert lines[0] == obj["hedge"] and lines[1] == obj["answer"][len(obj["hedge"]) + 1 :]
    else:
        assert obj["citations"] and "hedge" not in obj and lines[0] == obj["answer"]


def test_ask_plain_text_lists_sources(ingested: Path) -> None:
    result = newsbot(ingested, "ask", "Who won the Port Halden Marathon?")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.strip()
    if "Sources:" in out:
        assert re.search(r"^\[1\] ", out, re.MULTILINE)


def test_ask_k_and_filters(ingested: Path) -> None:
    by_id = {r["id"]: r for r in articles(ingested)}
    result = newsbot(ingested, "ask", "--json", "--k", "2", "Who won the Port Halden Marathon?")
    assert len(json.loads(result.stdout)["retrieved"]) <= 2

    result = newsbot(ingested, "ask", "--json", "--source", "Newsbot demo desk", "What happened?")
    got = {r["article_id"] for r in json.loads(result.stdout)["retrieved"]}
    assert got and all(by_id[a]["source"] == "Newsbot demo desk" for a in got)

    result = newsbot(ingested, "ask", "--json", "--since", "2024-07-01", "What happened?")
    got = {r["article_id"] for r in json.loads(result.stdout)["retrieved"]}
    assert got and all(by_id[a]["date"] >= "2024-07-01" for a in got)

    result = newsbot(ingested, "ask", "--json", "--article", "demo-sport-shorouq-title-2024", "من سجل هدف الفوز؟")
    got = {r["article_id"] for r in json.loads(result.stdout)["retrieved"]}
    assert got == {"demo-sport-shorouq-title-2024"}


@pytest.mark.parametrize("day", ["2024-02-30", "2024-13-01", "2024-00"])
def test_ask_date_filter_that_is_no_day_is_refused(ingested: Path, day: str) -> None:
    result = newsbot(ingested, "ask", "--since", day, "What happened?")
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    assert day in result.output


def test_terminal_escapes_in_articles_are_shown_not_obeyed(tmp_path: Path, db: Path) -> None:
    """An article whose title and text carry ESC sequences (retitle the window, clear the
    screen) and a bidi override: `list` and `ask` print them as visible escapes; JSON keeps the
    text, escaped."""
    title = "Harbour \x1b]0;owned\x07news \x1b[2J\u202eevil"
    body = "The harbour reopened on Tuesday after the storm \x1b[31mdamage\x1b[0m was repaired."
    (tmp_path / "esc.json").write_text(json.dumps({"id": "esc", "title": title, "text": body}), encoding="utf-8")
    assert newsbot(db, "ingest", str(tmp_path / "esc.json")).exit_code == 0
    for result in (
        newsbot(db, "list"),
        newsbot(db, "ask", "The harbour reopened on Tuesday after the storm damage was repaired?"),
    ):
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\u202e" not in result.output and "\x07" not in result.output
        assert "\\x1b" in result.output
    listed = newsbot(db, "list", "--json")
    assert "\u202e" not in listed.output and "\x1b" not in listed.output
    assert json.loads(listed.output)[0]["title"] == title


def test_history_nested_too_deeply_is_a_usage_error(ingested: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = newsbot(ingested, "ask", "--history", str(deep), "What happened?")
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    assert "nested too deeply" in result.output


def test_max_file_mb_must_be_a_finite_size(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_MAX_FILE_MB", "inf")
    result = newsbot(db, "ingest", str(SAMPLES))
    assert result.exit_code == 2, result.output
    assert_no_traceback(result)
    assert "NEWSBOT_MAX_FILE_MB" in result.output and "unexpected" not in result.output


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_ask_unreadable_date_filter_is_not_silently_ignored(ingested: Path, option: str) -> None:
    """``--since 01/07/2024`` must either be refused or honoured, never dropped without a word
    (which answers from every article while the user believes the answer is from July on)."""
    by_id = {r["id"]: r for r in articles(ingested)}
    result = newsbot(ingested, "ask", "--json", option, "01/07/2024", "What happened?")
    if result.exit_code == 0:
        dates = {by_id[r["article_id"]]["date"] for r in json.loads(result.stdout)["retrieved"]}
        ok = (lambda d: d >= "2024-07-01") if option == "--since" else (lambda d: d <= "2024-07-01")
        assert all(ok(d) for d in dates), f"{option} 01/07/2024 was ignored: {sorted(dates)}"
    else:
        assert result.exit_code in (1, 2)
        assert_no_traceback(result)
        assert "01/07/2024" in result.output


def test_ask_with_history_file(ingested: Path, tmp_path: Path) -> None:
    first = newsbot(ingested, "ask", "--json", "Who won the Port Halden Marathon?")
    history = tmp_path / "history.json"
    history.write_text(first.stdout, encoding="utf-8")  # a single earlier result (an object)
    result = newsbot(ingested, "ask", "--json", "--history", str(history), "How fast did he run?")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    # The follow-up is searched with the earlier turn, and looks first at the article it cited.
    assert "Port Halden" in obj["conversation"]["context"]
    earlier = json.loads(first.stdout)
    if earlier["confidence"] == "high":
        assert obj["conversation"]["articles"] == list(dict.fromkeys(c["article_id"] for c in earlier["citations"]))

    bad = tmp_path / "bad-history.json"
    bad.write_text("not json", encoding="utf-8")
    result = newsbot(ingested, "ask", "--history", str(bad), "How fast did he run?")
    assert result.exit_code == 2
    assert_no_traceback(result)


def test_ask_unrelated_question_abstains(ingested: Path) -> None:
    result = newsbot(ingested, "ask", "--json", "ما هي درجة غليان التنغستن؟")
    obj = json.loads(result.stdout)
    if obj["abstained"]:
        assert obj["answer"] == ABSTAIN_MESSAGES["ar"] and obj["citations"] == []


def test_ask_on_empty_store_exit_1(db: Path) -> None:
    result = newsbot(db, "ask", "Who won the Port Halden Marathon?")
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "ingest articles first: newsbot ingest PATH" in lines[0]

    result = newsbot(db, "ask", "--json", "Who won the Port Halden Marathon?")
    assert result.exit_code == 1 and "ingest articles first: newsbot ingest PATH" in result.stderr


# --------------------------------------------------------------------------- eval


def write_questions(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_prints_metrics_per_language_and_writes_out(ingested: Path, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "q.jsonl", QUESTIONS)
    out = tmp_path / "results.jsonl"
    result = newsbot(ingested, "eval", str(questions), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = {line.split(":", 1)[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert set(lines) == {"all", "en", "ar"}, result.stdout
    for name in ("all", "en", "ar"):
        for metric in METRICS:
            assert metric in lines[name], (name, metric, lines[name])
    assert "retrieval_hit@5=" in lines["all"]
    assert lines["en"].startswith("en: 2 questions (1 answerable, 1 not)")

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [q["id"] for q in QUESTIONS]
    for r in records:
        assert {"question", "answer", "abstained", "citations", "retrieved", "eval"} <= set(r)


def test_eval_json_summary_and_k(ingested: Path, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "q.jsonl", QUESTIONS)
    result = newsbot(ingested, "eval", "--json", "--k", "3", str(questions))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == {"all", "en", "ar"}
    assert summary["all"]["questions"] == 4
    assert "retrieval_hit@3" in summary["all"]
    for name in ("en", "ar"):
        s = summary[name]
        assert s["answerable"] == 1 and s["unanswerable"] == 1
        for key in (
            "retrieval_hit@3",
            "citation_hit",
            "answer_hit",
            "abstention_accuracy",
            "false_abstention",
            "latency_ms_p50",
            "latency_ms_p95",
        ):
            assert s[key] is not None, (name, key)
            if key.startswith("latency"):
                assert s[key] >= 0
            else:
                assert 0.0 <= s[key] <= 1.0


def test_eval_bad_questions_file_names_line_2(ingested: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(QUESTIONS[0]) + "\n" + '{"id": "x", "question": \n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = newsbot(ingested, "eval", str(bad), "--out", str(out))
    assert result.exit_code != 0
    assert_no_traceback(result)
    assert "line 2" in result.stderr, result.stderr
    assert str(bad) in result.stderr


def test_eval_missing_questions_file_is_usage_error(ingested: Path, tmp_path: Path) -> None:
    result = newsbot(ingested, "eval", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 2


def test_eval_on_empty_store_exit_1(db: Path, tmp_path: Path) -> None:
    questions = write_questions(tmp_path / "q.jsonl", QUESTIONS)
    result = newsbot(db, "eval", str(questions))
    assert result.exit_code == 1
    assert "newsbot ingest" in result.stderr


# --------------------------------------------------------------------------- the installed script


@pytest.mark.slow  # several subprocesses (~10 s)
def test_installed_script_ingest_and_ask(tmp_path: Path) -> None:
    exe = ROOT / ".venv" / "bin" / "newsbot"
    if not exe.exists():
        pytest.skip("no .venv/bin/newsbot")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env |= {"NEWSBOT_EMBEDDING": "fake", "NEWSBOT_DB": str(tmp_path / "db"), "NEWSBOT_MODEL_DIR": str(tmp_path / "m")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    empty = run("ask", "anything?")
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert "ingest articles first: newsbot ingest PATH" in empty.stderr

    assert run().returncode in (0, 2)  # bare group: help/usage
    usage = run("ingest")
    assert usage.returncode == 2

    done = run("ingest", str(SAMPLES))
    assert done.returncode == 0, done.stderr
    assert SUMMARY.search(done.stdout).groups()[0] == str(SAMPLE_ARTICLES)

    asked = run("ask", "--json", "Who won the Port Halden Marathon?")
    assert asked.returncode == 0, asked.stderr
    obj = json.loads(asked.stdout)
    assert {"question", "answer", "abstained", "confidence", "language", "citations", "retrieved", "timings_ms"} <= set(obj)
