# Over 400 lines: the LLM answerer's cases share one recording fake chat model and the ingested-corpus fixture at the top.
"""The chain with an LLM answerer: prompts sent, citations cleaned and verified, claims dropped,
abstention, and follow-up condensing.

The only fake is the chat model (a LangChain ``GenericFakeChatModel`` that records every message
list it is sent and can compute its reply from the prompt, so replies can cite the passage numbers
the chain actually assigned). Real Chroma in a temp dir, the fake (hashing) embedder: support is
then decided by word overlap, so supported claims copy most words of a passage sentence and
unsupported ones share none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from articles import PORT_LUMEN_LLM as PORT_LUMEN
from articles import VELORA_LLM as VELORA
from articles import ZAHRAA_LLM as ZAHRAA
from helpers import always
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from bot.answering.chain import NewsbotChain
from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel
from bot.retrieval.hybrid import HybridRetriever
from ingest.errors import NewsbotError
from ingest.pipeline import Ingestor
from prompts.templates import ABSTAIN_MESSAGES, ANSWER, CANNOT_ANSWER, CONDENSE, HEDGE_MESSAGES

# Claims the passages support (most words copied from one sentence) ...
WATER_CLAIM = "The Port Lumen plant produces forty thousand cubic metres of drinking water per day"
WATER_SENTENCE = "The plant produces forty thousand cubic metres of drinking water per day."
FEE_CLAIM = "The transfer fee for Tomas Brandt was eleven million euros"
FEE_SENTENCE = "The transfer fee was eleven million euros."
BOOKS_CLAIM = "تضم المكتبة خمسين ألف كتاب باللغتين العربية والإنجليزية"
# ... and claims that share no word with any passage.
ZEBRA_CLAIM = "Zebras migrate across Saturn during winter"
ZEBRA_CLAIM_AR = "تهاجر الحمير الوحشية عبر زحل شتاءً"

Reply = str | Callable[[list[BaseMessage]], str]


class RecordingChatModel(GenericFakeChatModel):
    """A fake chat model that records what it was sent. Each reply is a string or a function of
    the messages (to cite the passage numbers of the prompt). Streams word by word."""

    messages: Any = Field(default_factory=lambda: iter(()))  # unused: ``replies`` drive it
    replies: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        self.calls.append(list(messages))
        if not self.replies:
            raise AssertionError(f"unexpected LLM call #{len(self.calls)}: {messages}")
        reply = self.replies.pop(0)
        text = reply(messages) if callable(reply) else reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


# --------------------------------------------------------------------------- helpers


def passages_in_prompt(messages: list[BaseMessage]) -> dict[int, str]:
    """``n → "[n] (title, date)\\ntext"`` blocks of the answer prompt's passages."""
    human = messages[-1].content
    body = human.split("Passages:\n", 1)[1].rsplit("\n\nQuestion: ", 1)[0]
    blocks = {}
    for block in body.split("\n\n"):
        m = re.match(r"\[(\d+)\]", block)
        if m:
            blocks[int(m.group(1))] = block
    return blocks


def number_of(messages: list[BaseMessage], needle: str) -> int:
    matches = [n for n, block in passages_in_prompt(messages).items() if needle in block]
    assert len(matches) == 1, (needle, passages_in_prompt(messages))
    return matches[0]


def ids_by_title(store) -> dict[str, str]:
    out = {}
    for r in store.articles():
        key = "port" if r.title.startswith("Port") else "velora" if r.title.startswith("Velora") else "zahraa"
        out[key] = r.id
    return out


def assert_quotes_verify(result: dict[str, Any], store) -> None:
    assert [c.n for c in result.citations] == list(range(1, len(result.citations) + 1))
    for c in result.citations:
        text = store.article_text(c.article_id)
        assert text[c.quote_start : c.quote_end] == c.quote
        assert c.quote in c.text
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", result.answer)}
    assert markers == set(range(1, len(result.citations) + 1)), result.answer


