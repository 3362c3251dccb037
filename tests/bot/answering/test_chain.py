# Over 400 lines: the chain's cases share the store fixtures and result-shape checks at the top.
"""The answer chain (extractive answerer): contract of the result, citations that verify, abstention,
follow-ups, filters, the empty store and streaming.

Real Chroma in temp dirs throughout. Fast tests use the fake (hashing) embedder; the tests marked
``slow`` use the real bundled e5 embedder on articles written here plus the seed article from
``../shared/articles`` (read at run time, never copied into the repo).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from articles import PORT_LUMEN, VELORA, write_articles
from helpers import SEED, always, needs_shared
from pydantic import TypeAdapter

from bot.answering.chain import NewsbotChain
from bot.answering.contract import AnswerResult, Delta, Result, Retrieved, StreamEvent
from bot.retrieval.filters import Filters
from bot.retrieval.hybrid import HybridRetriever
from ingest.errors import NewsbotError
from ingest.pipeline import Ingestor
from prompts.templates import ABSTAIN_MESSAGES, HEDGE_MESSAGES

# --------------------------------------------------------------------------- helpers


def ids_by_title(store) -> dict[str, str]:
    """Short name → article id, from the titles of the articles written above."""
    out = {}
    for record in store.articles():
        if record.title.startswith("Port Lumen"):
            out["port"] = record.id
        elif record.title.startswith("Velora"):
            out["velora"] = record.id
        elif "الزهراء" in record.title:
            out["zahraa"] = record.id
        else:
            out["seed"] = record.id
    return out


def assert_contract(result: AnswerResult) -> None:
    """What the types of :class:`AnswerResult` don't say: ranks, confidence and abstention agree,
    a low-confidence answer starts with its hedge (the keys and their types are the model's)."""
    assert isinstance(result, AnswerResult)
    assert result.language in ("en", "ar")
    assert [r.rank for r in result.retrieved] == list(range(1, len(result.retrieved) + 1))
    assert result.timings_ms.retrieve >= 0 and result.timings_ms.answer >= 0
    assert result.abstained is (result.confidence == "none")
    if result.abstained:
        assert result.citations == []
        assert result.answer == ABSTAIN_MESSAGES[result.language]
    else:
        assert result.citations, "an answer at any confidence shows its source"
    if result.confidence == "low":
        # The hedge in the question's language, then the closest sentence with its citation.
        assert result.hedge in {m[result.language] for m in HEDGE_MESSAGES.values()}
        assert result.answer.startswith(result.hedge + " ")
    else:
        assert result.hedge is None


def assert_citations_verify(result: AnswerResult, store) -> None:
    """Every quote is the article text at its offsets and lies inside the cited chunk; the answer's
    markers are exactly [1]..[N] for the N citations, numbered by first appearance."""
    citations = result.citations
    assert citations, result
    assert [c.n for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        text = store.article_text(c.article_id)
        assert text is not None, c.article_id
        assert 0 <= c.quote_start < c.quote_end <= len(text)
        assert text[c.quote_start : c.quote_end] == c.quote
        assert c.quote.strip() and c.quote in c.text
        chunk_start = text.find(c.text)
        assert chunk_start >= 0, "the cited chunk is not a span of its article"
        assert chunk_start <= c.quote_start and c.quote_end <= chunk_start + len(c.text)
        assert c.chunk_id.startswith(c.article_id + ":")
        assert c.chunk_id in {r.chunk_id for r in result.retrieved}
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", result.answer)]
    assert set(markers) == set(range(1, len(citations) + 1)), (markers, result.answer)
    first_seen = list(dict.fromkeys(markers))
    assert first_seen == sorted(first_seen), result.answer


def without_timings(result: AnswerResult) -> dict[str, Any]:
    return result.model_dump(exclude={"timings_ms"})


# --------------------------------------------------------------------------- fast: fake embedder


@pytest.fixture
def chain(tmp_path: Path, store, fake_embeddings) -> NewsbotChain:
    report = Ingestor(store).ingest_paths(write_articles(tmp_path / "articles"))
    assert report.failed == 0 and report.ingested == 3, report.summary()
    # The fake embedder's cosines are not e5's, so the confidence model fitted on e5 says nothing
    # about them: these tests of the plumbing fix the level (the real embedder's confidence is
    # tested on the seed article below and in the CLI and browser tests).
    return NewsbotChain(HybridRetriever(store, fake_embeddings), confidence=always("low"))


def test_fake_embedder_answer_verifies(chain: NewsbotChain, store) -> None:
    result = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert_contract(result)
    assert result.abstained is False
    assert result.language == "en"
    assert "forty thousand cubic metres" in result.answer
    assert_citations_verify(result, store)
    assert result.citations[0].article_id == ids_by_title(store)["port"]
    assert result.citations[0].source == "Harbor Times"
    assert result.citations[0].date == "2024-03-10"
    assert result.citations[0].url == "https://example.test/port-lumen-desalination"


def test_string_input_equals_dict_input(chain: NewsbotChain) -> None:
    q = "How much drinking water does the Port Lumen plant produce per day?"
    assert without_timings(chain.invoke(q)) == without_timings(chain.invoke({"question": q}))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "Sport Daily"}, {"velora"}),
        ({"source": "الوطن"}, {"zahraa"}),
        ({"since": "2024-05-01"}, {"velora", "zahraa"}),
        ({"until": "2024-05-31"}, {"port", "velora"}),
        ({"since": "2024-05-01", "until": "2024-05-31"}, {"velora"}),
        ({"until": "2024-03-10"}, {"port"}),  # inclusive
        ({"since": "2024-07-01"}, {"zahraa"}),  # inclusive
        ({"article_id": "zahraa"}, {"zahraa"}),
    ],
)
def test_filters_restrict_retrieved_passages(chain: NewsbotChain, store, filters, expected) -> None:
    ids = ids_by_title(store)
    filters = {k: ids[v] if k == "article_id" else v for k, v in filters.items()}
    # The question matches the Port Lumen article best: the filter, not the question, decides.
    result = chain.invoke(
        {"question": "How much drinking water does the Port Lumen plant produce per day?", "filters": filters, "k": 5}
    )
    assert_contract(result)
    got = {r.article_id for r in result.retrieved}
    assert got == {ids[name] for name in expected}, (filters, result.retrieved)
    assert {c.article_id for c in result.citations} <= got


