"""The dev matrix: every dev set of ``../shared/eval`` through ``newsbot eval``'s scoring, beside
plain dense baselines computed over the same store in the same run.

    .venv/bin/python benchmarks/dev_matrix.py                 # all sets (make eval-dev)
    .venv/bin/python benchmarks/dev_matrix.py --sets seed,coqa --limit 50 --dump /tmp/m.jsonl

For each set (see ``benchmarks/devsets.py``) its corpus is ingested into a store of its own, then
every question is asked twice:

- **as is**: scored like ``newsbot eval`` (retrieval hit@5/hit@1, citation hit, quote hit,
  answer hit, confidence none / high, high-confidence precision);
- **with its gold article left out** (answerable questions only): the corpus no longer holds the
  answer but still holds everything else, so the right outcome is confidence none or low. These
  rows, with seed-dev's own unanswerable questions, are the "unanswerable" columns.

Baselines, over the same store and embedder:

- ``base@5`` / ``base@1``: a plain LangChain similarity search (``Chroma.similarity_search``,
  k=5), what a tutorial stack returns; ``base@1`` is its top chunk shown as the answer;
- ``prep@5``: the same search with the conversation's earlier turns prepended to the question
  (questions with history only).

Follow-up questions (``follow_up: true``) get rows of their own, and so do two more conditions:

- ``chained``: each conversation of a set with history (coqa) asked again turn by turn with the
  chain's *own* earlier results as history, as the chat UI passes them (its answers and its
  citations, right or wrong, instead of the reference answers);
- ``switch``: one standalone question in ``--switch-every`` (by a hash of its id) asked after one
  turn about another article (a topic switch: the conversation must not pull it back);
- ``one-article``: one standalone question in ``--one-article-every`` (every one of seed-dev)
  asked with retrieval restricted to its gold article, as over a corpus of that one article, and
  again restricted to one other article (an unanswerable row): what a user who dropped in a
  single story sees, where the corpus gives no background to judge a cosine against.

``--dump`` writes one JSON line per asked question (verdicts, confidence, evidence features): the input of
``benchmarks/fit_confidence.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import SWITCH_SHARE, Loaded, add_arguments, is_switch_question, loaded_sets

from bot.answering.contract import AnswerResult
from bot.measure.evaluation import Question, contains, score_result

K = 5


def history_text(history: list[Any] | None) -> str:
    """The earlier turns as plain text (chat messages or earlier results), oldest first."""
    parts: list[str] = []
    for item in history or []:
        if isinstance(item, AnswerResult):
            item = item.to_json()
        if not isinstance(item, dict):
            continue
        if "question" in item:
            parts += [str(item.get("question", "")), str(item.get("answer", ""))]
        elif isinstance(item.get("content"), str):
            parts.append(item["content"])
    return " ".join(p for p in parts if p.strip())


def baseline_hits(loaded: Loaded, q: Question, article_id: str | None = None) -> dict[str, Any]:
    """Plain LangChain dense search over the same store (within one article when given): the
    question alone, and (with history) the earlier turns prepended."""
    vs = loaded.app.store.vectorstore
    out: dict[str, Any] = {}
    if not q.answerable or not q.gold:
        return out
    where = {"article_id": article_id} if article_id else None
    docs = vs.similarity_search(q.question, k=K, filter=where)
    out["base_hit5"] = any(contains(d.page_content, q.gold) for d in docs)
    out["base_hit1"] = bool(docs) and contains(docs[0].page_content, q.gold)
    if q.history:
        docs = vs.similarity_search(f"{history_text(q.history)} {q.question}", k=K)
        out["prep_hit5"] = any(contains(d.page_content, q.gold) for d in docs)
        out["prep_hit1"] = bool(docs) and contains(docs[0].page_content, q.gold)
    return out


def ask(loaded: Loaded, q: Question, filters: dict[str, Any] | None = None) -> tuple[AnswerResult, float]:
    request: dict[str, Any] = {"question": q.question, "k": K}
    if q.history:
        request["history"] = q.history
    if filters:
        request["filters"] = filters
    t0 = time.perf_counter()
    result = loaded.app.chain.invoke(request)
    return result, (time.perf_counter() - t0) * 1000


def top_hit(q: Question, result: AnswerResult) -> bool | None:
    """Does the best-scored citation's passage hold the gold text (the label the confidence
    model estimates; a second quoted sentence doesn't change it)?"""
    if not q.gold:
        return None
    cites = result.citations
    if not cites:
        return False
    best = max(cites, key=lambda c: c.score or 0.0)
    return contains(best.text, q.gold)


