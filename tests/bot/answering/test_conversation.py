"""Chat history in its two shapes, the conversation a follow-up is searched with, and which
questions lean on the conversation. Pure functions: no store, no model."""

from __future__ import annotations

import pytest

from bot.answering.contract import AnswerResult
from bot.answering.conversation import conversation, looks_like_follow_up, parse_history
from prompts.templates import HEDGE_MESSAGES

HEDGE = HEDGE_MESSAGES["closest"]["en"]


def result(question: str, answer: str, articles: list[str], confidence: str = "high", **extra) -> dict:
    return {
        "question": question,
        "answer": answer,
        "abstained": confidence == "none",
        "confidence": confidence,
        "citations": [{"n": i + 1, "article_id": a} for i, a in enumerate(articles)],
        **extra,
    }


def test_messages_and_results_give_the_same_turns() -> None:
    messages = [
        {"role": "user", "content": "Who won?"},
        {"role": "assistant", "content": "Velora won the cup. [1]"},
        {"role": "user", "content": "Where?"},
    ]
    turns = parse_history(messages)
    assert [(t.question, t.answer, t.articles) for t in turns] == [
        ("Who won?", "Velora won the cup. [1]", []),
        ("Where?", "", []),
    ]
    turns = parse_history([result("Who won?", "Velora won the cup. [1]", ["a1"])])
    assert [(t.question, t.answer, t.articles) for t in turns] == [("Who won?", "Velora won the cup. [1]", ["a1"])]


def test_conversation_text_has_questions_and_answers_without_markers_and_recent_articles_first() -> None:
    turns = parse_history(
        [
            result("q1", "first answer. [1]", ["old"]),
            result("q2", "second answer. [1][2]", ["mid", "old"]),
            result("q3", "third answer. [1]", ["new"]),
            result("q4", "fourth answer. [1]", ["newest"]),
        ]
    )
    conv = conversation(turns, last=3)
    assert conv is not None
    assert conv.text == "q2 second answer. q3 third answer. q4 fourth answer."
    assert conv.articles == ("newest", "new", "mid", "old")
    assert conversation([]) is None


def test_abstentions_and_hedges_are_not_part_of_the_conversation() -> None:
    """ "The articles don't say." says nothing about the topic; a low-confidence answer's hedge
    neither, and its passage may be off the topic, so its article is not where the chat was."""
    turns = parse_history(
        [
            result("q1", "The articles don't say.", [], confidence="none"),
            result("q2", f"{HEDGE} A close sentence. [1]", ["maybe"], confidence="low", hedge=HEDGE),
        ]
    )
    conv = conversation(turns)
    assert conv is not None
    assert conv.text == "q1 q2 A close sentence."
    assert conv.articles == ()


def typed(question: str, answer: str, articles: list[str], confidence: str = "high", **extra) -> AnswerResult:
    """The same result as :func:`result`, as the chain returns it."""
    cites = [
        {
            "n": i + 1,
            "article_id": a,
            "title": "t",
            "date": None,
            "source": None,
            "url": None,
            "lang": "en",
            "chunk_id": f"{a}:0",
            "text": "x",
            "quote": "x",
            "quote_start": 0,
            "quote_end": 1,
            "score": None,
        }
        for i, a in enumerate(articles)
    ]
    return AnswerResult.model_validate(
        result(question, answer, [], confidence, **extra)
        | {
            "citations": cites,
            "language": "en",
            "retrieved": [],
            "timings_ms": {"retrieve": 1.0, "answer": 1.0},
            "answerer": "extractive",
        }
    )


def test_typed_results_give_the_same_turns_as_their_json() -> None:
    history = [
        ("q1", "Velora won the cup. [1]", ["a1", "a2"], "high", {}),
        ("q2", "The articles don't say.", [], "none", {}),
        ("q3", f"{HEDGE} A close sentence. [1]", ["maybe"], "low", {"hedge": HEDGE}),
    ]
    as_json = parse_history([result(q, a, arts, conf, **extra) for q, a, arts, conf, extra in history])
    as_typed = parse_history([typed(q, a, arts, conf, **extra) for q, a, arts, conf, extra in history])
    assert as_typed == as_json
    assert [(t.question, t.answer, t.articles) for t in as_typed] == [
        ("q1", "Velora won the cup. [1]", ["a1", "a2"]),
        ("q2", "", []),
        ("q3", "A close sentence. [1]", []),
    ]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where did he go next?", True),
        ("What did they sign?", True),
        ("Why?", True),  # no content word of its own
        ("Who is the deputy head of the UN mission in Libya?", False),
        ("إلى أين توجه بعد ذلك؟", True),
        ("ماذا قال عنه؟", True),
        # "هو/هي" after a question word is a copula ("what is"), not a reference back.
        ("ما هي عاصمة اليابان؟", False),
        ("من هو رئيس البعثة الأممية في ليبيا؟", False),
        ("هل هو متزوج؟", True),
        ("أين هي الآن؟", True),
        ("Did anyone feel about this?", True),
        ("What is this prediction harder than?", True),
        ("ماذا قال هؤلاء؟", True),
    ],
)
def test_which_questions_lean_on_the_conversation(question: str, expected: bool) -> None:
    assert looks_like_follow_up(question) is expected
