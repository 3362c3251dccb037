"""The dev sets of ``../shared/eval`` (see its README): where each corpus and question file is,
and one store per set, built once and reused.

Used by ``benchmarks/dev_matrix.py`` (the matrix with its baselines) and the fitting scripts
(``benchmarks/fit_fusion.py``, ``benchmarks/fit_confidence.py``). The dev data is test data: it is
read from ``../shared`` and never copied into the project.

Stores live in ``--stores`` (default ``~/.cache/newsbot/dev-stores``), one folder per set;
ingest is idempotent, so a second run only checks that nothing changed.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.measure.evaluation import Question, load_questions  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.wiring import App  # noqa: E402

SHARED = ROOT.parent / "shared"
DEFAULT_STORES = Path.home() / ".cache" / "newsbot" / "dev-stores"
SEED_ARTICLE = "articles/yevkurov-haftar-2024-06-03.txt"


@dataclass
class DevSet:
    """One dev set: its corpus (files or folders under ``shared``) and its questions."""

    name: str
    corpus: list[str]
    questions: list[str]
    # Questions without a ``gold_article`` are about this file's article (seed-dev).
    default_gold_file: str | None = None
    # Extra corpus that only makes the store bigger (distractors), never holds a gold answer.
    distractors: list[str] = field(default_factory=list)

    def paths(self, shared: Path) -> list[Path]:
        return [shared / p for p in self.corpus + self.distractors]

    def available(self, shared: Path) -> bool:
        return all(p.exists() for p in self.paths(shared)) and all((shared / q).exists() for q in self.questions)


DEV_SETS: dict[str, DevSet] = {
    s.name: s
    for s in (
        DevSet("arcd", ["eval/arcd-dev/corpus"], ["eval/arcd-dev/questions.jsonl"]),
        DevSet("mlqa", ["eval/mlqa-dev/corpus"], ["eval/mlqa-dev/questions.jsonl"]),
        DevSet("coqa", ["eval/coqa-news-dev/corpus"], ["eval/coqa-news-dev/questions.jsonl"]),
        # The seed article mixed into a larger corpus: ARCD's Arabic articles and CoQA's English
        # news are the distractors (a leave-article-out question then really has no answer).
        DevSet(
            "seed",
            [SEED_ARTICLE],
            ["eval/seed-dev.jsonl"],
            default_gold_file=SEED_ARTICLE,
            distractors=["eval/arcd-dev/corpus", "eval/coqa-news-dev/corpus"],
        ),
    )
}


@dataclass
class Loaded:
    """A dev set with its store open and its questions resolved to article ids."""

    dev: DevSet
    app: App
    questions: list[Question]
    gold_ids: dict[str, str]  # question id -> id of its gold article
    article_ids: list[str] = field(default_factory=list)  # every stored article, sorted


def open_set(dev: DevSet, shared: Path, stores: Path, *, limit: int = 0, embedding: str = "e5", log=print) -> Loaded:
    app = App(Settings(db=stores / dev.name, embedding=embedding, collection="news"))
    report = app.ingestor.ingest_paths(dev.paths(shared))
    if report.ingested or report.failed:
        log(f"[{dev.name}] {report.summary()}")
    questions: list[Question] = []
    for qfile in dev.questions:
        questions.extend(load_questions(shared / qfile))
    if limit:
        questions = questions[:limit]
    records = app.store.articles()
    by_title = {r.title: r.id for r in records}
    default_id = None
    if dev.default_gold_file:
        name = Path(dev.default_gold_file).name
        default_id = next((r.id for r in records if r.path and Path(r.path).name == name), None)
    gold_ids: dict[str, str] = {}
    for q in questions:
        aid = by_title.get(q.gold_article or "") or (default_id if q.answerable else None)
        if aid:
            gold_ids[q.id] = aid
    return Loaded(dev, app, questions, gold_ids, sorted(r.id for r in records))


def add_arguments(ap: argparse.ArgumentParser, sets: str = ",".join(DEV_SETS)) -> None:
    """The options every dev-set script takes: where the data and the stores are, which sets."""
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared folder (with eval/)")
    ap.add_argument("--stores", type=Path, default=DEFAULT_STORES, help="one store folder per set")
    ap.add_argument("--sets", default=sets, help="comma-separated: " + ",".join(DEV_SETS))
    ap.add_argument("--limit", type=int, default=0, help="first N questions per set (0 = all)")


def loaded_sets(args: argparse.Namespace, log=None) -> Iterator[Loaded]:
    """Each set named by ``--sets`` whose files are there, opened (and ingested if needed)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    for name in args.sets.split(","):
        dev = DEV_SETS[name]
        if not dev.available(args.shared):
            log(f"[{name}] skipped: its files are not under {args.shared}")
            continue
        yield open_set(dev, args.shared, args.stores, limit=args.limit, log=log)


def group_of(record: dict) -> tuple[str, str]:
    """(set, language[ follow-up]): how the fitting scripts group their dumped records."""
    return record["set"], record["lang"] + (" follow-up" if record.get("follow_up") else "")


SWITCH_SHARE = 4  # one standalone question in this many is also asked after a topic switch


def is_switch_question(qid: str, share: int = SWITCH_SHARE) -> bool:
    """Is this question one of those asked again right after a turn about another article (the
    same ones in every script: chosen by a hash of the id)?"""
    return bool(share) and zlib.crc32(qid.encode()) % share == 0