def test_unfiltered_retrieval_sees_every_article(chain: NewsbotChain, store) -> None:
    result = chain.invoke({"question": "How much drinking water does the Port Lumen plant produce per day?", "k": 5})
    assert {r.article_id for r in result.retrieved} == set(ids_by_title(store).values())


def test_leave_out_filters_for_calibration(chain: NewsbotChain, store) -> None:
    """``exclude`` drops whole articles, ``exclude_chunks`` single passages (from every ranking)."""
    q = {"question": "How much drinking water does the Port Lumen plant produce per day?", "k": 5}
    ids = ids_by_title(store)
    full = chain.invoke(q).retrieved
    port_chunks = tuple(r.chunk_id for r in full if r.article_id == ids["port"])
    assert port_chunks
    without_article = chain.invoke({**q, "filters": {"exclude": (ids["port"],)}}).retrieved
    assert ids["port"] not in {r.article_id for r in without_article} and without_article
    without_first = chain.invoke({**q, "filters": {"exclude_chunks": port_chunks[:1]}}).retrieved
    got = [r.chunk_id for r in without_first]
    assert port_chunks[0] not in got
    assert set(got) == {r.chunk_id for r in full} - {port_chunks[0]}


def test_question_words_count_only_in_the_passages_language(chain: NewsbotChain, store) -> None:
    """English words of a question are no evidence either way over Arabic passages, even when
    the corpus knows them from its English articles; its names still count."""
    ids = ids_by_title(store)
    retriever = chain.retriever
    question = "Did Mayor Elena Varga open the library?"
    for article, words_count in (("zahraa", False), ("port", True)):
        retrieval = retriever.retrieve(question, 2, Filters(article_id=ids[article]))
        evidence = retriever.sentence_evidence(retrieval)
        assert evidence
        terms = set(evidence[0].terms)
        assert {t for t in terms if t.startswith("n:")}, "names count in every script"
        if words_count:
            assert {"mayor", "open", "library"} <= terms
        else:
            assert all(t.startswith("n:") for t in terms), terms