def asked_row(
    loaded: Loaded, q: Question, result: AnswerResult, ms: float, part: str = "", article_id: str | None = None
) -> dict[str, Any]:
    return {
        "set": loaded.dev.name,
        "id": q.id,
        "lang": q.lang,
        "kind": "asked",
        "part": part,
        "answerable": q.answerable,
        "follow_up": q.follow_up,
        "ms": round(ms, 1),
        **score_result(q, result),
        **baseline_hits(loaded, q, article_id),
        "top_hit": top_hit(q, result) if q.answerable else None,
        "evidence": result.evidence or {},
        "n_citations": len(result.citations),
    }


def left_out_row(loaded: Loaded, q: Question, result: AnswerResult, ms: float, part: str = "") -> dict[str, Any]:
    """The question asked where its article is not: an unanswerable row."""
    confidence = result.confidence
    cited = [c.text for c in result.citations]
    return {
        "set": loaded.dev.name,
        "id": q.id,
        "lang": q.lang,
        "kind": "left_out",
        "answerable": False,
        "part": part,
        "follow_up": q.follow_up,
        "ms": round(ms, 1),
        "confidence": confidence,
        "abstain_ok": result.abstained,
        "unanswerable_high": confidence == "high",
        # The fact may be stated in another article too: then a confident answer is right.
        "gold_elsewhere": bool(q.gold) and any(contains(t, q.gold) for t in cited),
        "evidence": result.evidence or {},
    }


