"""The ``newsbot`` command line. Thin: it builds settings, asks ``App`` for objects, formats results.

Exit codes: 0 success, 1 some input failed (or a runtime error), 2 usage error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.settings import EMBEDDING_KINDS, Settings
from ingest.errors import NewsbotError

if TYPE_CHECKING:
    from bot.wiring import App

logger = logging.getLogger("newsbot")


class Context:
    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = {k: v for k, v in overrides.items() if v is not None}
        self._app: App | None = None

    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def app(self) -> App:
        if self._app is None:
            from bot.wiring import App

            try:
                settings = Settings(**self.overrides)
            except Exception as exc:  # pydantic ValidationError → one line per problem
                raise click.UsageError(_settings_error(exc)) from None
            self._app = App(settings)
        return self._app


# What a terminal would act on rather than show: C0/C1 control characters (ESC starts the escape
# sequences that retitle a window or rewrite the screen) and bidi overrides (which reorder what
# follows). Article titles, quotes, paths and reasons come from untrusted files.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def _echo(message: Any = "", err: bool = False) -> None:
    """``click.echo`` of text made safe for a terminal (:data:`_UNSAFE` shown as escapes)."""
    click.echo(_printable(str(message)), err=err)


def _settings_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for err in errors():
            loc = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"NEWSBOT_{loc.upper()}: {err.get('msg')}")
        return "; ".join(parts)
    return str(exc)


def _run(fn, *args, **kwargs):
    """Turn domain errors into one line on stderr and exit code 1 (no traceback)."""
    try:
        return fn(*args, **kwargs)
    except NewsbotError as exc:
        _echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug: one line by default, the traceback with -vv
        logger.debug("unexpected error", exc_info=True)
        _echo(f"error: unexpected {type(exc).__name__}: {exc} (run with -vv for details)", err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", type=click.Path(path_type=Path), help="Local store folder [NEWSBOT_DB].")
@click.option("--collection", help="Corpus (collection) name [NEWSBOT_COLLECTION].")
@click.option("--chroma-url", help="Use a Chroma server, e.g. http://127.0.0.1:8000 [NEWSBOT_CHROMA_URL].")
@click.option(
    "--embedding",
    type=click.Choice(EMBEDDING_KINDS),
    help="Embedding backend [NEWSBOT_EMBEDDING].",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, db, collection, chroma_url, embedding, verbose) -> None:
    """newsbot: answers questions over your news articles, citing the exact source sentence."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Progress notices of the embedder (one-time conversion) are worth showing at default verbosity.
    logging.getLogger("ingest.embeddings.e5_convert").setLevel(min(level, logging.INFO))
    ctx.obj = Context({"db": db, "collection": collection, "chroma_url": chroma_url, "embedding": embedding})


# --------------------------------------------------------------------------- ingest / list / remove


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or per-file lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def ingest(obj: Context, paths: tuple[Path, ...], quiet: bool, as_json: bool) -> None:
    """Ingest article files or folders (.txt .md .html .json .jsonl .pdf)."""

    def go():
        from ingest.pipeline import FileDone, FileFailed, FilesFound, ProgressEvent, RecordFailed

        ingestor = obj.app.ingestor
        bar = None
        show_bar = not quiet and not as_json and sys.stderr.isatty()

        def progress(event: ProgressEvent) -> None:
            nonlocal bar
            if isinstance(event, FilesFound) and show_bar:
                from tqdm import tqdm

                bar = tqdm(total=event.count, unit="file", file=sys.stderr, leave=False)
            elif isinstance(event, FileFailed | RecordFailed):
                where = f"{event.path} {event.where}" if isinstance(event, RecordFailed) else event.path
                line = _printable(f"failed: {where}: {event.reason}")
                if bar is not None:
                    bar.write(line, file=sys.stderr)
                else:
                    _echo(line, err=True)
                if bar is not None and event.path and isinstance(event, FileFailed):
                    bar.update(1)
            elif isinstance(event, FileDone) and bar is not None:
                bar.update(1)

        report = ingestor.ingest_paths(list(paths), progress=progress)
        if bar is not None:
            bar.close()
        if as_json:
            _echo_json(report.as_dict(), indent=None)
        else:
            _echo(report.summary())
        return report

    report = _run(go)
    sys.exit(1 if report.failed else 0)


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_articles(obj: Context, as_json: bool) -> None:
    """List stored articles."""
    records = _run(lambda: obj.app.store.articles())
    if as_json:
        _echo_json([r.as_dict() for r in records])
        return
    if not records:
        _echo("no articles yet: newsbot ingest PATH")
        return
    for r in records:
        _echo(f"{r.id}\t{r.date or '-'}\t{r.lang or '-'}\t{r.chunks} chunks\t{r.source or '-'}\t{r.title}")
    _echo(f"{len(records)} articles")