@pytest.fixture
def corpus(tmp_path: Path, store):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in {"port.md": PORT_LUMEN, "velora.md": VELORA, "zahraa.md": ZAHRAA}.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = Ingestor(store).ingest_paths([folder])
    assert report.ingested == 3 and report.failed == 0, report.summary()
    return store


def make_chain(
    store, embeddings, *replies: Reply, k: int = 3, confidence: ConfidenceModel = DEFAULT_CONFIDENCE
) -> tuple[NewsbotChain, RecordingChatModel]:
    model = RecordingChatModel(replies=list(replies))
    chain = NewsbotChain(HybridRetriever(store, embeddings), answerer="openai", chat_model=model, k=k, confidence=confidence)
    return chain, model


# --------------------------------------------------------------------------- answers with citations


def test_prompt_holds_numbered_passages_question_and_language(corpus, fake_embeddings) -> None:
    question = "How much drinking water does the Port Lumen plant produce per day?"
    chain, model = make_chain(corpus, fake_embeddings, lambda m: f"{WATER_CLAIM} [{number_of(m, 'desalination')}].")
    result = chain.invoke(question)

    assert len(model.calls) == 1
    system, human = model.calls[0]
    assert system.type == "system" and human.type == "human"
    assert system.content == ANSWER.system.format(language_name="English")
    assert "English" in system.content and CANNOT_ANSWER in system.content
    assert human.content.startswith("Passages:\n[1] (")
    assert human.content.endswith(f"\n\nQuestion: {question}")
    # Every retrieved passage is in the prompt as "[rank] (title, date)" followed by its text.
    assert len(result.retrieved) == 3
    dates = {"Port Lumen opens desalination plant": "2024-03-10", "Velora club signs goalkeeper Tomas Brandt": "2024-05-20"}
    dates["بلدية الزهراء تفتتح مكتبة عامة جديدة"] = "2024-07-01"
    for r in result.retrieved:
        head = f"[{r.rank}] ({r.title}, {dates[r.title]})\n"
        assert head + r.text.strip() in human.content, head
    assert sorted(passages_in_prompt(model.calls[0])) == [1, 2, 3]


def test_arabic_question_asks_for_arabic(corpus, fake_embeddings) -> None:
    question = "كم كتابا تضم مكتبة الزهراء؟"
    chain, model = make_chain(corpus, fake_embeddings, lambda m: f"{BOOKS_CLAIM} [{number_of(m, 'الزهراء')}].")
    result = chain.invoke(question)
    system, human = model.calls[0]
    assert system.content == ANSWER.system.format(language_name="Arabic")
    assert human.content.endswith(f"Question: {question}")
    assert result.language == "ar" and result.abstained is False
    assert result.answer == f"{BOOKS_CLAIM}. [1]"
    assert_quotes_verify(result, corpus)
    assert result.citations[0].quote == "تضم المكتبة خمسين ألف كتاب باللغتين العربية والإنجليزية."


def test_supported_sentences_kept_renumbered_with_quote_offsets(corpus, fake_embeddings) -> None:
    numbers: dict[str, int] = {}
    claims = {"port": WATER_CLAIM, "velora": FEE_CLAIM}
    sentences = {"port": WATER_SENTENCE, "velora": FEE_SENTENCE}

    def reply(messages: list[BaseMessage]) -> str:
        numbers["port"] = number_of(messages, "desalination")
        numbers["velora"] = number_of(messages, "Tomas Brandt")
        # The first sentence cites the higher number, so renumbering by first appearance shows.
        first, second = sorted(numbers, key=lambda key: -numbers[key])
        return f"{claims[first]} [{numbers[first]}]. {claims[second]} [{numbers[second]}]."

    chain, _ = make_chain(corpus, fake_embeddings, reply)
    result = chain.invoke("What does the Port Lumen plant produce, and what was Brandt's transfer fee?")
    first, second = sorted(numbers, key=lambda key: -numbers[key])
    assert numbers[first] > 1, "the passages were numbered so that renumbering is visible"
    assert result.abstained is False
    assert result.answer == f"{claims[first]}. [1] {claims[second]}. [2]"
    ids = ids_by_title(corpus)
    assert [c.article_id for c in result.citations] == [ids[first], ids[second]]
    assert [c.quote for c in result.citations] == [sentences[first], sentences[second]]
    assert_quotes_verify(result, corpus)
    assert result.dropped_claims is None and result.dropped_citations is None
    assert result.answerer == "openai"


