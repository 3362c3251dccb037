"""``newsbot eval``: run a questions file through the chain and score it.

Question format (one JSON object per line, see ../shared/eval/README.md)::

    {"id", "lang", "question", "answerable", "answers": [[alt, ...], ...], "gold", "gold_article"}

Scores, overall and per question language:

- retrieval hit@k: a retrieved passage contains the gold text;
- citation hit: a cited passage contains the gold text, whatever the answer's confidence (a
  low-confidence answer shows its closest passage: the reader is shown the gold or not);
- quote hit: a quoted sentence contains the gold text;
- answer hit: every answer group has an alternative that the answer contains;
- abstention accuracy: share of unanswerable questions that were abstained on (confidence none);
- false abstention: share of answerable questions that were abstained on (confidence none);
- high share / high precision: share of answerable questions answered with confidence high, and
  the citation hit among them;
- unanswerable high: share of unanswerable questions that got a high-confidence answer (the
  error that matters most: a confident answer the articles don't back);
- latency p50/p95 (retrieve + answer).

All matching uses :func:`ingest.text.textnorm.normalize_for_match` (Arabic letters unified, diacritics
and punctuation dropped, case folded).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.answering.contract import AnswerResult
from ingest.errors import NewsbotError
from ingest.text.textnorm import normalize_for_match

if TYPE_CHECKING:  # loading the chain (numpy, LangChain) is left to whoever builds one
    from bot.answering.chain import NewsbotChain


class QuestionsFileError(NewsbotError):
    pass


@dataclass
class Question:
    id: str
    question: str
    lang: str
    answerable: bool
    answers: list[list[str]]
    gold: str
    gold_article: str | None = None
    history: list[Any] | None = None
    follow_up: bool = False  # leans on the history (a pronoun, a short question)


def load_questions(path: Path) -> list[Question]:
    """Parse a questions file; a bad line is an error naming the file and line number."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise QuestionsFileError(f"{path}: cannot read questions file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise QuestionsFileError(f"{path}: questions file is not UTF-8 text") from exc
    out = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionsFileError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise QuestionsFileError(f"{path}: line {lineno}: expected an object with a 'question' string")
        answers = obj.get("answers") or []
        if not isinstance(answers, list) or not all(isinstance(g, list) for g in answers):
            raise QuestionsFileError(f"{path}: line {lineno}: 'answers' must be a list of lists of strings")
        out.append(
            Question(
                id=str(obj.get("id", lineno)),
                question=obj["question"],
                lang=str(obj.get("lang") or "?"),
                answerable=bool(obj.get("answerable", True)),
                answers=[[str(a) for a in group] for group in answers],
                gold=str(obj.get("gold") or ""),
                gold_article=obj.get("gold_article"),
                history=obj.get("history"),
                follow_up=bool(obj.get("follow_up", False)),
            )
        )
    if not out:
        raise QuestionsFileError(f"{path}: no questions")
    return out


def contains(haystack: str, needle: str) -> bool:
    n = normalize_for_match(needle)
    return bool(n) and n in normalize_for_match(haystack)


def answer_hit(answer: str, groups: list[list[str]]) -> bool:
    return bool(groups) and all(any(contains(answer, alt) for alt in group) for group in groups)


def score_result(q: Question, result: AnswerResult) -> dict[str, Any]:
    """Per-question verdicts (None where a metric doesn't apply)."""
    abstained = result.abstained
    confidence = result.confidence
    if not q.answerable:
        return {"abstain_ok": abstained, "unanswerable_high": confidence == "high", "confidence": confidence}
    gold = q.gold
    retrieved = [r.text for r in result.retrieved]
    cited = [c.text for c in result.citations]
    citation_hit = any(contains(t, gold) for t in cited) if gold else None
    return {
        "retrieval_hit": any(contains(t, gold) for t in retrieved) if gold else None,
        "retrieval_hit1": (contains(retrieved[0], gold) if retrieved else False) if gold else None,
        "citation_hit": citation_hit,
        "quote_hit": any(contains(c.quote, gold) for c in result.citations) if gold else None,
        # No answer groups (e.g. a question exported from readers' feedback): nothing to score.
        "answer_hit": (answer_hit(result.answer, q.answers) if not abstained else False) if q.answers else None,
        "false_abstain": abstained,
        "confidence": confidence,
        "high": confidence == "high",
        "high_hit": citation_hit if confidence == "high" else None,
    }


def _rate(values: Iterable[Any]) -> float | None:
    vals = [bool(v) for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarize(rows: list[tuple[Question, dict[str, Any], float]], k: int) -> dict[str, Any]:
    groups: dict[str, list[tuple[Question, dict[str, Any], float]]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
        groups[row[0].lang].append(row)
    out: dict[str, Any] = {}
    for name, items in groups.items():
        verdicts = [v for _, v, _ in items]
        answerable = [v for q, v, _ in items if q.answerable]
        latencies = [ms for _, _, ms in items]
        out[name] = {
            "questions": len(items),
            "answerable": len(answerable),
            "unanswerable": len(items) - len(answerable),
            f"retrieval_hit@{k}": _rate(v.get("retrieval_hit") for v in answerable),
            "retrieval_hit@1": _rate(v.get("retrieval_hit1") for v in answerable),
            "citation_hit": _rate(v.get("citation_hit") for v in answerable),
            "quote_hit": _rate(v.get("quote_hit") for v in answerable),
            "answer_hit": _rate(v.get("answer_hit") for v in answerable),
            "false_abstention": _rate(v.get("false_abstain") for v in answerable),
            "high_share": _rate(v.get("high") for v in answerable),
            "high_precision": _rate(v.get("high_hit") for v in answerable),
            "abstention_accuracy": _rate(v.get("abstain_ok") for v in verdicts if "abstain_ok" in v),
            "unanswerable_high": _rate(v.get("unanswerable_high") for v in verdicts if "abstain_ok" in v),
            "latency_ms_p50": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
            "latency_ms_p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        }
    return out


def run_eval(
    chain: NewsbotChain,
    questions: list[Question],
    *,
    k: int,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    rows = []
    for q in questions:
        request: dict[str, Any] = {"question": q.question, "k": k}
        if q.history:
            request["history"] = q.history
        t0 = time.perf_counter()
        result = chain.invoke(request)
        ms = (time.perf_counter() - t0) * 1000
        verdict = score_result(q, result)
        record = {"id": q.id, **result.to_json(), "eval": verdict}
        if on_result:
            on_result(record)
        rows.append((q, verdict, ms))
    return summarize(rows, k)


def format_summary(summary: dict[str, Any]) -> Iterator[str]:
    order = ["all"] + sorted(key for key in summary if key != "all")
    for name in order:
        s = summary[name]
        parts = [f"{name}: {s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} not)"]
        for key, value in s.items():
            if key in ("questions", "answerable", "unanswerable") or value is None:
                continue
            parts.append(f"{key}={value}")
        yield "  ".join(parts)