@cli.command()
@click.argument("article_id")
@click.pass_obj
def remove(obj: Context, article_id: str) -> None:
    """Remove an article (by the id `newsbot list` shows)."""
    removed = _run(lambda: obj.app.store.remove_article(article_id))
    if not removed:
        _echo(f"error: no article with id {article_id!r} (see: newsbot list)", err=True)
        sys.exit(1)
    _echo(f"removed {article_id}")


# --------------------------------------------------------------------------- ask / eval


def _filters(source: str | None, since: str | None, until: str | None, article: str | None) -> dict[str, Any]:
    return {"source": source, "since": since, "until": until, "article_id": article}


def _filter_options(fn):
    fn = click.option("--article", help="Only this article id.")(fn)
    fn = click.option("--until", help="Only articles dated on/before this day (YYYY-MM-DD).")(fn)
    fn = click.option("--since", help="Only articles dated on/after this day (YYYY-MM-DD).")(fn)
    fn = click.option("--source", help="Only articles from this source.")(fn)
    return fn


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--k", type=click.IntRange(1, 50), help="Passages to retrieve [NEWSBOT_K].")
@click.option(
    "--history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file: earlier `ask --json` results or chat messages, oldest first.",
)
@_filter_options
@click.pass_obj
def ask(obj: Context, question: str, as_json: bool, k, history, source, since, until, article) -> None:
    """Answer a question from the stored articles, with numbered sources."""

    from bot.retrieval.filters import Filters, InvalidFilter

    try:
        Filters(**{key: v for key, v in _filters(source, since, until, article).items() if v})
    except InvalidFilter as exc:
        raise click.UsageError(str(exc)) from None

    def go():
        turns = None
        if history is not None:
            try:
                turns = json.loads(history.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise click.UsageError(f"{history}: not a JSON file ({exc})") from None
            except RecursionError:
                raise click.UsageError(f"{history}: not a JSON file (nested too deeply)") from None
            if isinstance(turns, dict):
                turns = [turns]
            if not isinstance(turns, list):
                raise click.UsageError(f"{history}: expected a JSON list of earlier results or messages")
        request = {"question": question, "k": k, "history": turns, "filters": _filters(source, since, until, article)}
        return obj.app.chain.invoke(request)

    result = _run(go)
    if as_json:
        _echo_json(result.to_json())
        return
    hedge, answer = result.split_hedge()
    if hedge:
        _echo(hedge)  # on a line of its own, above the closest sentence
    _echo(answer)
    if result.citations:
        _echo("")
        _echo("Sources:" if result.language != "ar" else "المصادر:")
        for c in result.citations:
            meta = ", ".join(x for x in (c.source, c.date) if x)
            _echo(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
            _echo(f'    "{" ".join(c.quote.split())}"')


@cli.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write one result per line here.")
@click.option("--k", type=click.IntRange(1, 50), help="Passages to retrieve [NEWSBOT_K].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def evaluate(obj: Context, questions: Path, out: Path | None, k: int | None, as_json: bool) -> None:
    """Run every question of a JSONL file and print retrieval/citation/answer scores."""
    from bot.measure.evaluation import format_summary, load_questions, run_eval

    def go():
        qs = load_questions(questions)
        chain = obj.app.chain
        kk = k or obj.settings.k
        handle = out.open("w", encoding="utf-8") if out else None
        try:

            def write(record):
                if handle:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")

            return run_eval(chain, qs, k=kk, on_result=write)
        finally:
            if handle:
                handle.close()

    _echo_report(_run(go), as_json, format_summary)


@cli.group()
def feedback() -> None:
    """Readers' 👍/👎 from the web UI (kept in NEWSBOT_FEEDBACK_FILE, by default next to the store)."""


@feedback.command(name="export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Feedback file to read [default: this store's, see NEWSBOT_FEEDBACK_FILE].",
)
@click.pass_obj
def feedback_export(obj: Context, out: Path, source: Path | None) -> None:
    """Write the verdicts as a questions file for `newsbot eval`, for review: 👍 → answerable with
    the cited sentence as gold; 👍 on "the articles don't say" and 👎 "not in the articles" →
    unanswerable; other 👎 → OUT's .review.jsonl, for a person to write the gold."""
    from bot.surfaces import feedback as fb

    def go():
        src = source or obj.settings.feedback_path()
        if not src.is_file():
            raise fb.FeedbackError(f"{src}: no feedback yet (readers' 👍/👎 in the web UI are kept there)")
        counts = fb.export_questions(src, out)
        line = f"{counts['records']} verdicts → {out}: {counts['answerable']} answerable, {counts['unanswerable']} unanswerable"
        if counts["to_review"]:
            line += f"; {counts['to_review']} 👎 to review in {fb.review_file(out)}"
        _echo(line)

    _run(go)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 exposes it to the network).")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="Port to listen on.")
@click.pass_obj
def serve(obj: Context, host: str, port: int) -> None:
    """Open the chat in the browser (Gradio); login with NEWSBOT_AUTH=user:password."""

    def start() -> None:
        # The store, the keyword index and the query encoder load while the web framework imports.
        obj.app.start_warm_up()
        from bot.surfaces.web.app import serve as serve_ui

        serve_ui(obj.app, host=host, port=port)

    _run(start)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (raw figures and ratios).")
@click.option(
    "--sizes",
    default="1000,10000,100000",
    show_default=True,
    help="Corpus sizes (chunks) for question latency; synthetic stores, built once and cached.",
)
@click.option("--questions", type=click.IntRange(5, 1000), default=30, show_default=True, help="Timed questions per size.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the sized stores are cached [MODEL_DIR/../bench].",
)
@click.option("--no-serve", is_flag=True, help="Skip the `newsbot serve` figures (peak RSS, first answer).")
@click.pass_obj
def bench(obj: Context, as_json: bool, sizes: str, questions: int, cache_dir: Path | None, no_serve: bool) -> None:
    """Benchmark ingest, question latency at 1k-100k chunks and serve; each figure beside its goal."""
    from bot.measure.bench.report import format_report
    from bot.measure.bench.runner import BenchOptions, parse_sizes, run_bench

    def go():
        settings = obj.settings
        options = BenchOptions(
            sizes=parse_sizes(sizes),
            cache_dir=cache_dir or settings.model_dir.parent / "bench",
            questions=questions,
            serve=not no_serve,
        )
        return run_bench(obj.app, options, log=lambda msg: _echo(f"bench: {msg}", err=True))

    _echo_report(_run(go), as_json, format_report)


def _echo_json(value: Any, indent: int | None = 2) -> None:
    # json escapes C0 controls itself; C1 controls and bidi overrides become \u escapes too.
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    click.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _echo_report(result: Any, as_json: bool, format_lines: Callable[[Any], Iterable[str]]) -> None:
    """A command's result as one JSON object (``--json``) or as its text lines."""
    if as_json:
        _echo_json(result)
    else:
        for line in format_lines(result):
            _echo(line)


def main() -> None:
    from bot.surfaces.memory import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread starts: see bot/surfaces/memory.py
    cli(prog_name="newsbot")


if __name__ == "__main__":  # pragma: no cover
    main()
