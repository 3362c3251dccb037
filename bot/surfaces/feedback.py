"""Readers' verdicts on answers (👍/👎 in the web UI), kept as evaluation data.

Each verdict is one JSON line appended to a file next to the store (``Settings.feedback_path``):
the question, the conversation before it, the answer, its citations with their article offsets,
the verdict, an optional one-line reason, the time, and the user name when ``NEWSBOT_AUTH`` is
on. No IP address or anything else about the reader. A reason given after the click appends the
record again with the same ``id``: the file is only ever appended to, and the last line of an id
is its verdict.

``export_questions`` turns the file into a questions file in the ``newsbot eval`` format, for a
person to review before it joins a dev set:

- 👍 on an answer with citations → answerable, ``gold`` = the first cited sentence, ``gold_article``
  = its article's title;
- 👍 on an abstention ("the articles don't say") and 👎 with the reason "not in the articles" →
  unanswerable candidates;
- any other 👎 (wrong answer, wrong source) has no gold a program can write: it goes to a second
  file, ``<FILE>.review.jsonl``, with the reader's reason, for a person to write the gold.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.errors import NewsbotError

#: Reasons offered beside 👎 (a reader may type another). The first one makes the question an
#: unanswerable candidate on export.
NOT_IN_ARTICLES = "not in the articles"
REASONS = (NOT_IN_ARTICLES, "wrong answer", "right answer, wrong source", "incomplete")

#: Longest reason kept (one line).
MAX_REASON_CHARS = 300

_CITATION_KEYS = ("n", "article_id", "title", "chunk_id", "quote", "quote_start", "quote_end")


class FeedbackError(NewsbotError):
    """The feedback file cannot be read or written."""


def one_line(text: Any, limit: int = MAX_REASON_CHARS) -> str:
    """The reason as one line of at most ``limit`` characters."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def prior_turns(results: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The conversation before an answer, as ``newsbot eval`` history (role/content messages)."""
    history: list[dict[str, str]] = []
    for r in results:
        if "notice" in r:
            continue
        history.append({"role": "user", "content": str(r.get("question") or "")})
        history.append({"role": "assistant", "content": str(r.get("answer") or "")})
    return history


def make_record(
    result: Mapping[str, Any],
    verdict: str,
    *,
    history: Sequence[Mapping[str, Any]] = (),
    reason: str = "",
    user: str | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    """The JSON line for a verdict (``"up"`` / ``"down"``) on one chain result."""
    if verdict not in ("up", "down"):
        raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
    record: dict[str, Any] = {
        "id": record_id or uuid.uuid4().hex,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "verdict": verdict,
        "reason": one_line(reason),
        "question": str(result.get("question") or ""),
        "language": result.get("language"),
        "history": prior_turns(history),
        "answer": str(result.get("answer") or ""),
        "confidence": result.get("confidence"),
        "abstained": bool(result.get("abstained")),
        "answerer": result.get("answerer"),
        "citations": [{k: c.get(k) for k in _CITATION_KEYS} for c in result.get("citations") or []],
    }
    if user:
        record["user"] = str(user)
    return record


@dataclass
class FeedbackLog:
    """Appends verdicts to one JSONL file (created on first use, with its folder)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                # One write of the whole line on an O_APPEND descriptor: lines from several
                # threads or processes never interleave.
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise FeedbackError(f"{self.path}: cannot write feedback ({exc.strerror or exc})") from exc


def read_records(path: Path) -> list[dict[str, Any]]:
    """The verdicts of a feedback file, the last line of each id winning, in first-seen order.
    A damaged line (e.g. a crash mid-write) is an error naming the file and line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise FeedbackError(f"{path}: cannot read feedback file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError:
        raise FeedbackError(f"{path}: feedback file is not UTF-8 text") from None
    by_id: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FeedbackError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(rec, dict) or rec.get("verdict") not in ("up", "down") or not rec.get("question"):
            raise FeedbackError(f"{path}: line {lineno}: not a feedback record (verdict and question)")
        by_id[str(rec.get("id") or f"line-{lineno}")] = rec
    return list(by_id.values())


def _question(rec: Mapping[str, Any], key: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": f"feedback-{key}", "lang": rec.get("language") or "?", "question": rec["question"]}
    if rec.get("history"):
        row["history"] = rec["history"]
        row["follow_up"] = True
    return row


def to_questions(records: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(questions for ``newsbot eval``, 👎 records that need a person to write the gold)."""
    questions: list[dict[str, Any]] = []
    review: list[dict[str, Any]] = []
    for rec in records:
        key = str(rec.get("id") or len(questions) + len(review))[:12]
        cited = [c for c in rec.get("citations") or [] if c.get("quote")]
        reason = str(rec.get("reason") or "").strip().lower()
        if rec["verdict"] == "up" and cited:
            row = _question(rec, key)
            row.update(answerable=True, answers=[], gold=cited[0]["quote"], gold_article=cited[0].get("title"))
            questions.append(row)
        elif (rec["verdict"] == "up" and rec.get("abstained")) or (rec["verdict"] == "down" and reason == NOT_IN_ARTICLES):
            row = _question(rec, key)
            row.update(answerable=False, answers=[])
            questions.append(row)
        elif rec["verdict"] == "down":
            review.append(
                {
                    **_question(rec, key),
                    "reason": rec.get("reason") or "",
                    "answer": rec.get("answer") or "",
                    "citations": rec.get("citations") or [],
                }
            )
    return questions, review


def export_questions(src: Path, dest: Path) -> dict[str, int]:
    """Write the questions file ``dest`` (and ``dest``'s ``.review.jsonl`` when there are 👎 to
    review); returns the counts."""
    records = read_records(src)
    questions, review = to_questions(records)
    review_path = review_file(dest)
    try:
        _write_jsonl(dest, questions)
        if review:
            _write_jsonl(review_path, review)
    except OSError as exc:
        raise FeedbackError(f"{dest}: cannot write ({exc.strerror or exc})") from exc
    return {
        "records": len(records),
        "answerable": sum(1 for q in questions if q["answerable"]),
        "unanswerable": sum(1 for q in questions if not q["answerable"]),
        "to_review": len(review),
    }


def review_file(dest: Path) -> Path:
    return dest.with_name(dest.stem + ".review.jsonl")


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
