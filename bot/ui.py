"""The web UI (Gradio Blocks): a chat with a sources panel beside it, and a corpus tab.

Thin: it receives the :class:`bot.wiring.App`, calls ``app.chain.stream`` / ``app.ingestor`` /
``app.store``, and formats what they return with :mod:`bot.ui_format`. No retrieval or
answering logic lives here.

Per browser session, a ``gr.State`` holds the chain results of the conversation (turn ``i`` of the
chat is ``results[i]``; a turn that got a notice instead of an answer holds the notice): they are
the ``history`` of the next question (follow-ups), the content of the sources panel and what a 👍/👎
refers to. The browser keeps them too (``gr.BrowserState``, see :mod:`bot.chats`), so a reload
brings the chat back. Links with class ``nb-open`` (citations, corpus rows) open the Article tab
through a small script (``OPENER_JS``).
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from bot import chats, feedback
from bot import ui_format as fmt
from bot.chain import EmptyStoreError
from bot.textnorm import detect_lang
from ingest.errors import ConfigError, NewsbotError
from ingest.loaders import SUPPORTED_EXTENSIONS
from ingest.pipeline import FileFailure, IngestReport

logger = logging.getLogger(__name__)

# Earlier results passed to the chain as history (follow-ups look back a few turns at most).
HISTORY_TURNS = 6

CSS = """
.nb-msg { unicode-bidi: plaintext; text-align: start; }
.nb-srcline, .nb-srcline *, .nb-notice, .nb-error { text-align: start; }
#nb-question textarea { unicode-bidi: plaintext; text-align: start; }
.nb-srcline { margin-top: .5em; font-size: .9em; opacity: .9; }
.nb-srcline ul { margin: .2em 0; padding-inline-start: 1.2em; }
a.nb-cite { text-decoration: none; font-weight: 600; cursor: pointer; }
#nb-sources-panel { max-height: 70vh; overflow-y: auto; }
.nb-turn { margin-bottom: 1.2em; }
.nb-turn-head { border-bottom: 1px solid var(--border-color-primary); padding-bottom: .2em; margin-bottom: .5em; }
.nb-turn-q { opacity: .75; }
.nb-source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .5em .7em; margin: .5em 0;
             scroll-margin: 1em; transition: box-shadow .3s; }
