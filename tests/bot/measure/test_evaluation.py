"""`newsbot eval` scoring with confidence levels: pure functions over hand-made results."""

from __future__ import annotations

from bot.measure.evaluation import Question, score_result, summarize


def q(qid: str, answerable: bool = True) -> Question:
    return Question(id=qid, question="?", lang="en", answerable=answerable, answers=[["Haftar"]], gold="met Haftar")


def res(confidence: str, passage: str = "", answer: str = "") -> dict:
    cites = [] if confidence == "none" else [{"text": passage, "quote": passage}]
    return {"abstained": confidence == "none", "confidence": confidence, "answer": answer,
            "citations": cites, "retrieved": [{"text": passage}] if passage else []}


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


def test_results_without_confidence_count_as_before() -> None:
    """Results of an older chain (no `confidence` key): answered means high, abstained means none."""
    v = score_result(q("a"), {"abstained": False, "answer": "met Haftar", "citations": [{"text": "met Haftar"}], "retrieved": []})
    assert v["confidence"] == "high" and v["high_hit"] is True
    v = score_result(q("u", False), {"abstained": True, "citations": [], "retrieved": []})
    assert v == {"abstain_ok": True, "unanswerable_high": False, "confidence": "none"}