def test_stream_deltas_are_raw_and_result_is_cleaned(corpus, fake_embeddings) -> None:
    raws: list[str] = []

    def reply(messages):
        raws.append(f"{WATER_CLAIM}[{number_of(messages, 'desalination')}][9]")
        return raws[-1]

    chain, _ = make_chain(corpus, fake_embeddings, reply)
    events = list(chain.stream({"question": "How much water does the Port Lumen plant produce?"}))
    kinds = [e.event for e in events]
    assert kinds[0] == "retrieved" and kinds[-1] == "result" and kinds.count("result") == 1
    assert set(kinds[1:-1]) == {"delta"} and len(kinds) > 3  # streamed in several pieces
    assert "".join(e.text for e in events if e.event == "delta") == raws[0]
    result = events[-1].result
    assert result.answer == f"{WATER_CLAIM} [1]"  # no final stop in the reply: none added
    assert result.dropped_citations == [9]


# --------------------------------------------------------------------------- bad citations and claims


def test_arabic_indic_citation_digits(corpus, fake_embeddings) -> None:
    arabic_digit = lambda n: chr(0x0660 + n)
    chain, _ = make_chain(corpus, fake_embeddings, lambda m: f"{BOOKS_CLAIM} [{arabic_digit(number_of(m, 'الزهراء'))}].")
    result = chain.invoke("كم كتابا تضم مكتبة الزهراء؟")
    assert result.answer == f"{BOOKS_CLAIM}. [1]"
    assert result.dropped_citations is None


def test_citation_of_missing_passage_is_dropped(corpus, fake_embeddings) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, f"{WATER_CLAIM} [7].")
    result = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert len(result.retrieved) == 3
    assert result.dropped_citations == [7]
    assert "[7]" not in result.answer
    # The claim itself is supported: it is kept, pointed at the passage that says it.
    assert result.abstained is False
    assert result.answer == f"{WATER_CLAIM}. [1]"
    assert result.citations[0].article_id == ids_by_title(corpus)["port"]
    assert_quotes_verify(result, corpus)


def test_valid_and_invalid_numbers_on_one_sentence(corpus, fake_embeddings) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, lambda m: f"{FEE_CLAIM} [{number_of(m, 'Tomas Brandt')}][7][12].")
    result = chain.invoke("What was the transfer fee for Tomas Brandt?")
    assert result.dropped_citations == [7, 12]
    assert result.answer == f"{FEE_CLAIM}. [1]"
    assert result.citations[0].quote == FEE_SENTENCE


def test_claim_cited_to_the_wrong_passage_is_repointed(corpus, fake_embeddings) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, lambda m: f"{WATER_CLAIM} [{number_of(m, 'Tomas Brandt')}].")
    result = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert result.abstained is False
    assert result.answer == f"{WATER_CLAIM}. [1]"
    assert result.citations[0].article_id == ids_by_title(corpus)["port"]
    assert result.citations[0].quote == WATER_SENTENCE
    assert result.dropped_claims is None