.nb-source.nb-active, .nb-source:target { box-shadow: 0 0 0 3px var(--color-accent); }
.nb-source-head { font-weight: 600; }
.nb-meta { font-size: .85em; opacity: .8; margin: .2em 0 .4em; overflow-wrap: anywhere; }
.nb-passage { line-height: 1.6; unicode-bidi: plaintext; }
.nb-hedge { font-size: .9em; opacity: .75; font-style: italic; margin-bottom: .3em; unicode-bidi: plaintext; text-align: start; }
.nb-badge { font-style: normal; font-size: .8em; border: 1px solid currentColor; border-radius: 4px; padding: 0 .3em; margin-inline-end: .3em; }
.nb-low { opacity: .9; }
mark.nb-quote { background: #ffe066; color: #111; padding: 0 .1em; border-radius: 2px; }
.nb-article { line-height: 1.7; max-width: 60em; }
.nb-article-head { border-bottom: 1px solid var(--border-color-primary); margin-bottom: .8em; padding-bottom: .4em;
                   position: sticky; top: 0; z-index: 1; background: var(--background-fill-primary); }
.nb-article-title { margin: .2em 0; display: inline; }
.nb-article-note { font-size: .85em; opacity: .8; margin-top: .3em; }
.nb-article-body p { unicode-bidi: plaintext; text-align: start; margin: .6em 0; }
.nb-lang { font-size: .75em; border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 0 .35em; margin-inline-start: .4em; opacity: .85; white-space: nowrap; }
mark.nb-focus { background: #ffd43b; box-shadow: 0 0 0 2px #f59f00; }
mark.nb-also { background: #fff3bf; }
sup.nb-also-n { font-size: .7em; opacity: .8; }
a.nb-open { cursor: pointer; }
b.nb-term { font-weight: 700; text-decoration: underline dotted; text-underline-offset: .2em; }
.nb-debug table, .nb-articles table { font-size: .85em; border-collapse: collapse; }
.nb-articles table { font-size: .95em; }
.nb-debug td, .nb-debug th, .nb-articles td, .nb-articles th { border: 1px solid var(--border-color-primary); padding: .2em .4em; vertical-align: top; text-align: start; }
"""

# Clicking a citation link: bring the passage into view in the sources panel and mark it.
CLICK_JS = """
() => {
  document.addEventListener('click', (ev) => {
    const open = ev.target && ev.target.closest ? ev.target.closest('a.nb-open') : null;
    if (open) {
      ev.preventDefault();
      ev.stopPropagation();
      const d = open.dataset;
      const detail = d.article !== undefined ? {article: d.article} : {turn: Number(d.turn), n: Number(d.n)};
      if (window.nbOpenArticle) window.nbOpenArticle(detail);
      return;
    }
    const a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#nb-cite-"]') : null;
    if (!a) return;
    const el = document.getElementById(a.getAttribute('href').slice(1));
    if (!el) return;
    ev.preventDefault();
    ev.stopPropagation();
    document.querySelectorAll('.nb-source.nb-active').forEach((x) => x.classList.remove('nb-active'));
    el.classList.add('nb-active');
    el.scrollIntoView({behavior: 'smooth', block: 'center'});
  }, true);
}
"""

# Links that open the article view (class nb-open, in answers, the sources panel, the corpus
# table) hand their data to the opener component, which sends it to the server as its click event.
OPENER_JS = "window.nbOpenArticle = (detail) => trigger('click', detail);"

# The article view: once it is shown, bring the highlighted sentence into view (the view may be
# drawn before its tab is visible, hence the retries).
FOCUS_JS = """
const focus = () => {
  let tries = 0;
  const go = () => {
    const mark = element.querySelector('#nb-article-focus');
    const target = mark || element.querySelector('.nb-article');
    if (target && target.getClientRects().length) {
      target.scrollIntoView({block: mark ? 'center' : 'start'});
    } else if (++tries < 60) {
      setTimeout(go, 50);
    }
  };
  go();
};
focus();
watch('value', focus);
"""

NO_LLM_NOTICE = (
    "**No LLM configured:** answers are sentences quoted from the articles. To have an LLM write "
    "answers, set `NEWSBOT_LLM_BASE_URL` and `NEWSBOT_LLM_MODEL` (and `NEWSBOT_LLM_API_KEY`), e.g. "
    "`NEWSBOT_LLM_BASE_URL=http://localhost:11434/v1 NEWSBOT_LLM_MODEL=qwen2.5` for Ollama, then "
    "restart `newsbot serve`.  \n"
    "<span dir=\"rtl\">لا يوجد نموذج لغوي: الإجابات جمل مقتبسة من المقالات.</span>"
)


def _empty_store_placeholder() -> str:
    return (
        f'<div dir="ltr">{fmt.esc(fmt.t("en", "empty_store"))}</div>'
        f'<div dir="rtl">{fmt.esc(fmt.t("ar", "empty_store"))}</div>'
    )


def _earlier_list(kept: Any) -> gr.Dropdown:
    listed = chats.choices(kept)
    return gr.Dropdown(choices=listed, value=None, visible=bool(listed))


#: Seconds an LLM question waits for a free LLM slot before it is told the LLM is busy.
LLM_SLOT_WAIT = 2.0


class _Handlers:
    """The event handlers, bound to one App (shared by all sessions)."""

    def __init__(self, app: Any) -> None:
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
        kind = "extractive" if (answerer or getattr(self.app.chain, "answerer", "extractive")) == "extractive" else "llm"
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
                kind = event.get("event")
                if kind == "retrieved":
                    debug = fmt.retrieved_html(event.get("retrieved") or [], lang)
                    yield messages, messages, results, gr.skip(), debug, ""
                elif kind == "delta":
                    written += event.get("text") or ""
                    messages[-1] = {"role": "assistant", "content": fmt.streaming_html(written)}
                    yield messages, messages, results, gr.skip(), debug, ""
                elif kind == "result":
                    result = event["result"]
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
        results.append(result)
        messages[-1] = {"role": "assistant", "content": fmt.answer_html(result, turn)}
        debug = fmt.retrieved_html(result.get("retrieved") or [], lang)
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
            view = fmt.article_html(record.as_dict() if record else None, store.article_text(article_id))
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
        view = fmt.article_html(
            record.as_dict() if record else None, store.article_text(article_id) if record else None,
            citations=same, focus=n, question=str(result.get("question") or ""), lang=result.get("language"),
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
        record = feedback.make_record(
            results[turn], verdict, history=results[:turn], user=getattr(request, "username", None)
        )
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
        examples = [[q] for q in fmt.example_questions(records)]
        return (
            fmt.articles_html(records),
            gr.Dropdown(choices=fmt.article_choices(records), value=None, allow_custom_value=True),
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

        def on_progress(event: str, path: str, detail: str) -> None:
            nonlocal done, total
            if event == "total":
                total = max(int(detail), 1)
            elif event in ("file", "failed") and path:
                done += 1
                progress((min(done, total), total), desc=names.get(path, Path(path).name), unit="files")

        progress((0, max(total, 1)), desc="reading", unit="files")
        try:
            report = self.app.ingestor.ingest_paths(paths, progress=on_progress) if paths else IngestReport()
        finally:
            # The store keeps the article text; Gradio's copy of the upload is not needed again
            # (it would stay in the temp folder for as long as the server runs).
            for p in paths:
                p.unlink(missing_ok=True)
        report.failures.extend(FileFailure(name, "refused: not a file of this upload") for name in refused)
        return (fmt.ingest_report_html(report, names), *self.corpus_views())

    def remove(self, article_id: str | None):
        if not article_id:
            return ("<p>Choose an article to remove.</p>", *self.corpus_views())
        removed = self.app.store.remove_article(article_id)
        msg = f"removed {article_id}" if removed else f"no article with id {article_id}"
        return (f"<p>{fmt.esc(msg)}</p>", *self.corpus_views())


def ui_secret(settings: Any) -> str:
    """The key of the chats kept in browsers: made once and kept with the store, so chats survive
    a restart; a fresh one for this run if it cannot be kept (chats then last until a restart)."""
    if getattr(settings, "ui_secret", None):
        return str(settings.ui_secret)
    path = Path(settings.ui_secret_path())
    try:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 16:
            return secret
    except (OSError, UnicodeDecodeError):
        pass
    secret = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secret)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip() or secret
    except OSError as exc:
        logger.warning("cannot keep the chat key in %s (%s): chats in browsers last until a restart", path, exc)
    return secret


def build_ui(app: Any) -> gr.Blocks:
    """The Gradio app for one :class:`bot.wiring.App`. Launch it with :func:`launch_options`."""
    h = _Handlers(app)
    chain = app.chain
    settings = app.settings
    answerers = ["extractive", *[name for name in getattr(chain, "chat_models", {}) if name != "extractive"]]
    llm_configured = len(answerers) > 1

    with gr.Blocks(title="newsbot", analytics_enabled=False) as demo:
        gr.Markdown("## newsbot: answers from your news articles, with the source sentence of every claim")
        if not llm_configured:
            gr.Markdown(NO_LLM_NOTICE, elem_id="nb-no-llm")
        messages_state = gr.State([])
        results_state = gr.State([])
        verdict_state = gr.State(None)  # the last 👍/👎 record, until its reason is sent
        kept_chats = gr.BrowserState(
            chats.empty(), storage_key=f"newsbot-chats-{settings.collection}", secret=ui_secret(settings)
        )
        # Receives "open this article" from links anywhere on the page (OPENER_JS, CLICK_JS).
        opener = gr.HTML("", elem_id="nb-opener", js_on_load=OPENER_JS, container=False, padding=False)

        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="nb-chat",
                            label="Chat",
                            height=520,
                            latex_delimiters=[],
                            feedback_options=("Like", "Dislike"),
                            buttons=[],
                            placeholder=None,
                        )
                        with gr.Row(visible=False, elem_id="nb-reason") as reason_row:
                            reason = gr.Dropdown(
                                list(feedback.REASONS),
                                value=None,
                                allow_custom_value=True,
                                label="Thanks! Why? (optional: choose or type one line)",
                                scale=5,
                                elem_id="nb-reason-text",
                            )
                            reason_send = gr.Button("Send", size="sm", scale=1, elem_id="nb-reason-send")
                        with gr.Row():
                            question = gr.Textbox(
                                elem_id="nb-question",
                                show_label=False,
                                placeholder="Ask a question about the articles… / اطرح سؤالًا عن المقالات…",
                                scale=5,
                                lines=1,
                                max_lines=4,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="nb-send")
                        with gr.Row():
                            new_chat = gr.Button("New chat", size="sm", elem_id="nb-new-chat", scale=1)
                            earlier = gr.Dropdown(
                                [], value=None, label="Earlier chats (kept in this browser)", scale=3,
                                elem_id="nb-earlier", visible=False,
                            )
                        examples = gr.Dataset(
                            components=[question],
                            samples=[[""]],
                            label="Examples",
                            elem_id="nb-examples",
                            visible=False,
                        )
                        with gr.Accordion("Settings", open=False):
                            k = gr.Slider(1, 20, value=settings.k, step=1, label="Passages to retrieve")
                            answerer = gr.Dropdown(
                                answerers, value=getattr(chain, "answerer", "extractive"), label="Answerer"
                            )
                        with gr.Accordion("Retrieval debug", open=False):
                            debug = gr.HTML("", elem_id="nb-debug", js_on_load=None)
                    with gr.Column(scale=2):
                        sources = gr.HTML(fmt.sources_html([]), elem_id="nb-sources-panel", js_on_load=None)

            with gr.Tab("Article", id="article"):
                back = gr.Button("← Back to the chat", size="sm", elem_id="nb-back")
                article_view = gr.HTML(fmt.article_placeholder_html(), elem_id="nb-article", js_on_load=FOCUS_JS)

            with gr.Tab("Corpus", id="corpus"):
                upload = gr.File(
                    label="Upload articles (" + " ".join(SUPPORTED_EXTENSIONS) + ")",
                    file_count="multiple",
                    file_types=list(SUPPORTED_EXTENSIONS),
                    type="filepath",
                    elem_id="nb-upload",
                )
                ingest_btn = gr.Button("Ingest", variant="primary", elem_id="nb-ingest")
                report = gr.HTML("", elem_id="nb-ingest-report", js_on_load=None)
                table = gr.HTML(fmt.articles_html([]), elem_id="nb-articles", js_on_load=None)
                with gr.Row():
                    # Custom values: the /remove API takes any id (the choices fill only in a browser
                    # session); remove() says when there is no such article.
                    to_remove = gr.Dropdown([], label="Article to remove", scale=4, allow_custom_value=True)
                    remove_btn = gr.Button("Remove", variant="stop", scale=1)
                refresh = gr.Button("Refresh list", size="sm")

        corpus_outputs = [table, to_remove, examples, chatbot]
        chat_inputs = [question, k, answerer, messages_state, results_state]
        chat_outputs = [chatbot, messages_state, results_state, sources, debug, question]
        shown = [*chat_outputs, kept_chats, earlier]
        private: dict[str, Any] = {"api_visibility": "private"}
        # Twice NEWSBOT_CONCURRENCY: half for LLM answers, half for extractive ones (Handler._slots).
        chat_opts: dict[str, Any] = {"concurrency_limit": 2 * settings.concurrency, "concurrency_id": "chat"}

        keep: dict[str, Any] = {"fn": h.keep, "inputs": [results_state, kept_chats], "outputs": [kept_chats, earlier], "queue": False,
                **private}
        question.submit(h.respond, chat_inputs, chat_outputs, api_name="chat", **chat_opts).then(**keep)
        send.click(h.respond, chat_inputs, chat_outputs, **private, **chat_opts).then(**keep)
        new_chat.click(h.new_chat, [results_state, kept_chats], shown, **private, queue=False)
        chatbot.clear(h.new_chat, [results_state, kept_chats], shown, **private, queue=False)  # its trash icon
        earlier.select(h.open_chat, [earlier, results_state, kept_chats], shown, **private, queue=False)
        examples.click(lambda sample: sample[0] if sample else "", examples, question, **private)

        chatbot.like(h.feedback, [results_state], [reason_row, verdict_state, results_state], **private).then(**keep)
        reason_send.click(h.feedback_reason, [reason, verdict_state], [reason_row, verdict_state, reason], **private)

        opener.click(h.open_article, [results_state], [article_view, tabs], **private)
        back.click(lambda: gr.Tabs(selected="chat"), None, tabs, **private, queue=False)

        corpus_opts: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "corpus"}
        ingest_btn.click(h.ingest, upload, [report, *corpus_outputs], api_name="ingest", **corpus_opts)
        remove_btn.click(h.remove, to_remove, [report, *corpus_outputs], api_name="remove", **corpus_opts)
        refresh.click(h.corpus_views, None, corpus_outputs, **private)
        demo.load(h.corpus_views, None, corpus_outputs, **private)
        demo.load(h.restore, [messages_state, kept_chats], shown, **private, queue=False)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``NEWSBOT_AUTH=user:password`` → ``(user, password)``."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("NEWSBOT_AUTH must be user:password (both non-empty)")
    return user, password


class LoginGuard:
    """The web UI's login check (``NEWSBOT_AUTH``), with a lockout against password guessing.

    After ``free_failures`` wrong logins in a row, every login (right or wrong) is refused for
    ``base_lockout`` seconds, doubling with each further failure up to ``max_lockout``; a right
    login resets the count. Without it a script tried 200 passwords in 1.2 s. The lockout is for
    the whole server, not per address (Gradio does not pass the client to the check): under an
    attack the real user waits too, at most ``max_lockout`` after it stops.
    """

    def __init__(
        self, user: str, password: str, *, free_failures: int = 5, base_lockout: float = 2.0,
        max_lockout: float = 300.0, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.free_failures, self.base_lockout, self.max_lockout = free_failures, base_lockout, max_lockout
        self._clock = clock
        self._lock = threading.Lock()
        self.failures = 0
        self.locked_until = 0.0

    def __call__(self, username: str, password: str) -> bool:
        with self._lock:
            now = self._clock()
            if now < self.locked_until:
                return False
            ok = hmac.compare_digest(str(username).encode(), self._user) & hmac.compare_digest(
                str(password).encode(), self._password
            )
            if ok:
                self.failures = 0
                return True
            self.failures += 1
            if self.failures >= self.free_failures:
                wait = self.base_lockout * 2 ** (self.failures - self.free_failures)
                self.locked_until = now + min(self.max_lockout, wait)
                logger.warning("%d failed logins in a row: logins refused for %.0f s", self.failures, min(self.max_lockout, wait))
            return False


def launch_options(app: Any) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (assets, login, upload size limit)."""
    s = app.settings
    return {
        "css": CSS,
        "js": CLICK_JS,
        "auth": LoginGuard(*credentials) if (credentials := parse_auth(s.auth)) else None,
        "max_file_size": s.max_file_bytes(),
        "share": False,
        "ssr_mode": False,
        "show_error": False,
        "footer_links": ["api", "settings"],
    }


def _warm_keyword_index(chain: Any) -> None:
    try:
        chain.retriever.sync()
    except Exception:  # the first question will sync again and report what is wrong
        logger.warning("loading the keyword index at start failed", exc_info=True)


def serve(app: Any, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the app and serve it until interrupted (``newsbot serve``)."""
    options = launch_options(app)  # a bad NEWSBOT_AUTH fails before anything loads
    chain = app.chain  # opens the store
    # The keyword index loads (or is built) while the model loads: a first question waits for
    # whichever is slower, not for both one after the other.
    threading.Thread(target=_warm_keyword_index, args=(chain,), name="keyword-index-warm-up", daemon=True).start()
    vector = app.query_embeddings.embed_query("warm up")
    app.store.query(vector, 1)  # Chroma loads its vector index on the first query
    demo = build_ui(app)
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("newsbot is listening on %s: anyone who can reach it can use it%s", host,
                       "" if options["auth"] else " (set NEWSBOT_AUTH=user:password to require a login)")
    try:
        demo.launch(server_name=host, server_port=port, inbrowser=False, quiet=False, **options)
    except OSError as exc:  # port taken, address not available
        raise ConfigError(f"cannot listen on {host}:{port}: {str(exc).splitlines()[0]} (choose another --port)") from None
