from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retrieval.bm25 import BM25Index

EN_DOCS = [
    ("a:0", "The Russian deputy defence minister met Khalifa Haftar in Benghazi."),
    ("a:1", "Yevkurov then travelled to Niamey to meet Niger's military leaders."),
    ("b:0", "Oil prices rose on Monday as markets reacted to the OPEC decision."),
    ("b:1", "Analysts expect oil demand to grow in Asia next year."),
]

AR_DOCS = [
    ("ar:0", "قدّمت وللحكومةِ الليبية خطةً جديدةً للانتخابات"),
    ("ar:1", "ارتفعت أسعار النفط في الأسواق العالمية يوم الاثنين"),
    ("ar:2", "التقى نائب وزير الدفاع الروسي خليفة حفتر في بنغازي"),
]


def ids(results: list[tuple[str, float]]) -> list[str]:
    return [doc_id for doc_id, _ in results]


def test_english_ranking() -> None:
    index = BM25Index(EN_DOCS)
    assert ids(index.search("Who met Haftar in Benghazi?", k=2))[0] == "a:0"
    assert ids(index.search("oil price", k=2)) == ["b:0", "b:1"]  # b:0 matches both terms
    assert ids(index.search("Where did Yevkurov travel?", k=1)) == ["a:1"]


def test_arabic_ranking_with_prefixes_and_diacritics() -> None:
    index = BM25Index(AR_DOCS)
    # "الحكومة" finds "وللحكومةِ" (و + لل + stem + kasra)
    assert ids(index.search("الحكومة", k=3)) == ["ar:0"]
    assert ids(index.search("ما هي أسعار النفط؟", k=1)) == ["ar:1"]
    assert ids(index.search("من التقى حفتر؟", k=1)) == ["ar:2"]
    assert ids(index.search("الوزير", k=1)) == ["ar:2"]  # وزير in the text


def test_scores_are_positive_and_sorted() -> None:
    index = BM25Index(EN_DOCS + AR_DOCS)
    results = index.search("oil markets Haftar", k=10)
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert set(ids(results)) == {"a:0", "b:0", "b:1"}  # only documents sharing a term


def test_score_matches_okapi_formula() -> None:
    index = BM25Index([("x", "apple apple banana"), ("y", "banana cherry"), ("z", "cherry date")], k1=1.2, b=0.75)
    n, avgdl = 3, (3 + 2 + 2) / 3
    idf = math.log(1 + (n - 1 + 0.5) / (1 + 0.5))  # "apple" is in 1 document
    tf, dl = 2, 3
    expected = idf * tf * (1.2 + 1) / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))
    [(doc_id, score)] = index.search("apple", k=5)
    assert doc_id == "x"
    assert score == pytest.approx(expected)


def test_idf_follows_document_frequency() -> None:
    index = BM25Index([("1", "alpha beta"), ("2", "gamma")])
    alpha, gamma = index.idf("alpha"), index.idf("gamma")
    index.add([("3", "alpha delta")])
    assert index.idf("alpha") < alpha  # df 1 -> 2: a commoner term weighs less
    assert index.idf("gamma") > gamma  # N 2 -> 3, df unchanged: rarer relative to the corpus
    assert index.idf("alpha") == pytest.approx(math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)))
    index.remove(["1", "3"])
    assert index.idf("alpha") == pytest.approx(math.log(1 + (1 - 0 + 0.5) / 0.5))
    assert index.search("alpha", k=5) == []
    assert BM25Index().idf("alpha") == 0.0


def test_remove_then_readd_equals_fresh_build() -> None:
    docs = EN_DOCS + AR_DOCS
    incremental = BM25Index(docs)
    incremental.remove(["a:1", "ar:0", "missing-id"])
    incremental.add([("ar:0", AR_DOCS[0][1])])
    fresh = BM25Index([d for d in docs if d[0] != "a:1"])
    for query in ["Haftar Benghazi", "oil demand", "الحكومة الانتخابات", "حفتر", "Niamey"]:
        assert incremental.search(query, k=10) == fresh.search(query, k=10)
    assert len(incremental) == len(fresh) == len(docs) - 1


def test_adding_an_existing_id_replaces_it() -> None:
    index = BM25Index([("d", "old words here"), ("e", "other text")])
    index.add([("d", "brand new content")])
    assert len(index) == 2
    assert index.search("old", k=5) == []
    assert ids(index.search("brand", k=5)) == ["d"]
    assert index.search("brand", k=5) == BM25Index([("e", "other text"), ("d", "brand new content")]).search("brand", k=5)


def test_allowed_filter_applies_before_top_k() -> None:
    index = BM25Index([(f"d{i}", "oil " * (i + 1)) for i in range(6)])
    best = ids(index.search("oil", k=2))
    allowed = ids(index.search("oil", k=2, allowed=lambda doc_id: doc_id not in best))
    assert len(allowed) == 2 and not set(allowed) & set(best)
    assert index.search("oil", k=3, allowed=lambda _: False) == []