def test_unsupported_claim_is_dropped(corpus, fake_embeddings) -> None:
    chain, _ = make_chain(
        corpus,
        fake_embeddings,
        lambda m: f"{WATER_CLAIM} [{number_of(m, 'desalination')}]. {ZEBRA_CLAIM} [{number_of(m, 'desalination')}].",
    )
    result = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert result.abstained is False
    assert result.dropped_claims == [f"{ZEBRA_CLAIM}."]
    assert "Zebras" not in result.answer
    # Claims were removed: what is left is shown, with low confidence and a hedge saying so.
    assert result.confidence == "low"
    assert result.answer == f"{HEDGE_MESSAGES['partial']['en']} {WATER_CLAIM}. [1]"
    assert len(result.citations) == 1
    assert_quotes_verify(result, corpus)


@pytest.mark.parametrize(
    ("question", "claims", "language"),
    [
        ("How much drinking water does the Port Lumen plant produce per day?", [ZEBRA_CLAIM], "en"),
        ("كم كتابا تضم مكتبة الزهراء؟", [ZEBRA_CLAIM_AR], "ar"),
        ("كم كتابا تضم مكتبة الزهراء؟", [ZEBRA_CLAIM, ZEBRA_CLAIM_AR], "ar"),
    ],
)
def test_only_unsupported_claims_abstains(corpus, fake_embeddings, question, claims, language) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, " ".join(f"{c} [1]." for c in claims))
    result = chain.invoke(question)
    assert result.abstained is True
    assert result.language == language
    assert result.answer == ABSTAIN_MESSAGES[language]
    assert result.citations == []
    assert result.dropped_claims == [f"{c}." for c in claims]
    assert result.retrieved, "the passages are still reported"


@pytest.mark.parametrize("reply", [CANNOT_ANSWER, f"  {CANNOT_ANSWER}\n", f"{CANNOT_ANSWER}."])
@pytest.mark.parametrize(
    ("question", "language"),
    [("What is the boiling point of tungsten?", "en"), ("ما هي درجة غليان التنغستن؟", "ar")],
)
def test_sentinel_reply_abstains(corpus, fake_embeddings, reply, question, language) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, reply)
    result = chain.invoke(question)
    assert result.abstained is True
    assert result.answer == ABSTAIN_MESSAGES[language]
    assert result.citations == []
    assert CANNOT_ANSWER not in result.answer
    assert result.dropped_claims is None


def test_partial_answer_with_sentinel_keeps_the_answered_part(corpus, fake_embeddings) -> None:
    chain, _ = make_chain(corpus, fake_embeddings, lambda m: f"{WATER_CLAIM} [{number_of(m, 'desalination')}]. {CANNOT_ANSWER}")
    result = chain.invoke("How much water does the plant produce, and who designed it?")
    assert result.abstained is False
    assert result.answer == f"{WATER_CLAIM}. [1]"


# --------------------------------------------------------------------------- answerer selection


def test_llm_answerer_without_model_is_a_config_error(corpus, fake_embeddings) -> None:
    chain = NewsbotChain(HybridRetriever(corpus, fake_embeddings), answerer="openai")
    with pytest.raises(NewsbotError, match="not configured"):
        chain.invoke("How much drinking water does the Port Lumen plant produce per day?")


def test_per_call_extractive_override_does_not_call_the_llm(corpus, fake_embeddings) -> None:
    # The fake embedder's cosines are not e5's: the level is fixed, the e5-fitted model says nothing here.
    chain, model = make_chain(corpus, fake_embeddings, confidence=always("low"))
    result = chain.invoke(
        {"question": "How much drinking water does the Port Lumen plant produce per day?", "answerer": "extractive"}
    )
    assert model.calls == []
    assert result.answerer == "extractive"
    assert result.abstained is False and WATER_SENTENCE in result.answer


def test_empty_store_fails_before_calling_the_llm(store, fake_embeddings) -> None:
    chain, model = make_chain(store, fake_embeddings, "never sent")
    with pytest.raises(NewsbotError, match="newsbot ingest"):
        chain.invoke("What was the transfer fee?")
    assert model.calls == []


# --------------------------------------------------------------------------- condensing follow-ups