def test_a_question_with_no_term_to_look_for_is_never_high(chain: NewsbotChain, store) -> None:
    """An English question over an Arabic article, naming nothing the corpus knows, has no word
    or name to find in the passages: however sure the model, its best sentence is shown low
    (hedged, cited). The same article asked with a name the corpus knows stays high."""
    ids = ids_by_title(store)
    sure = NewsbotChain(chain.retriever, confidence=always("high"))
    zahraa = {"filters": {"article_id": ids["zahraa"]}}
    bare = sure.invoke({"question": "How many books does the new library hold?", **zahraa})
    assert_contract(bare)
    assert bare.evidence["has_terms"] == 0.0 and bare.evidence["p_correct"] >= always("high").high
    assert bare.confidence == "low" and bare.abstained is False
    assert bare.answer.startswith(HEDGE_MESSAGES["closest"]["en"] + " ") and len(bare.citations) == 1
    assert_citations_verify(bare, store)
    named = sure.invoke({"question": "Did Mayor Elena Varga open the library?", **zahraa})
    assert named.evidence["has_terms"] == 1.0 and named.confidence == "high"
    assert [c.article_id for c in named.citations] == [ids["zahraa"]]


def test_confidence_levels_shape_the_answer(tmp_path: Path, store, fake_embeddings) -> None:
    """high: the quote is the answer; low: a hedge in the question's language, then the closest
    sentence with its citation (not an abstention); none: "The articles don't say.", no citation."""
    Ingestor(store).ingest_paths(write_articles(tmp_path / "articles"))
    retriever = HybridRetriever(store, fake_embeddings)
    question = "How much drinking water does the Port Lumen plant produce per day?"
    results = {level: NewsbotChain(retriever, confidence=always(level)).invoke(question) for level in ("high", "low", "none")}
    for level, result in results.items():
        assert_contract(result)
        assert result.confidence == level
        assert "p_correct" in result.evidence
    high, low, none = results["high"], results["low"], results["none"]
    assert "forty thousand cubic metres" in high.answer and not high.answer.startswith("The articles")
    assert low.abstained is False and len(low.citations) == 1
    hedge = HEDGE_MESSAGES["closest"]["en"]
    assert low.answer == f"{hedge} The plant produces forty thousand cubic metres of drinking water per day. [1]"
    assert_citations_verify(low, store)
    assert none.abstained is True and none.citations == [] and none.answer == "The articles don't say."
    arabic = NewsbotChain(retriever, confidence=always("low")).invoke("كم كتابا تضم مكتبة الزهراء؟")
    assert arabic.answer.startswith(HEDGE_MESSAGES["closest"]["ar"] + " ")


BIO = """Elena Varga, mayor of Port Lumen

Elena Varga was born in 1971 in Bergen. She studied engineering before she entered politics.
"""


