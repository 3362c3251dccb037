"""Which sentences are headings, not statements (``bot.retrieval.evidence.is_heading_sentence``)."""

from __future__ import annotations

import pytest

from bot.retrieval.evidence import is_heading_sentence
from bot.retrieval.results import Passage

TEXT = (
    "The council opened twelve cooling centres on Wednesday.\n"
    "Complete coverage on the heatwave \n"  # a link line with a trailing space, as scraped text has
    "  Related: city pools stay open\t\n"
    "Relief is expected from Saturday, forecasters said.\n"
    "Short line"
)


def line(text: str) -> tuple[int, int]:
    """Offsets of ``text`` (without the spaces around it) in TEXT, as the sentence splitter gives them."""
    start = TEXT.index(text)
    return start, start + len(text)


@pytest.mark.parametrize("offset", [0, 500])  # the passage's own start in its article
@pytest.mark.parametrize(
    ("sentence", "heading"),
    [
        ("Complete coverage on the heatwave", True),
        ("Related: city pools stay open", True),
        ("Short line", True),  # the last line, no newline after it
        ("The council opened twelve cooling centres on Wednesday.", False),  # ends like a sentence
        ("Relief is expected from Saturday", False),  # part of a line only
    ],
)
def test_a_short_unpunctuated_whole_line_is_a_heading_even_with_spaces_around_it(
    offset: int, sentence: str, heading: bool
) -> None:
    passage = Passage("c", "a", TEXT, offset, offset + len(TEXT), {})
    s, e = line(sentence)
    assert is_heading_sentence(passage, offset + s, offset + e) is heading