def switch_history(questions: list[Question], i: int, gold_ids: dict[str, str]) -> list[dict[str, str]] | None:
    """One earlier turn about another article (a question and its reference answer): the next
    question changes the topic, and must be answered as if asked alone."""
    q = questions[i]
    n = len(questions)
    for step in range(n // 2, n):
        other = questions[(i + step) % n]
        if other.answerable and gold_ids.get(other.id) and gold_ids.get(other.id) != gold_ids.get(q.id):
            answer = other.answers[0][0] if other.answers and other.answers[0] else other.gold
            return [{"role": "user", "content": other.question}, {"role": "assistant", "content": answer}]
    return None


def conversation_key(q: Question) -> str:
    return q.id.rsplit("-t", 1)[0]


def run_set(
    loaded: Loaded, *, leave_out: bool, switch_every: int, chained: bool, one_article: int = 0, log
) -> list[dict[str, Any]]:
    rows = []
    t0 = time.time()
    own_results: dict[str, list[AnswerResult]] = {}
    for i, q in enumerate(loaded.questions):
        result, ms = ask(loaded, q)
        row = asked_row(loaded, q, result, ms)
        rows.append(row)
        if chained and q.history is not None:
            # The conversation as the UI holds it: the chain's own earlier results (its answers
            # and citations, right or wrong) are the history.
            earlier = own_results.setdefault(conversation_key(q), [])
            own = Question(**{**q.__dict__, "history": list(earlier)})
            result_c, ms_c = ask(loaded, own)
            rows.append(asked_row(loaded, own, result_c, ms_c, part="chained"))
            earlier.append(result_c)
        if q.history is None and q.answerable and is_switch_question(q.id, switch_every):
            history = switch_history(loaded.questions, i, loaded.gold_ids)
            if history:
                switched = Question(**{**q.__dict__, "history": history})
                result_s, ms_s = ask(loaded, switched)
                rows.append(asked_row(loaded, switched, result_s, ms_s, part="switch"))
        gold_id = loaded.gold_ids.get(q.id)
        small_set = len(loaded.questions) < 50  # seed-dev: every question
        if (
            one_article
            and q.history is None
            and q.answerable
            and gold_id
            and (small_set or is_switch_question(q.id, one_article))
        ):
            # A corpus of one article, as for a user who dropped in a single story: retrieval
            # restricted to the gold article, then to another one (where nothing answers).
            result_a, ms_a = ask(loaded, q, {"article_id": gold_id})
            rows.append(asked_row(loaded, q, result_a, ms_a, part="one-article", article_id=gold_id))
            others = [a for a in loaded.article_ids if a != gold_id]
            if others:
                other = others[zlib.crc32(q.id.encode()) % len(others)]
                result_o, ms_o = ask(loaded, q, {"article_id": other})
                rows.append(left_out_row(loaded, q, result_o, ms_o, part="one-article"))
        if leave_out and q.answerable and gold_id:
            result, ms = ask(loaded, q, {"exclude": [gold_id]})
            rows.append(left_out_row(loaded, q, result, ms))
        if (i + 1) % 100 == 0:
            log(f"[{loaded.dev.name}] {i + 1}/{len(loaded.questions)} questions, {time.time() - t0:.0f}s")
    return rows


def _rate(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [bool(r[key]) for r in rows if r.get(key) is not None]
    return sum(vals) / len(vals) if vals else None


COLUMNS = [
    # (header, key over answerable rows, or a callable)
    ("hit@5", "retrieval_hit"),
    ("hit@1", "retrieval_hit1"),
    ("cite", "citation_hit"),
    ("quote", "quote_hit"),
    ("answer", "answer_hit"),
    ("none", "false_abstain"),
    ("high", "high"),
    ("hiPrec", "high_hit"),
    ("top", "top_hit"),
    ("base@5", "base_hit5"),
    ("base@1", "base_hit1"),
    ("prep@5", "prep_hit5"),
]


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per set × language (× follow-up), plus each set's unanswerable figures."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        part = " ".join(p for p in (r.get("part", ""), "follow-up" if r.get("follow_up") else "") if p)
        groups[(r["set"], r["lang"], part)].append(r)
    lines = []
    for (name, lang, part), rs in sorted(groups.items()):
        asked = [r for r in rs if r["kind"] == "asked" and r["answerable"]]
        unans = [r for r in rs if not r["answerable"]]
        line: dict[str, Any] = {"set": name, "lang": lang, "part": part, "n": len(asked), "n_unans": len(unans)}
        for header, key in COLUMNS:
            line[header] = _rate(asked, key)
        line["unans_high"] = _rate(unans, "unanswerable_high")
        line["unans_none"] = _rate(unans, "abstain_ok")
        real = [r for r in unans if not r.get("gold_elsewhere")]
        line["unans_high_strict"] = _rate(real, "unanswerable_high")
        line["ms_p50"] = float(np.median([r["ms"] for r in asked])) if asked else None
        lines.append(line)
    return lines


def format_table(lines: list[dict[str, Any]]) -> str:
    heads = ["set/lang", "n"] + [h for h, _ in COLUMNS] + ["unans", "u:high", "u:none", "ms"]
    out = ["  ".join(f"{h:>8}" if i else f"{h:<18}" for i, h in enumerate(heads))]

    def f(v: Any) -> str:
        return "       -" if v is None else f"{v:8.3f}" if isinstance(v, float) else f"{v:>8}"

    for ln in lines:
        label = f"{ln['set']}/{ln['lang']}" + (f" {ln['part']}" if ln["part"] else "")
        cells = [ln["n"]] + [ln[h] for h, _ in COLUMNS] + [ln["n_unans"], ln["unans_high"], ln["unans_none"], ln["ms_p50"]]
        out.append(f"{label:<18}  " + "  ".join(f(c) if not isinstance(c, float) or c is None else f(c) for c in cells))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    ap.add_argument("--no-leave-out", action="store_true", help="skip the leave-article-out asks")
    ap.add_argument(
        "--switch-every",
        type=int,
        default=SWITCH_SHARE,
        help="also ask every Nth standalone question after a turn about another article (0: never)",
    )
    ap.add_argument(
        "--one-article-every",
        type=int,
        default=SWITCH_SHARE,
        help="also ask every Nth standalone question over its own article alone, and over one "
        "other article alone (a one-article corpus; 0: never)",
    )
    ap.add_argument(
        "--no-chained", action="store_true", help="skip asking conversations with the chain's own earlier results as history"
    )
    ap.add_argument(
        "--late-chunked-across-scripts",
        action="store_true",
        help="score sentences in another script than the question with their stored late-chunked "
        "vectors instead of embedding them on their own (the behaviour before; see "
        "HybridRetriever.sentences)",
    )
    ap.add_argument(
        "--own-share-same-script",
        type=float,
        default=None,
        help="weight of sentences' own vectors beside their late-chunked ones in the question's script",
    )
    ap.add_argument("--dump", type=Path, help="write one JSON line per asked question here")
    ap.add_argument("--json", action="store_true", help="print the summary lines as JSON")
    args = ap.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows: list[dict[str, Any]] = []
    for loaded in loaded_sets(args, log):
        loaded.app.chain.retriever.own_vectors_across_scripts = not args.late_chunked_across_scripts
        if args.own_share_same_script is not None:
            loaded.app.chain.retriever.own_share_same_script = args.own_share_same_script
        rows += run_set(
            loaded,
            leave_out=not args.no_leave_out,
            switch_every=args.switch_every,
            chained=not args.no_chained,
            one_article=args.one_article_every,
            log=log,
        )
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    lines = summarize(rows)
    if args.json:
        print(json.dumps(lines, indent=1))
    else:
        print(format_table(lines))


if __name__ == "__main__":
    main()