@pytest.mark.parametrize("with_bio", [False, True])
def test_relation_question_needs_a_sentence_that_states_it(tmp_path: Path, store, fake_embeddings, with_bio) -> None:
    """A birth-date question over articles that never say when anyone was born is never answered
    with high confidence, even when the evidence scores alone would; once an article says it, it is."""
    articles = {"port-lumen.md": PORT_LUMEN, **({"bio.txt": BIO} if with_bio else {})}
    Ingestor(store).ingest_paths(write_articles(tmp_path / "articles", articles))
    chain = NewsbotChain(HybridRetriever(store, fake_embeddings), confidence=always("high"))
    result = chain.invoke("When was Mayor Elena Varga born?")
    assert_contract(result)
    assert result.evidence["relation_stated"] == float(with_bio)
    if with_bio:
        assert result.confidence == "high" and "1971" in result.answer
    else:
        assert result.confidence == "low", result.answer
        # The same chain still answers what the article does say.
        other = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
        assert other.confidence == "high"


def test_relation_comes_from_the_users_words_not_the_conversation(tmp_path: Path, store, fake_embeddings) -> None:
    """A follow-up is searched with the earlier turn ("born"); it is still not a question about a birth."""
    Ingestor(store).ingest_paths(write_articles(tmp_path / "articles", {"port-lumen.md": PORT_LUMEN, "bio.txt": BIO}))
    chain = NewsbotChain(HybridRetriever(store, fake_embeddings), confidence=always("high"))
    history = [
        {"role": "user", "content": "When was Mayor Elena Varga born?"},
        {"role": "assistant", "content": "Elena Varga was born in 1971 in Bergen. [1]"},
    ]
    result = chain.invoke({"question": "What did she cut at the opening ceremony?", "history": history})
    assert "born" in result.conversation.context
    assert "relation_stated" not in result.evidence
    assert result.confidence == "high"


# Two players, two clubs, two contracts: "How long is his contract?" is only answerable from the
# conversation, and the *answer* of the earlier turn is what names the player.
TRANSFERS = {
    "velora.md": VELORA,
    "harbor.md": """---
title: Harbor FC completes a double signing
date: 2024-05-22
source: Coast News
---
Harbor FC completes a double signing

Harbor FC announced two new players on Wednesday. The striker Nadia Rahim joined from Lakeside United. Rahim agreed a two-year contract with Harbor FC. The defender Ola Berg signed until the end of the season.
""",
}


@pytest.fixture
def transfers(tmp_path: Path, store, fake_embeddings) -> tuple[NewsbotChain, dict[str, str]]:
    Ingestor(store).ingest_paths(write_articles(tmp_path / "articles", TRANSFERS))
    ids = {("harbor" if r.title.startswith("Harbor") else "velora"): r.id for r in store.articles()}
    return NewsbotChain(HybridRetriever(store, fake_embeddings), confidence=always("high")), ids


@pytest.mark.parametrize("shape", ["messages", "results"])
def test_follow_up_uses_the_previous_answer_in_both_history_shapes(transfers, shape: str) -> None:
    """The earlier question names nobody; its answer names Nadia Rahim, so "her contract" is hers:
    with chat messages (the text of the turns) and with earlier results (also the article cited)."""
    chain, ids = transfers
    first = chain.invoke("Which striker joined from Lakeside United?")
    assert first.citations[0].article_id == ids["harbor"]
    if shape == "messages":
        history: list[dict[str, Any]] = [
            {"role": "user", "content": first.question},
            {"role": "assistant", "content": first.answer},
        ]
    else:
        history = [first]
    result = chain.invoke({"question": "How long is her contract?", "history": history})
    assert_contract(result)
    assert result.conversation.articles == [ids["harbor"]]
    assert "Rahim" in result.conversation.context
    assert result.retrieved[0].article_id == ids["harbor"]
    assert {c.article_id for c in result.citations} == {ids["harbor"]}, result.answer
    alone = chain.invoke("How long is her contract?")
    assert alone.conversation is None


