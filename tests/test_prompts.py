"""Golden tests: the exact text each prompt renders to. A prompt change must change this file
(and the prompt's version)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from prompts.templates import (
    ABSTAIN_MESSAGES,
    ANSWER,
    CANNOT_ANSWER,
    CONDENSE,
    LANGUAGE_NAMES,
    PROMPTS,
    NamedPrompt,
    format_history,
    format_passages,
)

PASSAGES = [
    {"n": 1, "title": "Yevkurov visits Benghazi", "date": "2024-06-03", "text": "Yevkurov met Haftar."},
    {"n": 2, "title": "زيارة", "date": None, "text": "  التقى يفكيروف حفتر.\n"},
    {"n": 3, "text": "No metadata."},
]

ANSWER_SYSTEM_EN = """\
You answer questions about news articles. Use ONLY the numbered passages in the user's message, never your own knowledge.

Rules:
- Write the answer in English, even when the passages are in another language. Write names of people and places as they are usually spelled in English; if you are not sure, copy them from the passage.
- Be short: 1 to 3 sentences that answer the question directly. Do not talk about the passages themselves (no "according to passage 2").
- End every sentence with the number of the passage that supports it, in square brackets. Cite two passages as [1][2].
- Valid citations: [1]  [1][2]
- Invalid citations: (1)  [Passage 1]  [1-3]
- Cite only the numbers listed in the passages. Never invent a number.
- If the passages do not contain the answer, reply with exactly INSUFFICIENT_EVIDENCE and nothing else."""

ANSWER_USER = """\
Passages:
[1] (Yevkurov visits Benghazi, 2024-06-03)
Yevkurov met Haftar.

[2] (زيارة)
التقى يفكيروف حفتر.

[3]
No metadata.

Question: Who did Yevkurov meet?"""

CONDENSE_SYSTEM = """\
Rewrite the follow-up question as a standalone question that can be understood without the chat history: \
replace pronouns and references such as "he", "there", "that", "هو" or "ذلك" with what they refer to in the \
history. Write it in the same language as the follow-up question. If it is already standalone, repeat it \
unchanged. Output only the question: no answer, no explanation, no quotation marks."""

CONDENSE_USER = """\
Chat history:
User: Who did Yevkurov meet?
Assistant: He met Haftar [1].

Follow-up question: Where did he go next?

Standalone question:"""


def test_answer_prompt_golden() -> None:
    messages = ANSWER.render(
        language_name=LANGUAGE_NAMES["en"],
        passages=format_passages(PASSAGES),
        question="Who did Yevkurov meet?",
    )
    assert messages == [("system", ANSWER_SYSTEM_EN), ("human", ANSWER_USER)]
    assert (ANSWER.name, ANSWER.version) == ("answer", "1")


def test_answer_prompt_in_arabic_only_changes_the_language() -> None:
    [(_, system), _] = ANSWER.render(language_name=LANGUAGE_NAMES["ar"], passages="[1]\nنص", question="سؤال؟")
    assert system == ANSWER_SYSTEM_EN.replace("English", "Arabic")


def test_condense_prompt_golden() -> None:
    history = format_history(
        [
            {"role": "user", "content": "Who did Yevkurov meet?"},
            {"role": "assistant", "content": "He met  Haftar [1]."},
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "   "},
        ]
    )
    messages = CONDENSE.render(history=history, question="Where did he go next?")
    assert messages == [("system", CONDENSE_SYSTEM), ("human", CONDENSE_USER)]
    assert (CONDENSE.name, CONDENSE.version) == ("condense", "1")


def test_sentinel_is_in_the_answer_prompt() -> None:
    assert CANNOT_ANSWER in ANSWER.system
    assert f"exactly {CANNOT_ANSWER} and nothing else" in ANSWER.system
    assert CANNOT_ANSWER == "INSUFFICIENT_EVIDENCE"


def test_abstain_messages() -> None:
    assert ABSTAIN_MESSAGES == {"en": "The articles don't say.", "ar": "لا تذكر المقالات ذلك."}
    assert set(LANGUAGE_NAMES) == set(ABSTAIN_MESSAGES)


def test_prompt_registry_and_variables() -> None:
    assert PROMPTS == {"answer": ANSWER, "condense": CONDENSE}
    assert ANSWER.variables == {"language_name", "passages", "question"}
    assert CONDENSE.variables == {"history", "question"}


def test_render_refuses_missing_and_unknown_variables() -> None:
    with pytest.raises(ValueError, match=r"missing \['question'\]"):
        ANSWER.render(language_name="English", passages="")
    with pytest.raises(ValueError, match=r"unknown \['lang'\]"):
        ANSWER.render(language_name="English", passages="", question="q", lang="en")


def test_values_are_not_reinterpreted_as_templates() -> None:
    [_, (_, user)] = CONDENSE.render(history="{question}", question="What is {x}?")
    assert user == "Chat history:\n{question}\n\nFollow-up question: What is {x}?\n\nStandalone question:"


def test_override_may_only_use_known_variables() -> None:
    custom = ANSWER.override(user="Q: {question}\n\n{passages}", version="1-custom")
    assert custom.version == "1-custom" and custom.system == ANSWER.system
    assert custom.render(language_name="English", passages="P", question="Q")[1] == ("human", "Q: Q\n\nP")
    with pytest.raises(ValueError, match="unknown variables"):
        ANSWER.override(user="{question} {today}", version="2")


@pytest.mark.parametrize("bad", ["{x.attr}", "{x[0]}", "{x!r}", "{x:>10}", "{}"])
def test_only_plain_fields_allowed(bad: str) -> None:
    with pytest.raises(ValueError):
        NamedPrompt("p", "1", system=bad, user="")


def test_format_passages_and_history_edge_cases() -> None:
    assert format_passages([]) == ""
    assert format_passages([{"n": 4, "title": "", "date": "2024-01-01", "text": "T"}]) == "[4] (2024-01-01)\nT"
    assert format_history([]) == ""
    turns = [{"role": "Human", "content": "a\nb"}, {"role": "ai", "content": "c"}]
    assert format_history(turns) == "User: a b\nAssistant: c"


def test_prompts_package_imports_nothing_of_the_project() -> None:
    root = Path(__file__).resolve().parents[1] / "prompts"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in {"bot", "ingest", "prompts"}, path
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] not in {"bot", "ingest"} for a in node.names), path