def test_edge_cases() -> None:
    index = BM25Index()
    assert index.search("anything", k=3) == []
    index.add(EN_DOCS)
    assert index.search("oil", k=0) == []
    assert index.search("the of and ؟", k=3) == []  # nothing but stopwords / punctuation
    assert "a:0" in index and "zzz" not in index
    index.add([("empty", "")])
    assert "empty" in index and index.search("oil", k=10)
    index.clear()
    assert len(index) == 0 and index.search("oil", k=3) == []
    with pytest.raises(ValueError):
        BM25Index(b=2)


def test_ties_break_by_id() -> None:
    index = BM25Index([("b", "same text"), ("a", "same text"), ("c", "same text")])
    assert ids(index.search("same", k=3)) == ["a", "b", "c"]


def test_repeated_query_terms_count_once() -> None:
    index = BM25Index(EN_DOCS)
    assert index.search("oil oil oil", k=3) == index.search("oil", k=3)


def test_concurrent_add_remove_search() -> None:
    index = BM25Index(EN_DOCS)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(200):
                index.add([(f"w{w}:{i}", f"oil news item {i}")])
                if i % 2:
                    index.remove([f"w{w}:{i}"])
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                index.search("oil news", k=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(index) == len(EN_DOCS) + 2 * 100
    survivors = [(f"w{w}:{i}", f"oil news item {i}") for w in range(2) for i in range(0, 200, 2)]
    assert index.search("oil news", k=500) == BM25Index(EN_DOCS + survivors).search("oil news", k=500)


_WORDS = ["oil", "price", "haftar", "benghazi", "حفتر", "الحكومة", "وللحكومة", "نفط", "market"]
# Add (True) or remove (False) document d0..d5, with a text of up to 8 of those words.
_OPS = st.lists(
    st.tuples(st.booleans(), st.integers(0, 5), st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)),
    max_size=30,
)


def _apply(index: BM25Index, ops: list[tuple[bool, int, str]], model: dict[str, str]) -> None:
    """Add or remove documents in ``index``, and the same in ``model`` (id -> text)."""
    for is_add, key, text in ops:
        doc_id = f"d{key}"
        if is_add:
            index.add([(doc_id, text)])
            model[doc_id] = text
        else:
            index.remove([doc_id])
            model.pop(doc_id, None)


def _same_as_fresh(index: BM25Index, model: dict[str, str]) -> None:
    fresh = BM25Index(sorted(model.items()))
    assert len(index) == len(fresh)
    for query in ["oil price", "حكومة", "haftar market نفط"]:
        assert index.search(query, k=10) == fresh.search(query, k=10)


@settings(max_examples=60, deadline=None)
@given(_OPS)
def test_any_add_remove_sequence_equals_fresh_build(ops: list[tuple[bool, int, str]]) -> None:
    index = BM25Index()
    model: dict[str, str] = {}
    _apply(index, ops, model)
    _same_as_fresh(index, model)


@settings(max_examples=60, deadline=None)
@given(_OPS, _OPS)
def test_a_loaded_index_edited_before_any_search_equals_a_fresh_build(
    before: list[tuple[bool, int, str]], after: list[tuple[bool, int, str]]
) -> None:
    # A loaded index makes each term's posting list when it is first read: edits must work on
    # lists nothing has read yet, and saving must write the ones never read.
    index = BM25Index()
    model: dict[str, str] = {}
    _apply(index, before, model)
    loaded = BM25Index.from_state(index.export_state())
    _apply(loaded, after, model)
    resaved = BM25Index.from_state(loaded.export_state())
    _same_as_fresh(loaded, model)
    _same_as_fresh(resaved, model)


@settings(max_examples=60, deadline=None)
@given(_OPS)
def test_saved_state_loads_into_an_index_that_scores_and_removes_alike(ops: list[tuple[bool, int, str]]) -> None:
    index = BM25Index()
    for is_add, key, text in ops:
        (index.add([(f"d{key}", text)]) if is_add else index.remove([f"d{key}"]))
    loaded = BM25Index.from_state(index.export_state())
    queries = ["oil price", "حكومة", "haftar market نفط"]
    assert len(loaded) == len(index)
    assert [loaded.search(q, k=10) for q in queries] == [index.search(q, k=10) for q in queries]
    for doc in ("d0", "d3"):  # still editable: removal needs each document's terms
        assert loaded.matched(doc, ["oil", "haftar"]) == index.matched(doc, ["oil", "haftar"])
    index.remove(["d1"])
    loaded.remove(["d1"])
    index.add([("d9", "oil market")])
    loaded.add([("d9", "oil market")])
    assert [loaded.search(q, k=10) for q in queries] == [index.search(q, k=10) for q in queries]
    # Replacing a document it loaded (its terms derived from the postings) and saving again.
    fresh = BM25Index.from_state(index.export_state())
    for idx in (index, fresh):
        idx.add([("d2", "price of oil")])
    assert [fresh.search(q, k=10) for q in queries] == [index.search(q, k=10) for q in queries]
    again = BM25Index.from_state(fresh.export_state())
    assert len(again) == len(index)
    assert [again.search(q, k=10) for q in queries] == [index.search(q, k=10) for q in queries]


def test_inconsistent_state_is_refused() -> None:
    state = BM25Index(EN_DOCS).export_state()
    state["post_docs"] = state["post_docs"] + 100
    with pytest.raises(ValueError):
        BM25Index.from_state(state)
