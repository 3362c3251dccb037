"""`newsbot eval` scoring with confidence levels: pure functions over hand-made results."""

from __future__ import annotations

from bot.answering.contract import AnswerResult
from bot.measure.evaluation import Question, score_result, summarize


def q(qid: str, answerable: bool = True) -> Question:
    return Question(id=qid, question="?", lang="en", answerable=answerable, answers=[["Haftar"]], gold="met Haftar")


def res(confidence: str, passage: str = "", answer: str = "") -> AnswerResult:
    where = {"article_id": "a", "title": "t", "chunk_id": "a:r:0", "text": passage}
    cites = (
        []
        if confidence == "none"
        else [
            {
                "n": 1,
                **where,
                "date": None,
                "source": None,
                "url": None,
                "lang": None,
                "quote": passage,
                "quote_start": 0,
                "quote_end": len(passage),
                "score": None,
            }
        ]
    )
    return AnswerResult.model_validate(
        {
            "question": "?",
            "answer": answer,
            "abstained": confidence == "none",
            "confidence": confidence,
            "language": "en",
            "citations": cites,
            "timings_ms": {"retrieve": 1.0, "answer": 1.0},
            "answerer": "extractive",
            "retrieved": [{"rank": 1, **where, "score": 0.5, "dense": None, "bm25": None}] if passage else [],
        }
    )


def test_confidence_metrics() -> None:
    rows = [
        (q("a"), score_result(q("a"), res("high", "He met Haftar.", "He met Haftar. [1]")), 10.0),
        (q("b"), score_result(q("b"), res("high", "Something else.", "Something else. [1]")), 10.0),
        (q("c"), score_result(q("c"), res("low", "They met Haftar there.", "hedge They met Haftar there. [1]")), 10.0),
        (q("d"), score_result(q("d"), res("none")), 10.0),
        (q("u1", False), score_result(q("u1", False), res("high", "x")), 10.0),
        (q("u2", False), score_result(q("u2", False), res("low", "x")), 10.0),
        (q("u3", False), score_result(q("u3", False), res("none")), 10.0),
    ]
    s = summarize(rows, k=5)["all"]
    assert s["citation_hit"] == 0.5  # a and c: a low-confidence answer shows its passage too
    assert s["false_abstention"] == 0.25  # d
    assert s["high_share"] == 0.5 and s["high_precision"] == 0.5  # a right, b wrong
    assert s["abstention_accuracy"] == round(1 / 3, 4)  # only "none" is an abstention
    assert s["unanswerable_high"] == round(1 / 3, 4)  # u1