@pytest.mark.parametrize("shape", ["messages", "results", "json"])
def test_a_follow_up_answered_by_the_quote_the_conversation_holds_is_hedged(transfers, shape: str) -> None:
    """ "When did that happen?" searched with a conversation whose answer quoted a sentence gets
    that sentence back with every score high; holding none of the follow-up's own words, it is a
    low answer, not a confident one. A follow-up whose own word is in the sentence stays high, and a
    reference answer (a few words, not the sentence) changes nothing."""
    chain, ids = transfers
    first = chain.invoke("Which striker joined from Lakeside United?")
    quote = first.citations[0].quote
    assert first.confidence == "high" and "Nadia Rahim joined" in quote
    if shape == "messages":
        history: list[dict[str, Any]] = [
            {"role": "user", "content": first.question},
            {"role": "assistant", "content": first.answer},
        ]
    elif shape == "json":  # what the chat UI and `ask --history` pass
        history = [first.model_dump(mode="json")]
    else:
        history = [first]
    echo = chain.invoke({"question": "And when did that happen?", "history": history})
    assert_contract(echo)
    assert [c.quote for c in echo.citations] == [quote], echo.answer
    assert echo.evidence["has_terms"] == 1.0  # a word to look for ("happen"), none of it in the quote
    assert echo.confidence == "low" and echo.evidence["echo"] == 1.0
    assert echo.answer.startswith(HEDGE_MESSAGES["closest"]["en"])
    own_word = chain.invoke({"question": "Which striker was that?", "history": history})
    assert [c.quote for c in own_word.citations] == [quote], own_word.answer
    assert own_word.confidence == "high" and "echo" not in own_word.evidence
    reference = [{"role": "user", "content": first.question}, {"role": "assistant", "content": "Nadia Rahim"}]
    short = chain.invoke({"question": "And when did that happen?", "history": reference})
    assert short.conversation is not None and short.confidence == "high" and "echo" not in short.evidence


def test_a_new_question_is_not_pulled_back_into_the_conversation(transfers) -> None:
    """A full question about something else after a conversation is searched as if asked alone."""
    chain, ids = transfers
    history = [chain.invoke("Which striker joined from Lakeside United?")]
    question = "What is the transfer fee Velora paid for Tomas Brandt?"
    result = chain.invoke({"question": question, "history": history})
    assert result.conversation is None
    assert without_timings(result) == without_timings(chain.invoke(question))
    assert result.citations[0].article_id == ids["velora"]


def test_filter_matching_nothing_abstains(chain: NewsbotChain) -> None:
    result = chain.invoke(
        {"question": "How much drinking water does the Port Lumen plant produce per day?", "filters": {"source": "Nobody"}}
    )
    assert_contract(result)
    assert result.retrieved == []
    assert result.abstained is True
    assert result.answer == "The articles don't say."


def test_empty_store_raises_with_ingest_hint(store, fake_embeddings) -> None:
    chain = NewsbotChain(HybridRetriever(store, fake_embeddings))
    with pytest.raises(NewsbotError, match="newsbot ingest"):
        chain.invoke("Who did Yevkurov meet in Benghazi?")
    with pytest.raises(NewsbotError, match="newsbot ingest"):
        next(iter(chain.stream({"question": "من التقى يفكيروف؟"})))


def test_store_emptied_after_removal_raises_again(chain: NewsbotChain, store) -> None:
    assert chain.invoke("How much drinking water does the Port Lumen plant produce per day?").retrieved
    for record in store.articles():
        assert store.remove_article(record.id)
    with pytest.raises(NewsbotError, match="newsbot ingest"):
        chain.invoke("How much drinking water does the Port Lumen plant produce per day?")


def test_empty_question_is_an_error(chain: NewsbotChain) -> None:
    with pytest.raises(NewsbotError):
        chain.invoke({"question": "   "})