HISTORY_MESSAGES = [
    {"role": "user", "content": "Which goalkeeper did Velora sign?"},
    {"role": "assistant", "content": "Velora signed the goalkeeper Tomas Brandt. [1]"},
]
FOLLOW_UP = "And what did it cost them?"
STANDALONE = "What was the transfer fee Velora paid for the goalkeeper Tomas Brandt?"


def spy_retrieval(chain: NewsbotChain) -> list[str]:
    """Record the questions the retriever is asked (it still does the real work)."""
    asked: list[str] = []
    real = chain.retriever.retrieve

    def retrieve(question, *args, **kwargs):
        asked.append(question)
        return real(question, *args, **kwargs)

    chain.retriever.retrieve = retrieve  # type: ignore[method-assign]
    return asked


@pytest.mark.parametrize(
    "history",
    [
        HISTORY_MESSAGES,
        [
            {
                "question": "Which goalkeeper did Velora sign?",
                "answer": "Velora signed the goalkeeper Tomas Brandt. [1]",
                "citations": [],
            }
        ],
    ],
    ids=["chat-messages", "earlier-results"],
)
def test_follow_up_is_condensed_then_retrieved_with_standalone_question(corpus, fake_embeddings, history) -> None:
    chain, model = make_chain(
        corpus, fake_embeddings, f'"{STANDALONE}"\n', lambda m: f"{FEE_CLAIM} [{number_of(m, 'Tomas Brandt')}].", k=1
    )
    asked = spy_retrieval(chain)
    result = chain.invoke({"question": FOLLOW_UP, "history": history})

    assert len(model.calls) == 2
    system, human = model.calls[0]
    assert system.content == CONDENSE.system
    assert "User: Which goalkeeper did Velora sign?" in human.content
    assert "Assistant: Velora signed the goalkeeper Tomas Brandt. [1]" in human.content
    assert f"Follow-up question: {FOLLOW_UP}" in human.content
    # Quotes and surrounding whitespace of the model's reply are stripped.
    assert result.standalone_question == STANDALONE
    assert asked == [STANDALONE]
    assert [r.article_id for r in result.retrieved] == [ids_by_title(corpus)["velora"]]
    assert result.question == FOLLOW_UP
    assert result.answer == f"{FEE_CLAIM}. [1]"
    assert result.citations[0].quote == FEE_SENTENCE


def test_answer_prompt_gets_the_standalone_question(corpus, fake_embeddings) -> None:
    """The answer prompt has no history: the question it carries must be the standalone one, or
    the model is asked "And what did it cost them?" with nothing saying who "them" is."""
    chain, model = make_chain(
        corpus, fake_embeddings, STANDALONE, lambda m: f"{FEE_CLAIM} [{number_of(m, 'Tomas Brandt')}].", k=1
    )
    chain.invoke({"question": FOLLOW_UP, "history": HISTORY_MESSAGES})
    answer_human = model.calls[1][-1].content
    assert STANDALONE in answer_human, answer_human[-200:]


def test_no_history_means_no_condense_call(corpus, fake_embeddings) -> None:
    chain, model = make_chain(corpus, fake_embeddings, lambda m: f"{FEE_CLAIM} [{number_of(m, 'Tomas Brandt')}].")
    result = chain.invoke({"question": "What was the transfer fee for Tomas Brandt?", "history": []})
    assert len(model.calls) == 1
    assert model.calls[0][0].content.startswith("You answer questions about news articles")
    assert result.standalone_question is None


def test_empty_condense_reply_falls_back_to_the_question(corpus, fake_embeddings) -> None:
    chain, model = make_chain(corpus, fake_embeddings, '  ""  ', CANNOT_ANSWER)
    asked = spy_retrieval(chain)
    result = chain.invoke({"question": FOLLOW_UP, "history": HISTORY_MESSAGES})
    assert asked == [FOLLOW_UP]
    assert result.standalone_question is None
    assert result.abstained is True
