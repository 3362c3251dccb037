"""Run every dev set's faithful claims through the contradiction checks (``bot/citations/agreement.py``):
how many supported claims would they refuse?

    .venv/bin/python benchmarks/check_agreement.py [--shared ../shared] [--show 10]

For each answerable question of arcd-dev, mlqa-dev (English and Arabic questions), coqa-news-dev
and seed-dev, the sentence of its gold article that holds the gold text is the evidence, and three
claims that it supports are checked against it:

- ``sentence``: the sentence itself;
- ``answer``: each reference answer (arcd/mlqa answers are spans of the sentence; CoQA's are
  written by annotators: "three", "no", a paraphrase);
- ``q+a``: the question followed by the first answer, the shape of an LLM's one-line answer
  ("Who did Yevkurov meet? Haftar"). A question may name a year or a day the gold sentence leaves
  to its neighbours, so this row over-counts; its refusals are listed for reading.

Instruction-shaped sentences among the gold sentences are counted too (they should be none).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.citations.agreement import contradiction, is_instruction
from bot.measure.evaluation import load_questions
from ingest.loaders.files import discover_files, load_file
from ingest.text.sentences import split_sentences
from ingest.text.textnorm import normalize_for_match

SETS = {
    "arcd": ("eval/arcd-dev/corpus", "eval/arcd-dev/questions.jsonl"),
    "mlqa": ("eval/mlqa-dev/corpus", "eval/mlqa-dev/questions.jsonl"),
    "coqa": ("eval/coqa-news-dev/corpus", "eval/coqa-news-dev/questions.jsonl"),
    "seed": ("articles/yevkurov-haftar-2024-06-03.txt", "eval/seed-dev.jsonl"),
}


def gold_sentence(texts: list[str], gold: str) -> str | None:
    """The sentence (of the gold article, else of any article) that holds ``gold`` whole."""
    want = normalize_for_match(gold)
    for text in texts:
        if want not in normalize_for_match(text):
            continue
        for s, e in split_sentences(text, max_len=10**6):
            if want in normalize_for_match(text[s:e]):
                return text[s:e]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--show", type=int, default=10, help="refusals listed per kind")
    args = ap.parse_args()

    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    shown: dict[str, list[str]] = defaultdict(list)
    instructions = 0
    for name, (corpus, qfile) in SETS.items():
        if not (args.shared / corpus).exists() or not (args.shared / qfile).exists():
            print(f"[{name}] skipped: not under {args.shared}", file=sys.stderr)
            continue
        files, _ = discover_files([args.shared / corpus])
        articles = [a for f in files for a in load_file(f, max_bytes=1 << 26)]
        by_title = {a.title: a.text for a in articles}
        texts = [a.text for a in articles]
        for q in load_questions(args.shared / qfile):
            if not q.answerable or not q.gold:
                continue
            own = by_title.get(q.gold_article or "")
            sentence = gold_sentence([own] if own else texts, q.gold)
            if sentence is None:
                continue  # the gold text spans two sentences
            instructions += is_instruction(sentence)
            answers = [alt for group in q.answers for alt in group]
            claims = [("sentence", sentence)] + [("answer", a) for a in answers]
            if answers:
                claims.append(("q+a", f"{q.question} {answers[0]}"))
            for kind, claim in claims:
                why = contradiction(claim, sentence)
                counts[(f"{name}/{q.lang}", kind)][0] += 1
                if why:
                    counts[(f"{name}/{q.lang}", kind)][1] += 1
                    if len(shown[kind]) < args.show:
                        shown[kind].append(f"  [{name}/{q.lang}] {claim[:120]!r}\n      vs {sentence[:160]!r}\n      : {why}")

    print(f"{'group':<12}{'kind':<10}{'claims':>8}{'refused':>9}{'share':>8}")
    for (group, kind), (n, bad) in sorted(counts.items()):
        print(f"{group:<12}{kind:<10}{n:>8}{bad:>9}{bad / n if n else 0:>8.3f}")
    print(f"\ninstruction-shaped gold sentences: {instructions}")
    for kind, lines in shown.items():
        print(f"\nrefused {kind} claims (first {args.show}):")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
