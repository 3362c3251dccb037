"""What the web app's events do: each handler calls the chain, the ingestor or the store and formats the result with :mod:`bot.surfaces.web.render`."""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from bot.answering.chain import EmptyStoreError
from bot.answering.contract import Delta, Result, Retrieved
from bot.surfaces import feedback
from bot.surfaces.web import chats
from bot.surfaces.web import render as fmt
from bot.surfaces.web import render_article as fmt_article
from bot.surfaces.web import render_corpus as fmt_corpus
from ingest.errors import NewsbotError
from ingest.pipeline import FileDone, FileFailed, FileFailure, FilesFound, IngestReport, ProgressEvent
from ingest.text.textnorm import detect_lang

if TYPE_CHECKING:
    from bot.wiring import App

logger = logging.getLogger(__name__)


# Earlier results passed to the chain as history (follow-ups look back a few turns at most).
HISTORY_TURNS = 6


def _empty_store_placeholder() -> str:
    return f'<div dir="ltr">{fmt.esc(fmt.t("en", "empty_store"))}</div><div dir="rtl">{fmt.esc(fmt.t("ar", "empty_store"))}</div>'


def _earlier_list(kept: Any) -> gr.Dropdown:
    listed = chats.choices(kept)
    return gr.Dropdown(choices=listed, value=None, visible=bool(listed))


#: Seconds an LLM question waits for a free LLM slot before it is told the LLM is busy.
LLM_SLOT_WAIT = 2.0