def test_stream_events_in_order_and_result_equals_invoke(chain: NewsbotChain) -> None:
    question = {"question": "How much drinking water does the Port Lumen plant produce per day?"}
    events = list(chain.stream(question))
    kinds = [e.event for e in events]
    assert isinstance(events[0], Retrieved) and isinstance(events[-1], Result)
    assert all(isinstance(e, Delta) for e in events[1:-1])
    # The events' JSON reads back into the same models by their "event" discriminator.
    adapter: TypeAdapter[StreamEvent] = TypeAdapter(StreamEvent)
    assert [adapter.validate_python(e.model_dump(mode="json")) for e in events] == events
    assert kinds[0] == "retrieved"
    assert kinds[-1] == "result"
    assert kinds.count("result") == 1 and kinds.count("retrieved") == 1
    assert set(kinds[1:-1]) == {"delta"}, kinds
    deltas = [e.text for e in events if e.event == "delta"]
    assert all(isinstance(d, str) and d for d in deltas)
    result = events[-1].result
    assert result.abstained is False
    assert events[0].retrieved == result.retrieved
    assert "".join(deltas) == result.answer  # the extractive answer needs no cleaning
    assert without_timings(result) == without_timings(chain.invoke(question))


def test_stream_of_abstention_has_no_deltas(tmp_path: Path, store, fake_embeddings) -> None:
    Ingestor(store).ingest_paths(write_articles(tmp_path / "articles"))
    chain = NewsbotChain(HybridRetriever(store, fake_embeddings), confidence=always("none"))
    events = list(chain.stream("What is the boiling point of tungsten?"))
    assert [e.event for e in events] == ["retrieved", "result"]
    assert events[-1].result.abstained is True


# --------------------------------------------------------------------------- slow: real e5 embedder


@pytest.fixture(scope="module")
def e5_corpus(tmp_path_factory, e5_embeddings):
    """My three articles + the seed article, ingested with e5 into a temp store (once per module)."""
    if not SEED.is_file():
        pytest.skip(f"seed article {SEED} is not available")
    from ingest.store.articles import open_store

    root = tmp_path_factory.mktemp("e5corpus")
    files = [*write_articles(root / "articles"), SEED]  # the seed article is read where it lies
    store = open_store(collection="test", embeddings=e5_embeddings, embedder_id="multilingual-e5-small", db=root / "db")
    report = Ingestor(store).ingest_paths(files)
    assert report.failed == 0 and report.ingested == 4, report.summary()
    return store, NewsbotChain(HybridRetriever(store, e5_embeddings))


@pytest.fixture(scope="module")
def benghazi(e5_corpus) -> AnswerResult:
    _, chain = e5_corpus
    return chain.invoke("Who did Yevkurov meet in Benghazi?")


@pytest.mark.slow
@needs_shared
def test_e5_cross_lingual_answer_with_verified_citations(e5_corpus, benghazi) -> None:
    store, _ = e5_corpus
    result = benghazi
    assert_contract(result)
    assert result.abstained is False, result
    assert result.language == "en"
    assert "حفتر" in result.answer
    assert_citations_verify(result, store)
    seed_id = ids_by_title(store)["seed"]
    assert all(c.article_id == seed_id for c in result.citations)
    assert any("حفتر" in c.quote for c in result.citations)
    assert result.citations[0].date == "2024-06-03"
    assert result.answerer == "extractive"


@pytest.mark.slow
@needs_shared
def test_e5_who_did_yevkurov_meet_quotes_a_sentence_naming_haftar(e5_corpus) -> None:
    """Seed-dev d01: one sentence (two at most), and it names Haftar. (Its confidence comes out
    "low" with the shipped model: the English question matches every sentence of the article
    about equally, see the closing note of issue 10.)"""
    store, chain = e5_corpus
    result = chain.invoke("Who did Yevkurov meet?")
    assert_contract(result)
    assert result.confidence in ("high", "low"), result
    assert "حفتر" in result.citations[0].quote
    assert len(result.citations) <= 2
    assert_citations_verify(result, store)


@pytest.mark.slow
@needs_shared
def test_e5_arabic_question_answers(e5_corpus) -> None:
    store, chain = e5_corpus
    result = chain.invoke("من التقى يفكيروف في بنغازي؟")
    assert_contract(result)
    assert result.language == "ar"
    assert result.abstained is False, result
    assert "حفتر" in result.answer
    assert_citations_verify(result, store)


