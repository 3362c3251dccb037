"""From claims to verifiable citations: each claim must be supported by a sentence of a passage.

Shared by every answerer. For an LLM answer, every sentence (claim) is checked against the
sentences of the passages it cites: the best-matching sentence (multilingual embedder cosine,
plus word overlap when the languages match) that does not contradict it (numbers, days, negation,
polarity: ``bot.citations.agreement``) becomes the citation's quote with its character offsets in the
article. A claim whose cited passages hold no supporting sentence is re-pointed
to a retrieved passage that does support it, or dropped (and logged); an answer left with no
supported claim becomes an abstention. Citations are then numbered 1..N in order of first
appearance, one number per (passage, quoted sentence).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.citations.agreement import contradiction, is_instruction
from bot.citations.markers import Citation, Claim, render_answer
from bot.retrieval.results import Passage
from ingest.text.textnorm import tokenize

logger = logging.getLogger(__name__)

# Cosine (passage prompt on both sides) at or above which a sentence is taken to support a claim.
# Measured by benchmarks/support_threshold.py on MLQA dev (300 pairs of each kind): a statement
# and its translation 0.85-0.94 (5-95%), two different statements about one article 0.80-0.92 in
# one language and 0.77-0.86 across languages. At 0.85: 96% of translations pass, and 45% of
# same-language / 11% of cross-language different statements, which the word-overlap and
# contradiction checks (bot/citations/agreement.py) must then catch; the best single cut there is 0.862.
SUPPORT_COSINE = 0.85
# A claim whose content words mostly appear in the sentence is supported whatever the cosine,
# when it has at least SUPPORT_OVERLAP_MIN_TERMS different ones ("city city city" shares its one
# word with any sentence about the city: it says nothing).
SUPPORT_OVERLAP = 0.6
SUPPORT_OVERLAP_MIN_TERMS = 3
# Among the sentences that support a claim, which one is quoted: the highest cosine, shared words
# breaking near-ties. Not tuned (it only orders sentences that already passed the checks above).
WORD_OVERLAP_TIE_BREAK = 0.1


@dataclass
class Quote:
    passage: Passage
    start: int  # offsets in the article text
    end: int
    text: str
    score: float


@dataclass
class GroundedAnswer:
    text: str
    citations: list[Citation]
    claims: list[Claim] = field(default_factory=list)
    dropped_claims: list[str] = field(default_factory=list)
    dropped_numbers: list[int] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return not self.citations


VectorFn = Callable[[Sequence[str]], np.ndarray]
SentencesFn = Callable[[Passage], list[tuple[int, int, str, np.ndarray]]]


def word_overlap(claim: str, sentence: str) -> float:
    """Share of the claim's content words found in the sentence (0..1); 0 for a claim of fewer
    than :data:`SUPPORT_OVERLAP_MIN_TERMS` different words."""
    claim_terms = set(tokenize(claim))
    if len(claim_terms) < SUPPORT_OVERLAP_MIN_TERMS:
        return 0.0
    return len(claim_terms & set(tokenize(sentence))) / len(claim_terms)


class SupportChecker:
    """Finds, for a claim, the sentence of a passage that supports it best.

    ``vectors`` embeds claims (passage prompt); ``sentences`` gives a passage's sentences with
    their vectors (stored at ingest, or embedded on demand).
    """

    def __init__(
        self,
        vectors: VectorFn,
        sentences: SentencesFn,
        cosine: float = SUPPORT_COSINE,
        overlap: float = SUPPORT_OVERLAP,
    ):
        self.vectors = vectors
        self.sentences = sentences
        self.cosine = cosine
        self.overlap = overlap

    def best_quotes(self, claims: Sequence[str], passages: Sequence[Passage]) -> list[list[Quote | None]]:
        """``[claim][passage]`` → the best supporting sentence of that passage, or None."""
        per_passage = [self.sentences(p) for p in passages]
        flat = [v for sents in per_passage for (*_, v) in sents]
        if not claims or not flat:
            return [[None] * len(passages) for _ in claims]
        claim_vecs = self.vectors(list(claims))
        sims = claim_vecs @ np.stack(flat).T
        out: list[list[Quote | None]] = []
        for ci, claim in enumerate(claims):
            row: list[Quote | None] = []
            offset = 0
            for p, sents in zip(passages, per_passage):
                best: Quote | None = None
                for si, (s, e, text, _) in enumerate(sents):
                    cos = float(sims[ci, offset + si])
                    lex = word_overlap(claim, text)
                    if cos >= self.cosine or lex >= self.overlap:
                        # Close is not enough: a sentence that states other numbers, another
                        # day, the negation or the opposite of the claim does not support it,
                        # and an instruction planted in an article supports nothing.
                        why = "it is an instruction" if is_instruction(text) else contradiction(claim, text)
                        if why:
                            logger.info("sentence %r does not support claim %r: %s", text[:80], claim[:80], why)
                            continue
                        score = cos + WORD_OVERLAP_TIE_BREAK * lex
                        if best is None or score > best.score:
                            best = Quote(p, s, e, text, score)
                offset += len(sents)
                row.append(best)
            out.append(row)
        return out


def ground_claims(claims: Sequence[Claim], numbered: dict[int, Passage], checker: SupportChecker) -> GroundedAnswer:
    """Attach a supporting quote to every claim's citations; drop what nothing supports."""
    numbers = sorted(numbered)
    passages = [numbered[n] for n in numbers]
    quotes = checker.best_quotes([c.text for c in claims], passages)
    kept: list[tuple[Claim, list[Quote]]] = []
    dropped_claims: list[str] = []
    for claim, row in zip(claims, quotes):
        by_number = dict(zip(numbers, row))
        cited: list[Quote] = [q for n in claim.numbers if (q := by_number.get(n)) is not None]
        if not cited:
            # The cited passage doesn't say it (or nothing was cited): the best retrieved passage
            # that does, if any, takes the citation.
            candidates = [q for q in row if q is not None]
            if candidates:
                best = max(candidates, key=lambda q: q.score)
                if claim.numbers:
                    logger.info("claim %r re-pointed from %s to passage %s", claim.text, claim.numbers, best.passage.rank)
                cited = [best]
        if not cited:
            logger.warning("dropped unsupported claim %r (cited %s)", claim.text, claim.numbers)
            dropped_claims.append(claim.text)
            continue
        kept.append((claim, cited))
    return finalize(kept, dropped_claims=dropped_claims)