class Handlers:
    """The event handlers, bound to one App (shared by all sessions)."""

    def __init__(self, app: App) -> None:
        self.app = app
        # LLM answers and extractive answers each get NEWSBOT_CONCURRENCY slots, inside a Gradio
        # limit of twice that: slow LLM answers can no longer hold every worker while extractive
        # questions wait. An LLM question that finds no slot is told so at once rather than
        # queued (a queued one would hold a worker too).
        slots = max(1, int(getattr(app.settings, "concurrency", 4)))
        self._slots = {"llm": threading.BoundedSemaphore(slots), "extractive": threading.BoundedSemaphore(slots)}

    @functools.cached_property
    def feedback_log(self) -> feedback.FeedbackLog:
        return feedback.FeedbackLog(self.app.settings.feedback_path())

    # ---------------------------------------------------------------- chat

    def respond(self, question: str, k: int, answerer: str, messages: list, results: list):
        """Stream an answer. Yields (chatbot, messages, results, sources, debug, textbox)."""
        question = (question or "").strip()
        messages = list(messages or [])
        results = list(results or [])
        if not question:
            yield messages, messages, results, gr.skip(), gr.skip(), ""
            return
        lang = detect_lang(question)
        messages.append({"role": "user", "content": fmt.question_html(question)})
        messages.append({"role": "assistant", "content": fmt.streaming_html("")})
        debug: Any = gr.skip()
        yield messages, messages, results, gr.skip(), debug, ""

        request = {
            "question": question,
            "history": [r for r in results if not fmt.is_notice(r)][-HISTORY_TURNS:],
            "k": int(k) if k else None,
            "answerer": answerer or None,
        }
        chain = self.app.chain
        chosen = chain.answerers.get(answerer or chain.answerer)
        # An answerer that writes with an LLM waits for an LLM slot (so does a name the chain does
        # not know: the chain then says it is not configured).
        kind = "extractive" if chosen is not None and chosen.chat_model is None else "llm"
        slot = self._slots[kind]
        if not slot.acquire(timeout=LLM_SLOT_WAIT if kind == "llm" else None):
            yield self._notice(question, fmt.t(lang, "llm_busy"), lang, "notice", messages, results, debug)
            return
        try:
            yield from self._answer(request, lang, messages, results, debug)
        finally:
            slot.release()

    @staticmethod
    def _notice(question: str, text: str, lang: str, kind: str, messages: list, results: list, debug: Any) -> tuple:
        """The turn ends with a notice instead of an answer; it stays a turn of the chat."""
        messages[-1] = {"role": "assistant", "content": fmt.notice_html(text, lang, kind)}
        results.append(fmt.notice_result(question, text, lang, kind))
        return messages, messages, results, gr.skip(), debug, ""

    def _answer(self, request: dict[str, Any], lang: str, messages: list, results: list, debug: Any):
        question = request["question"]
        written = ""
        result = None
        try:
            for event in self.app.chain.stream(request):
                if isinstance(event, Retrieved):
                    debug = fmt_corpus.retrieved_html(event.retrieved, lang)
                    yield messages, messages, results, gr.skip(), debug, ""
                elif isinstance(event, Delta):
                    written += event.text
                    messages[-1] = {"role": "assistant", "content": fmt.streaming_html(written)}
                    yield messages, messages, results, gr.skip(), debug, ""
                elif isinstance(event, Result):
                    result = event.result
        except EmptyStoreError:
            yield self._notice(question, fmt.t(lang, "empty_store"), lang, "notice", messages, results, debug)
            return
        except NewsbotError as exc:
            yield self._notice(question, f"{fmt.t(lang, 'error')}: {exc}", lang, "error", messages, results, debug)
            return
        except Exception as exc:  # a bug: log it, tell the user briefly, keep the session alive
            logger.exception("answering failed")
            text = f"{fmt.t(lang, 'error')} ({type(exc).__name__})"
            yield self._notice(question, text, lang, "error", messages, results, debug)
            return
        if result is None:  # pragma: no cover - the chain always ends with a result
            return
        turn = len(results)
        # The chat's results are JSON: they are kept in the browser and rendered from there.
        results.append(result.to_json())
        messages[-1] = {"role": "assistant", "content": fmt.answer_html(results[-1], turn)}
        debug = fmt_corpus.retrieved_html(result.retrieved, lang)
        yield messages, messages, results, fmt.sources_html(results), debug, ""

    # ---------------------------------------------------------------- chats kept in the browser

    @staticmethod
    def _show(kept: dict, results: list) -> tuple:
        """(chatbot, messages, results, sources, debug, question, kept chats, earlier-chats list)."""
        messages = fmt.chat_messages(results)
        earlier = _earlier_list(kept)
        verdicts = [r.get("feedback") for r in results]  # the 👍/👎 already given, shown again
        shown = gr.Chatbot(value=messages, feedback_value=verdicts)  # type: ignore[arg-type]  # dicts are messages
        return shown, messages, results, fmt.sources_html(results), "", "", kept, earlier

    def restore(self, messages: list, kept: Any):
        """On page load: the chat this browser had open, and the list of its earlier ones (the
        chat is left alone if a question was asked before this ran)."""
        kept = chats.save(kept, [])
        if messages:
            return (*(gr.skip(),) * 7, _earlier_list(kept))
        return self._show(kept, chats.current_results(kept))

    @staticmethod
    def keep(results: list, kept: Any):
        """After each answer: the browser keeps the conversation (survives a reload)."""
        kept = chats.save(kept, results)
        return kept, _earlier_list(kept)

    def new_chat(self, results: list, kept: Any):
        kept = chats.start_new(chats.save(kept, results))
        return self._show(kept, [])

    def open_chat(self, chat_id: str | None, results: list, kept: Any):
        if not chat_id:
            return (gr.skip(),) * 8
        kept = chats.switch_to(chats.save(kept, results), chat_id)
        return self._show(kept, chats.current_results(kept))

    # ---------------------------------------------------------------- article view

    def open_article(self, results: list, evt: gr.EventData):
        """A citation's or a corpus row's article, in the Article tab (see ``OPENER_JS``)."""
        data = getattr(evt, "_data", None) or {}
        store = self.app.store
        if "article" in data:
            article_id = str(data["article"])
            record = store.article(article_id)
            view = fmt_article.article_html(record.as_dict() if record else None, store.article_text(article_id))
            return view, gr.Tabs(selected="article")
        try:
            turn, n = int(data["turn"]), int(data["n"])
            result = results[turn]
            citation = next(c for c in result.get("citations") or [] if c.get("n") == n)
        except (KeyError, TypeError, ValueError, IndexError, StopIteration):
            return gr.skip(), gr.skip()
        article_id = str(citation.get("article_id"))
        record = store.article(article_id)
        same = [c for c in result.get("citations") or [] if c.get("article_id") == article_id]
        view = fmt_article.article_html(
            record.as_dict() if record else None,
            store.article_text(article_id) if record else None,
            citations=same,
            focus=n,
            question=str(result.get("question") or ""),
            lang=result.get("language"),
        )
        return view, gr.Tabs(selected="article")

    # ---------------------------------------------------------------- feedback

    def feedback(self, results: list, evt: gr.LikeData, request: gr.Request):
        """👍/👎 on an answer: one line in the feedback file; then offer a reason. Returns (reason
        row, the record, results with the verdict noted so a restored chat shows it)."""
        # Message 2i is turn i's question, 2i+1 its answer (a notice is a turn too).
        index = evt.index if isinstance(evt.index, int) else -1
        turn = index // 2 if index % 2 == 1 else -1
        if not 0 <= turn < len(results) or fmt.is_notice(results[turn]):
            return gr.skip(), None, gr.skip()
        verdict = {True: "up", "Like": "up", False: "down", "Dislike": "down"}.get(evt.liked)
        results = list(results)
        results[turn] = {**results[turn], "feedback": {"up": "Like", "down": "Dislike"}.get(verdict or "")}
        if verdict is None:  # the reader took the verdict back
            return gr.update(visible=False), None, results
        record = feedback.make_record(results[turn], verdict, history=results[:turn], user=getattr(request, "username", None))
        try:
            self.feedback_log.append(record)
        except feedback.FeedbackError as exc:
            logger.error("%s", exc)
            gr.Warning(str(exc))
            return gr.skip(), None, gr.skip()
        return gr.update(visible=True), record, results

    def feedback_reason(self, reason: str | None, record: dict | None):
        """The optional reason: the verdict's record again, with it (the last line of an id wins)."""
        if record and (reason or "").strip():
            try:
                self.feedback_log.append({**record, "reason": feedback.one_line(reason)})
            except feedback.FeedbackError as exc:
                logger.error("%s", exc)
                gr.Warning(str(exc))
        return gr.update(visible=False), None, gr.update(value=None)

    # ---------------------------------------------------------------- corpus

    def corpus_views(self):
        """(article table, remove dropdown, examples, chat placeholder) for the current corpus."""
        records = self.app.store.articles()
        examples = [[q] for q in fmt_corpus.example_questions(records)]
        return (
            fmt_corpus.articles_html(records),
            gr.Dropdown(choices=fmt_corpus.article_choices(records), value=None, allow_custom_value=True),
            gr.Dataset(samples=examples or [[""]], visible=bool(examples)),
            gr.Chatbot(placeholder=None if records else _empty_store_placeholder()),
        )

    def ingest(self, files: list[str] | None, progress: gr.Progress = gr.Progress()):
        """Ingest uploaded files with the CLI's validation; (report, *corpus views)."""
        paths: list[Path] = []
        names: dict[str, str] = {}
        refused: list[str] = []
        upload_root = Path(gr.utils.get_upload_folder()).resolve()
        for f in files or []:
            p = Path(f)
            # Only files Gradio received in this upload: never a path elsewhere on the machine.
            if p.is_symlink() or not p.is_file() or not p.resolve().is_relative_to(upload_root):
                refused.append(p.name)
                continue
            paths.append(p)
            names[str(p)] = p.name
        if not paths and not refused:
            return ("<p>Choose files to upload first.</p>", *self.corpus_views())

        done = 0
        total = len(paths)

        def on_progress(event: ProgressEvent) -> None:
            nonlocal done, total
            if isinstance(event, FilesFound):
                total = max(event.count, 1)
            elif isinstance(event, FileDone | FileFailed) and event.path:
                done += 1
                progress((min(done, total), total), desc=names.get(event.path, Path(event.path).name), unit="files")

        progress((0, max(total, 1)), desc="reading", unit="files")
        try:
            report = self.app.ingestor.ingest_paths(paths, progress=on_progress) if paths else IngestReport()
        finally:
            # The store keeps the article text; Gradio's copy of the upload is not needed again
            # (it would stay in the temp folder for as long as the server runs).
            for p in paths:
                p.unlink(missing_ok=True)
        report.failures.extend(FileFailure(name, "refused: not a file of this upload") for name in refused)
        return (fmt_corpus.ingest_report_html(report, names), *self.corpus_views())

    def remove(self, article_id: str | None):
        if not article_id:
            return ("<p>Choose an article to remove.</p>", *self.corpus_views())
        removed = self.app.store.remove_article(article_id)
        msg = f"removed {article_id}" if removed else f"no article with id {article_id}"
        return (f"<p>{fmt.esc(msg)}</p>", *self.corpus_views())
