"""Chunking: exact offsets, headings glued to their paragraph, duplicates once, sizes, overlap."""

from __future__ import annotations

import pytest
from helpers import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_article, chunk_text
from ingest.types import Article

PARAS_EN = [
    "Storm closes coastal road",
    "The coastal road between the two towns was closed on Monday after heavy rain. "
    "Officials said repairs would take a week. Drivers were told to use the inland route.",
    "Schools in the area stayed open. Parents were asked to allow extra time for the school run, "
    "and buses left earlier than usual.",
    "Weather outlook",
    "Forecasters expect drier weather from Thursday. A second band of rain may arrive next week, "
    "but it is expected to be lighter.",
]


def _text(paras: list[str]) -> str:
    return "\n\n".join(paras) + "\n"


def test_offsets_slice_the_article_exactly() -> None:
    text = _text(PARAS_EN * 3)
    article = Article(id="a", text=text, title="t")
    chunks = chunk_article(article, size=200, max_size=300, overlap=1)
    assert len(chunks) > 3
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert c.article_id == "a"
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_heading_is_glued_to_following_paragraph() -> None:
    text = _text(PARAS_EN)
    spans = chunk_text(text, size=120, max_size=400, overlap=0)
    texts = [text[s:e] for s, e in spans]
    assert not any(t.strip() == "Weather outlook" for t in texts)
    holder = [t for t in texts if "Weather outlook" in t]
    assert holder and "Forecasters expect" in holder[0]
    assert holder[0].startswith("Weather outlook")


def test_repeated_paragraph_is_stored_once() -> None:
    para = PARAS_EN[1]
    text = _text([PARAS_EN[0], para, PARAS_EN[2], para, PARAS_EN[4]])
    spans = chunk_text(text, size=2000, max_size=3000, overlap=0)
    joined = " ".join(text[s:e] for s, e in spans)
    assert joined.count("The coastal road between") == 1
    assert "Forecasters expect" in joined  # what follows the duplicate is kept


def test_sizes_respect_target_and_limit() -> None:
    text = _text([f"{p} ({i})" for i in range(10) for p in PARAS_EN])
    spans = chunk_text(text, size=300, max_size=450, overlap=1)
    lengths = [e - s for s, e in spans]
    assert max(lengths) <= 450
    assert sum(lengths) / len(lengths) > 150


def test_one_sentence_overlap_between_neighbours() -> None:
    sentences = [f"Sentence number {i} says something about the harbour and the boats." for i in range(30)]
    text = " ".join(sentences)
    spans = chunk_text(text, size=250, max_size=400, overlap=1)
    assert len(spans) > 3
    for (_, e1), (s2, _) in zip(spans, spans[1:]):
        assert s2 < e1, "neighbouring chunks share one sentence"
        shared = text[s2:e1]
        assert shared.strip() in sentences


def test_overlong_sentence_is_cut_at_whitespace() -> None:
    text = "word " * 600
    spans = chunk_text(text, size=300, max_size=400, overlap=1)
    assert all(e - s <= 400 for s, e in spans)
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_arabic_sentences_and_punctuation() -> None:
    text = (
        "عنوان الخبر\n\n"
        "قال الوزير إن المشروع سيكتمل قريباً. وأضاف أن التمويل متوفر؛ لكن العمل يحتاج وقتاً. "
        "هل سيبدأ التنفيذ هذا العام؟ نعم، بحسب الخطة.\n"
    ) * 4
    article = Article(id="ar", text=text, title="عنوان الخبر", lang="ar")
    chunks = chunk_article(article, size=150, max_size=250, overlap=1)
    assert chunks
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip() == c.text


@pytest.mark.skipif(not (SHARED / "articles").is_dir(), reason="../shared/articles not present")
def test_seed_article_chunks_are_sane() -> None:
    path = SHARED / "articles" / "yevkurov-haftar-2024-06-03.txt"
    text = path.read_text(encoding="utf-8")
    spans = chunk_text(text)
    assert 5 <= len(spans) <= 30
    for s, e in spans:
        assert 100 <= e - s <= 1000
    # The short title/dateline lines at the top never form a chunk on their own.
    first = text[spans[0][0] : spans[0][1]]
    assert first.count("\n") >= 2


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="abc .!?\n،؛؟ابت", min_size=0, max_size=120),
            st.sampled_from(PARAS_EN),
        ),
        max_size=12,
    ),
    st.integers(min_value=100, max_value=600),
    st.integers(min_value=0, max_value=2),
)
def test_chunks_always_slice_and_stay_bounded(parts: list[str], size: int, overlap: int) -> None:
    text = "\n".join(parts)
    spans = chunk_text(text, size=size, max_size=size + 200, overlap=overlap)
    last_start = -1
    for s, e in spans:
        assert 0 <= s < e <= len(text)
        assert e - s <= size + 200
        assert s > last_start
        last_start = s
        assert text[s:e].strip() == text[s:e]


def test_chunking_options_come_from_settings_and_refuse_a_maximum_below_the_size(tmp_path) -> None:
    from bot.settings import Settings
    from ingest.chunking import CHUNK_MAX, CHUNK_OVERLAP, CHUNK_SIZE, ChunkingOptions
    from ingest.errors import ConfigError

    assert ChunkingOptions() == ChunkingOptions(CHUNK_SIZE, CHUNK_MAX, CHUNK_OVERLAP)
    assert Settings(_env_file=None, db=tmp_path).chunking() == ChunkingOptions()  # type: ignore[call-arg]
    assert Settings(_env_file=None, db=tmp_path, chunk_size=300, chunk_max=400).chunking() == ChunkingOptions(300, 400)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="NEWSBOT_CHUNK_MAX"):
        Settings(_env_file=None, db=tmp_path, chunk_size=500, chunk_max=400).chunking()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="must be >="):
        ChunkingOptions(size=500, max_size=400)