def finalize(kept: Sequence[tuple[Claim, Sequence[Quote]]], dropped_claims: Sequence[str] = ()) -> GroundedAnswer:
    """Number citations 1..N by first appearance (one per passage + quote) and render the answer."""
    keys: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    final_claims: list[Claim] = []
    for claim, quotes in kept:
        nums: list[int] = []
        for q in quotes:
            key = (q.passage.chunk_id, q.start, q.end)
            if key not in keys:
                keys[key] = len(keys) + 1
                meta = q.passage.meta
                citations.append(
                    Citation(
                        n=keys[key],
                        chunk_id=q.passage.chunk_id,
                        article_id=q.passage.article_id,
                        title=q.passage.title,
                        text=q.passage.text,
                        quote=q.text,
                        quote_start=q.start,
                        quote_end=q.end,
                        date=meta.get("date"),
                        source=meta.get("source"),
                        url=meta.get("url"),
                        lang=meta.get("lang"),
                        score=round(q.score, 4),
                    )
                )
            if keys[key] not in nums:
                nums.append(keys[key])
        final_claims.append(Claim(text=claim.text, numbers=nums, separator=claim.separator, supported=True))
    return GroundedAnswer(
        text=render_answer(final_claims) if final_claims else "",
        citations=citations,
        claims=final_claims,
        dropped_claims=list(dropped_claims),
    )
