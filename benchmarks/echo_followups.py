"""What the echo rule (``echoes_conversation`` in ``bot/answering/extractive.py``) does to
conversations asked as the chat UI asks them: each coqa-news-dev conversation turn by turn, with
the chain's own earlier results as history (the "chained" rows of ``benchmarks/dev_matrix.py``).

    .venv/bin/python benchmarks/echo_followups.py [--stores DIR] [--shared DIR]

For every answerable follow-up it prints how often the answer quotes a sentence an earlier answer
of the conversation already quoted, split by confidence and by the rule's verdict, with how often
the quoted passage holds the gold text:

- ``high, new sentence``: a sentence the conversation had not quoted;
- ``high, repeat with own words``: a repeat that holds one of the follow-up's own terms (kept high);
- ``echo -> low``: a repeat without one, which the evidence scores alone would have made high;
- ``no terms -> low``: a follow-up with no term of its own to look for ("When?"), which the
  evidence scores alone would have made high (``ConfidenceModel.level``; checked first).

The rule has no constant to fit; this script is the measurement its docstring quotes.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_matrix import conversation_key
from devsets import add_arguments, loaded_sets

from bot.answering.confidence import DEFAULT_CONFIDENCE
from bot.answering.contract import AnswerResult
from bot.measure.evaluation import contains


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap, sets="coqa")
    args = ap.parse_args()
    counts: Counter[tuple[str, bool]] = Counter()
    for loaded in loaded_sets(args):
        chain = loaded.app.chain
        earlier: dict[str, list[AnswerResult]] = {}
        for q in loaded.questions:
            if q.history is None:
                continue
            turns = earlier.setdefault(conversation_key(q), [])
            result = chain.invoke({"question": q.question, "history": list(turns)})
            turns.append(result)
            if not (q.follow_up and q.answerable and q.gold):
                continue
            held = {c.quote for r in turns[:-1] for c in r.citations}
            repeat = any(c.quote in held for c in result.citations)
            cite = any(contains(c.text, q.gold) for c in result.citations)
            evidence = result.evidence or {}
            if evidence.get("has_terms") == 0.0 and evidence.get("p_correct", 0.0) >= DEFAULT_CONFIDENCE.high:
                kind = f"no terms -> low, {'repeat' if repeat else 'new'}"
            elif evidence.get("echo"):
                kind = "echo -> low"
            elif result.confidence == "high":
                kind = "high, repeat with own words" if repeat else "high, new sentence"
            else:
                kind = f"{result.confidence}, {'repeat' if repeat else 'new sentence'}"
            counts[(kind, cite)] += 1
    print(f"{'follow-ups (chained)':<30}{'n':>6}{'cites gold':>12}")
    for kind in sorted({k for k, _ in counts}):
        n = counts[(kind, True)] + counts[(kind, False)]
        print(f"{kind:<30}{n:>6}{counts[(kind, True)]:>12}")


if __name__ == "__main__":
    main()