@pytest.mark.slow
@needs_shared
def test_e5_answers_from_written_articles(e5_corpus) -> None:
    store, chain = e5_corpus
    ids = ids_by_title(store)
    result = chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert result.abstained is False, result
    assert "forty thousand cubic metres" in result.answer
    assert_citations_verify(result, store)
    assert {c.article_id for c in result.citations} == {ids["port"]}

    result = chain.invoke("كم كتابا تضم مكتبة الزهراء؟")
    assert result.language == "ar" and result.abstained is False, result
    assert "خمسين ألف كتاب" in result.answer
    assert_citations_verify(result, store)


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize(
    "question",
    ["What is the boiling point of tungsten?", "ما هي درجة غليان التنغستن؟", "When was Haftar born?"],
)
def test_e5_question_the_articles_dont_answer_is_never_confident(e5_corpus, question: str) -> None:
    _, chain = e5_corpus
    result = chain.invoke(question)
    assert_contract(result)
    assert result.confidence in ("none", "low"), result.answer
    assert result.retrieved, "passages are still reported for a debug view"


@pytest.mark.slow
@needs_shared
def test_e5_follow_up_retrieves_niamey(e5_corpus, benghazi) -> None:
    store, chain = e5_corpus
    assert benghazi.abstained is False
    result = chain.invoke({"question": "Where did he go next?", "history": [benghazi]})
    assert_contract(result)
    assert any("نيامي" in r.text for r in result.retrieved), [r.text[:80] for r in result.retrieved]
    # The conversation is where the follow-up looks first: the article the first answer cited.
    if benghazi.confidence == "high":
        assert set(result.conversation.articles) == {c.article_id for c in benghazi.citations}
    if not result.abstained:
        assert_citations_verify(result, store)
    if result.confidence == "high":
        assert any("نيامي" in c.quote for c in result.citations), result.answer


@pytest.mark.slow
@needs_shared
def test_e5_follow_up_with_chat_message_history(e5_corpus, benghazi) -> None:
    _, chain = e5_corpus
    history = [
        {"role": "user", "content": "Who did Yevkurov meet in Benghazi?"},
        {"role": "assistant", "content": benghazi.answer},
    ]
    result = chain.invoke({"question": "Where did he go next?", "history": history})
    assert any("نيامي" in r.text for r in result.retrieved)


@pytest.mark.slow
@needs_shared
def test_e5_stream_result_equals_invoke(e5_corpus, benghazi) -> None:
    _, chain = e5_corpus
    events = list(chain.stream({"question": "Who did Yevkurov meet in Benghazi?"}))
    kinds = [e.event for e in events]
    assert kinds[0] == "retrieved" and kinds[-1] == "result" and kinds.count("result") == 1
    assert set(kinds[1:-1]) == {"delta"}
    assert without_timings(events[-1].result) == without_timings(benghazi)


# --------------------------------------------------------------------------- the request


def test_ask_request_validates_like_the_dict_did() -> None:
    from bot.answering.contract import AskRequest
    from bot.retrieval.filters import InvalidFilter

    assert AskRequest.of("  Who?  ") == AskRequest(question="Who?")
    req = AskRequest.of(
        {
            "question": "Who?",
            "k": "3",
            "answerer": "",
            "history": None,
            "filters": {"source": "Harbor Times", "since": None},
            "unknown": 1,
        }
    )
    assert (req.k, req.answerer, req.history) == (3, None, [])
    assert req.filters == Filters(source="Harbor Times")
    assert AskRequest.of({"question": "Who?", "k": 0}).k is None  # 0 or None: the chain's k
    for bad in ({"question": "  "}, {"k": 3}, ""):
        with pytest.raises(NewsbotError, match="empty question"):
            AskRequest.of(bad)
    with pytest.raises(InvalidFilter):
        AskRequest.of({"question": "Who?", "filters": {"since": "last week"}})
